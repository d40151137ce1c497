"""Shared fixtures: a tiny world data set (made by the real TypeScript generator) and
tiny trained runs, built once per test session."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

TRAINING = Path(__file__).resolve().parent.parent
ROOT = TRAINING.parent
sys.path.insert(0, str(TRAINING))

TINY = {"image_size": 32, "patch_size": 8, "vision_dim": 32, "vision_layers": 1, "vision_heads": 2,
        "dim": 32, "layers": 2, "heads": 2, "mlp_hidden": 64, "lora_rank": 4}

torch.set_num_threads(2)


def train(args, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the training script as a user would (nothing imports train.py)."""
    out = subprocess.run([sys.executable, str(TRAINING / "train.py"), "--threads", "2", *args], cwd=ROOT,
                         capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"train.py {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out


def make_dataset(out: Path, split: str, count: int, size: int = 32) -> Path:
    subprocess.run(["npx", "tsx", "world/cli.ts", "dataset", "--split", split, "--count", str(count), "--size", str(size),
                    "--seed", "9", "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("world") / "test", "test", 48)


@pytest.fixture(scope="session")
def tiny_runs(tiny_data, tmp_path_factory):
    """A stage-1 run and a stage-2 run on top of it, a few steps each."""
    root = tmp_path_factory.mktemp("runs")
    base, f2b = root / "base", root / "fwd2bot"
    common = ["--data", str(tiny_data), "--batch", "4", "--warmup", "2", "--log-every", "5", "--ckpt-every", "5"]
    train(["--stage", "1", "--run", str(base), "--steps", "6", "--model", json.dumps(TINY), *common])
    train(["--stage", "2", "--run", str(f2b), "--base", str(base), "--steps", "6", *common])
    return base, f2b


@pytest.fixture(scope="session")
def tiny_pack(tiny_runs, tiny_data, tmp_path_factory) -> Path:
    """The stage-2 tiny run exported as a model pack (a few test images evaluated)."""
    from export import export_pack
    out = tmp_path_factory.mktemp("pack") / "tiny"
    export_pack(tiny_runs[1], tiny_data, out, images=4, pack_id="tiny")
    return out


@pytest.fixture(scope="session")
def tok():
    from data import COMPRESS_PROMPT
    from tokenizer import Tokenizer, world_words
    return Tokenizer.from_words(world_words([COMPRESS_PROMPT]))


def tiny_model(tok, **over):
    """A seeded tiny Glimpse (TINY config, `over` changes)."""
    from model import Glimpse, ModelConfig
    torch.manual_seed(0)
    return Glimpse(ModelConfig(vocab_size=len(tok), **{**TINY, **over}))
