"""Unpack: a model pack gives back the exact PyTorch checkpoints it was exported from, and
those continue training; a pack that is not such an export is refused with a reason."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT, TINY, TRAINING, train
from export import lineage
from fwd2bot import is_fwd2bot_parameter
from unpack import UnpackError, unpack


@pytest.fixture(scope="module")
def pack(tiny_pack):
    return tiny_pack


def state(path):
    return torch.load(path, map_location="cpu")


def older_pack(pack, tmp_path, drop=("config", "logit_scale")):
    """The pack as exports before the config and temperature were recorded wrote it."""
    old = tmp_path / "old"
    shutil.copytree(pack, old)
    meta = json.loads((old / "pack.json").read_text())
    for key in drop:
        del meta["training"][key]
    (old / "pack.json").write_text(json.dumps(meta))
    return old


def test_unpack_gives_back_every_weight_of_the_exported_run(pack, tiny_runs, tmp_path):
    unpack(pack, tmp_path / "out")
    original = state(tiny_runs[1] / "final.pt")
    got = state(tmp_path / "out" / "fwd2bot" / "final.pt")
    assert got["config"] == original["config"] and got["fwd2bot"] == original["fwd2bot"]
    assert got["model"].keys() == original["model"].keys()
    for name, value in original["model"].items():
        assert torch.equal(got["model"][name], value), name
    base = state(tmp_path / "out" / "base" / "final.pt")
    trained_base = state(tiny_runs[0] / "final.pt")
    for name, value in trained_base["model"].items():
        if not is_fwd2bot_parameter(name):
            assert torch.equal(base["model"][name], value), name
    assert base["fwd2bot"] is None and base["config"]["lora_rank"] == trained_base["config"]["lora_rank"]
    assert (tmp_path / "out" / "base" / "tokenizer.json").read_text() == (pack / "tokenizer.json").read_text()
    # a run continued from the unpacked base keeps the pack's training history in its lineage
    recorded = json.loads((pack / "pack.json").read_text())["training"]["stage1"]
    later = tmp_path / "later"
    later.mkdir()
    (later / "run.json").write_text(json.dumps({"args": {"run": "later", "init": str(tmp_path / "out" / "base" / "final.pt")}}))
    assert lineage(later) == recorded + [{"run": "later", "init": str(tmp_path / "out" / "base" / "final.pt")}]


def test_an_older_pack_rebuilds_its_config_and_fits_the_temperature(pack, tiny_runs, tiny_data, tmp_path):
    old = older_pack(pack, tmp_path)
    with pytest.raises(UnpackError, match="--data"):
        unpack(old, tmp_path / "no-data")
    note = unpack(old, tmp_path / "out", data=tiny_data)
    assert note["logit_scale"]["from"].startswith("fitted")
    original = state(tiny_runs[1] / "final.pt")
    got = state(tmp_path / "out" / "fwd2bot" / "final.pt")
    assert got["config"] == original["config"]
    for name, value in original["model"].items():
        if name != "logit_scale":
            assert torch.equal(got["model"][name], value), name
    assert 0.0 <= float(got["model"]["logit_scale"]) <= np.log(100) + 1e-6


def test_unpacked_runs_continue_training(pack, tiny_data, tmp_path):
    out = tmp_path / "out"
    unpack(pack, out)
    common = ["--data", str(tiny_data), "--batch", "4", "--warmup", "1", "--steps", "2", "--log-every", "1"]
    train(["--stage", "1", "--run", str(tmp_path / "more-base"), "--init", str(out / "base" / "final.pt"),
           "--model", json.dumps(TINY), *common])
    train(["--stage", "2", "--run", str(tmp_path / "more-f2b"), "--base", str(out / "base"),
           "--init-adapters", str(out / "fwd2bot" / "final.pt"), *common])
    assert (tmp_path / "more-f2b" / "final.pt").is_file()


@pytest.mark.parametrize("fault", ["truncated-llm", "empty-vision", "other-dims", "short-summary", "other-weights"])
def test_a_pack_that_is_not_such_an_export_is_refused_with_the_reason(pack, tmp_path, fault):
    bad = tmp_path / "bad"
    shutil.copytree(pack, bad)
    if fault == "truncated-llm":
        data = (bad / "llm.onnx").read_bytes()
        (bad / "llm.onnx").write_bytes(data[: len(data) // 2])
    elif fault == "empty-vision":
        (bad / "vision.onnx").write_bytes(b"")
    elif fault == "other-dims":  # pack.json says another model than its graphs hold
        meta = json.loads((bad / "pack.json").read_text())
        meta["training"]["config"]["mlp_hidden"] += 8
        (bad / "pack.json").write_text(json.dumps(meta))
    elif fault == "short-summary":
        (bad / "summary.f32").write_bytes((bad / "summary.f32").read_bytes()[:-4])
    else:  # the tied output matrix disagrees with embed_tokens.f32
        emb = np.fromfile(bad / "embed_tokens.f32", dtype="<f4")
        emb[0] += 1.0
        emb.tofile(bad / "embed_tokens.f32")
    with pytest.raises(UnpackError) as err:
        unpack(bad, tmp_path / "out")
    assert str(err.value)
    assert not (tmp_path / "out" / "fwd2bot" / "final.pt").exists()


def test_the_command_line_names_the_pack_and_the_problem(tmp_path):
    out = subprocess.run([sys.executable, str(TRAINING / "unpack.py"), "--pack", str(tmp_path / "nowhere"),
                          "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0
    assert "nowhere" in out.stderr and "pack.json" in out.stderr
