"""A broken or missing data set gives a clear error, from the loader and from train.py."""
import json
import re
import shutil

import pytest

from data import DatasetError, WorldDataset
from conftest import train


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist.*npm run world -- dataset"):
        WorldDataset(tmp_path / "nowhere")


def test_missing_manifest(tmp_path):
    (tmp_path / "ds").mkdir()
    with pytest.raises(DatasetError, match="manifest.json is missing"):
        WorldDataset(tmp_path / "ds")


def test_unreadable_manifest(tiny_data, tmp_path):
    ds = tmp_path / "ds"
    shutil.copytree(tiny_data, ds)
    (ds / "manifest.json").write_text("{ not json")
    with pytest.raises(DatasetError, match="manifest.json is unreadable"):
        WorldDataset(ds)


def test_truncated_images(tiny_data, tmp_path):
    ds = tmp_path / "ds"
    shutil.copytree(tiny_data, ds)
    data = (ds / "images.u8").read_bytes()
    (ds / "images.u8").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"images.u8 is \d+ bytes, expected \d+"):
        WorldDataset(ds)


def test_missing_records(tiny_data, tmp_path):
    ds = tmp_path / "ds"
    shutil.copytree(tiny_data, ds)
    lines = (ds / "scenes.jsonl").read_text().splitlines()
    (ds / "scenes.jsonl").write_text("\n".join(lines[:-3]) + "\n")
    with pytest.raises(DatasetError, match="45 scene records for 48 images"):
        WorldDataset(ds)


def test_train_reports_a_bad_data_path_and_writes_nothing(tmp_path):
    out = train(["--stage", "1", "--data", str(tmp_path / "nowhere"), "--run", str(tmp_path / "run")], check=False)
    assert out.returncode != 0 and re.search("train.py: no data set at .*nowhere", out.stderr)
    assert not (tmp_path / "run").exists()


def test_train_rejects_an_image_size_the_model_was_not_built_for(tiny_data, tmp_path):
    out = train(["--stage", "1", "--data", str(tiny_data), "--run", str(tmp_path / "run"),
                 "--model", json.dumps({"image_size": 64})], check=False)
    assert out.returncode != 0 and "images are 32 px but the model expects 64" in out.stderr


def continue_at_lr_0(tiny_data, init, run):
    """One stage-1 step at learning rate 0 from `init`: the weights must come out unchanged."""
    from conftest import TINY
    train(["--stage", "1", "--data", str(tiny_data), "--run", str(run), "--init", str(init),
           "--steps", "1", "--batch", "2", "--lr", "0", "--warmup", "1", "--model", json.dumps(TINY)])
    return run


def test_init_continues_from_a_finished_run(tiny_runs, tiny_data, tmp_path):
    import torch
    base, _ = tiny_runs
    before = torch.load(base / "final.pt", map_location="cpu")
    after = torch.load(continue_at_lr_0(tiny_data, base / "final.pt", tmp_path / "more") / "final.pt", map_location="cpu")
    # lr 0: the weights are exactly the ones it started from
    assert torch.equal(after["model"]["decoder.embed.weight"], before["model"]["decoder.embed.weight"])


def test_init_refuses_another_model_config(tiny_runs, tiny_data, tmp_path):
    base, _ = tiny_runs
    out = train(["--stage", "1", "--data", str(tiny_data), "--run", str(tmp_path / "x"), "--init", str(base / "final.pt"),
                 "--steps", "1", "--model", json.dumps({"image_size": 32, "dim": 64})], check=False)
    assert out.returncode != 0 and "was trained with another model config" in out.stderr


def test_init_from_a_checkpoint_carries_the_vision_probe(tiny_runs, tiny_data, tmp_path):
    import torch
    base, _ = tiny_runs
    before = torch.load(base / "ckpt.pt", map_location="cpu")
    after = torch.load(continue_at_lr_0(tiny_data, base / "ckpt.pt", tmp_path / "more") / "ckpt.pt", map_location="cpu")
    for name, value in before["probe"].items():
        assert torch.equal(after["probe"][name], value), name


def test_stage2_can_widen_the_adapters_but_not_change_the_base(tiny_runs, tiny_data, tmp_path):
    import torch
    base, _ = tiny_runs
    common = ["--stage", "2", "--data", str(tiny_data), "--base", str(base), "--steps", "1", "--batch", "4", "--warmup", "1"]
    train([*common, "--run", str(tmp_path / "r4"), "--model", json.dumps({"lora_rank": 2, "lora_alpha": 4})])
    final = torch.load(tmp_path / "r4" / "final.pt", map_location="cpu")
    assert final["config"]["lora_rank"] == 2
    assert final["model"]["decoder.blocks.0.attn.q.lora_a"].shape[1] == 2
    out = train([*common, "--run", str(tmp_path / "dim"), "--model", json.dumps({"dim": 64})], check=False)
    assert out.returncode != 0 and "stage 2 can only change lora_rank, lora_alpha" in out.stderr
    assert not (tmp_path / "dim" / "final.pt").exists()


def test_a_manifest_without_the_vocabulary_asks_for_a_new_data_set(tiny_data, tmp_path):
    ds = tmp_path / "ds"
    shutil.copytree(tiny_data, ds)
    manifest = json.loads((ds / "manifest.json").read_text())
    assert manifest["vocabulary"]["colours"][0] == "red"  # the world writes its class lists
    del manifest["vocabulary"]
    (ds / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="no vocabulary.*regenerate"):
        WorldDataset(ds)
