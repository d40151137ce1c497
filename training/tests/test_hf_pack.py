"""The whole real-model path on the tiny checkpoints, as a user runs it: world data in the
real formats (`npm run world -- llava` / `wds`), `npm run pack:from-hf` (stage 2, resumed
once, then the version-2 export), and the TypeScript engine loading the pack and
reproducing its PyTorch parity fixtures (vision, compression, text, greedy generation)."""
import hashlib
import os
import json
import re
import subprocess

import onnx
import pytest
import torch

from conftest import ROOT, TRAINING
from hf_fixtures import tiny_hf  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def world_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("hf-world")
    for args in (["llava", "--count", "10", "--size", "72", "--out", str(out / "llava")],
                 ["wds", "--count", "12", "--size", "64", "--shard-size", "8", "--out", str(out / "wds")]):
        subprocess.run(["npx", "tsx", "world/cli.ts", *args, "--seed", "5"], cwd=ROOT, check=True, capture_output=True)
    return out


def pack_from_hf(checkpoint, data, out, *extra, finishes=True) -> str:
    cmd = ["bash", "scripts/training-python.sh", str(TRAINING / "pack_from_hf.py"), "--checkpoint", str(checkpoint),
           "--llava-data", str(data / "llava" / "llava_shapes.json"), "--images", str(data / "llava" / "images"),
           "--captions", str(data / "wds"), "--out", str(out), "--steps", "4", "--batch", "2", "--warmup", "1",
           "--lr", "1e-2", "--eval-records", "2", "--eval-retrieval", "4", *extra]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert (done.returncode == 0) == finishes, done.stderr[-3000:]
    return done.stdout + done.stderr


def engine_parity(pack) -> str:
    """The engine's parity suite, the bundled pack's (test/engine/parity.test.ts), run on this pack's
    PyTorch fixtures: vision, compression, text ids and embeddings, prompts and greedy generation."""
    env = {k: v for k, v in os.environ.items() if k != "NODE_TEST_CONTEXT"}
    done = subprocess.run(["node", "--import", "tsx", "--test", str(ROOT / "test" / "engine" / "parity.test.ts")], cwd=ROOT,
                          capture_output=True, text=True, env={**env, "GLIMPSE_TEST_PACK": str(pack)})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"^# pass [1-9]\d*$", done.stdout, re.M) and re.search(r"^# fail 0$", done.stdout, re.M), done.stdout[-2000:]
    return done.stdout


@pytest.mark.parametrize("name,extra", [("llava", ["--quantize", "int8", "--external-data", "always"]),
                                        ("llava-onevision", [])])
def test_pack_from_hf_trains_exports_and_the_engine_reproduces_it(tiny_hf, world_data, tmp_path, name, extra):  # noqa: F811
    out = tmp_path / "pack"
    if name == "llava":  # stopped after one step, then resumed by the same command
        stopped = pack_from_hf(tiny_hf / name, world_data, out, "--max-minutes", "0", *extra, finishes=False)
        assert "stopping at step 1" in stopped and "run the same command again to resume" in stopped and not out.exists()
        log = pack_from_hf(tiny_hf / name, world_data, out, *extra)
        assert "resuming" in log and "at step 1" in log
    else:
        pack_from_hf(tiny_hf / name, world_data, out, *extra)
    run = tmp_path / ".pack.run"
    steps = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps and all(v == v and v < 50 for s in steps for k, v in s.items() if k.startswith(("ar_", "disc")))
    trained = torch.load(run / "final.pt", map_location="cpu")["trained"]
    assert any(k.endswith("lora_b") and v.abs().sum() > 0 for k, v in trained.items()), "the adapters did not move"

    pack = json.loads((out / "pack.json").read_text())
    config = json.loads((tiny_hf / name / "config.json").read_text())
    assert pack["version"] == 2 and pack["id"] == "pack"
    assert pack["dims"]["kv_heads"] == config["text_config"]["num_key_value_heads"]
    assert pack["special_tokens"]["image"] == config["image_token_index"]
    assert pack["tensors"]["embed_tokens"]["dtype"] == "float16"
    assert (out / "tokenizer.json").read_bytes() == (tiny_hf / name / "tokenizer.json").read_bytes()
    for rel, info in pack["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == info["sha256"], rel
    if "--quantize" in extra:
        assert pack["quantization"]["weights"] == "int8" and pack["graphs"]["llm"]["external_data"] == ["llm.onnx.data"]
        graph = onnx.load(str(out / "llm.onnx"), load_external_data=False)
        assert sum(n.op_type == "DequantizeLinear" for n in graph.graph.node) == pack["quantization"]["tensors"]
        # without it onnxruntime fuses them into MatMulNBits: 45x slower decoding, or int8 activations off the parity
        assert pack["quantization"]["session_config"]["session.disable_quant_qdq"] == "1"
    else:
        assert "quantization" not in pack and "external_data" not in pack["graphs"]["llm"]

    engine_parity(out)  # loadPack validates pack.json and every file first


def test_two_process_data_parallel_run(tiny_hf, world_data, tmp_path):  # noqa: F811
    """The multi-GPU path on CPU: two processes (gloo) average their gradients and finish
    together; what torchrun would set up is set by hand (Debian's torch 1.13 torchrun fails
    to start on Python 3.11)."""
    args = [str(TRAINING / "hf_train.py"), "--checkpoint", str(tiny_hf / "llava-onevision"),
            "--llava-data", str(world_data / "llava" / "llava_shapes.json"), "--images", str(world_data / "llava" / "images"),
            "--captions", str(world_data / "wds"), "--run", str(tmp_path / "run"), "--steps", "3", "--batch", "2",
            "--threads", "1", "--log-every", "1"]
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(29400 + os.getpid() % 500), "WORLD_SIZE": "2"}
    procs = [subprocess.Popen(["bash", "scripts/training-python.sh", *args], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env={**env, "RANK": str(r), "LOCAL_RANK": str(r)})
             for r in (0, 1)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs[0][-2000:] + outputs[1][-2000:]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["world_size"] == 2
    assert "finished 3 steps" in outputs[0] and (tmp_path / "run" / "final.pt").exists()
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 3  # rank 0 alone logs
