"""The safetensors reader and writer (training/safetensors_io.py): round trips of every dtype
real checkpoints use, Hugging Face's sharded layout, damaged files, and agreement with the
`safetensors` package where it is installed."""
import json
import struct

import pytest
import torch

from safetensors_io import SafetensorsError, checkpoint_files, load_checkpoint, load_file, read_header, save_file, save_sharded


def sample_tensors():
    g = torch.Generator().manual_seed(0)
    return {"a.f32": torch.randn(3, 5, generator=g), "b.f16": torch.randn(7, generator=g).half(),
            "c.bf16": torch.randn(2, 3, 4, generator=g).to(torch.bfloat16), "d.i64": torch.arange(-3, 9).view(3, 4),
            "e.i8": torch.tensor([-128, 0, 127], dtype=torch.int8), "f.bool": torch.tensor([True, False]),
            "g.scalar": torch.tensor(2.5), "h.empty": torch.zeros(0, 4)}


def test_round_trip_every_dtype(tmp_path):
    tensors = sample_tensors()
    save_file(tensors, tmp_path / "m.safetensors", {"format": "pt"})
    raw = (tmp_path / "m.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert n % 8 == 0 and header["__metadata__"] == {"format": "pt"}
    assert header["c.bf16"]["dtype"] == "BF16" and header["g.scalar"]["shape"] == []
    back = load_file(tmp_path / "m.safetensors")
    assert back.keys() == tensors.keys()
    for name, t in tensors.items():
        assert back[name].dtype == t.dtype and back[name].shape == t.shape and torch.equal(back[name], t), name
    assert load_file(tmp_path / "m.safetensors", ["b.f16"]).keys() == {"b.f16"}


def test_sharded_checkpoint_with_index(tmp_path):
    tensors = sample_tensors()
    save_sharded(tensors, tmp_path, 3)
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert sorted(set(index["weight_map"].values())) == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    files = checkpoint_files(tmp_path)
    assert files.keys() == tensors.keys()
    back = load_checkpoint(tmp_path)
    assert all(torch.equal(back[k], v) for k, v in tensors.items())


def test_damaged_files_are_one_clear_error(tmp_path):
    save_file({"w": torch.ones(4, 4)}, tmp_path / "m.safetensors")
    raw = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "short.safetensors").write_bytes(raw[:-8])
    with pytest.raises(SafetensorsError, match="tensor w .* wrong byte range"):
        load_file(tmp_path / "short.safetensors")
    (tmp_path / "huge.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(SafetensorsError, match="implausible"):
        read_header(tmp_path / "huge.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(struct.pack("<Q", 4) + b"{no}")
    with pytest.raises(SafetensorsError, match="unreadable JSON header"):
        read_header(tmp_path / "junk.safetensors")
    shards = tmp_path / "sharded"
    shards.mkdir()
    save_sharded({"x": torch.ones(2), "y": torch.ones(3)}, shards, 2)
    (shards / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(SafetensorsError, match="shard model-00002-of-00002.safetensors .* is missing"):
        checkpoint_files(shards)
    with pytest.raises(SafetensorsError, match="no model.safetensors"):
        checkpoint_files(tmp_path / "sharded" / ".." / "nowhere")


def test_agrees_with_the_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    tensors = {k: v for k, v in sample_tensors().items() if k != "h.empty"}
    save_file(tensors, tmp_path / "ours.safetensors")
    theirs = st.load_file(str(tmp_path / "ours.safetensors"))
    assert all(torch.equal(theirs[k], v) for k, v in tensors.items())
    st.save_file(tensors, str(tmp_path / "theirs.safetensors"))
    ours = load_file(tmp_path / "theirs.safetensors")
    assert all(torch.equal(ours[k], v) for k, v in tensors.items())
