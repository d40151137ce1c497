"""The paper's ablations in the shapes world (issue #18); `npm run ablations` runs them all.

  python3 training/ablations.py prepare            the stage-1 base folder, checks the data
  python3 training/ablations.py runs               the trained runs, in order
  python3 training/ablations.py train RUN          stage 2 of one run (resumes; skips a finished one)
  python3 training/ablations.py eval RUN           its scores at budgets 1, 4, 16 (skips if done)
  python3 training/ablations.py mask|lora-norms|baselines
  python3 training/ablations_report.py             ablations.json, the REPORT section, the plot

Every trained row starts from the same stage-1 base (checkpoints/stage1-base-7700.pt),
with the same seed, data, step count, batch and budget schedule; only the switches differ.
Rows that are the same configuration share one run (ROWS).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import REDUCERS  # noqa: E402
from data import WorldDataset  # noqa: E402
from evaluate import Reader, load_run, score_readers  # noqa: E402
from fwd2bot import Fwd2BotConfig  # noqa: E402
from model import Glimpse, LoRALinear, ModelConfig  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

TRAINING = Path(__file__).resolve().parent
ROOT = TRAINING.parent
OUT = Path(os.environ.get("ABLATIONS_RUNS", ROOT / "training/runs/ablations"))
SETTINGS = {
    "base": "training/checkpoints/stage1-base-7700.pt", "tokenizer": "training/checkpoints/language1-tokenizer.json",
    "data": "data/ablations-train", "train_images": 24000, "test": "data/test", "test_images": 200,
    "steps": int(os.environ.get("ABLATIONS_STEPS", 300)), "batch": 32, "lr": 2e-3, "warmup": 30, "seed": 0,
    "model": {"lora_rank": 32, "lora_alpha": 64}, "budgets_trained": "prefix: K' from {1, 2, 4, 8, 16} per batch",
    "budgets_evaluated": [1, 4, 16], "threads": int(os.environ.get("ABLATIONS_THREADS", 1)), "lanes": 2, "seeds": 1,
    "pack": "training/checkpoints/stage2-fwd2bot.pt",
}
# row key in ablations.json -> (run folder, --fwd2bot switches); the defaults are Fwd2BotConfig's
ROWS = {
    "loss-ar": ("loss-ar", {"loss": "ar"}),
    "loss-disc": ("loss-disc", {"loss": "disc"}),
    "loss-both": ("loss-both", {"disc_weight": 1.0}),
    "loss-both-w0.03": ("default", {}),
    "adapters-stage": ("default", {}),
    "adapters-single": ("adapters-single", {"adapters": "single"}),
    "full-finetune": ("full-finetune", {"adapters": "full"}),
    "single-forward": ("single-forward", {"forward": "single"}),
    "double-forward": ("default", {}),
    "pass1-causal": ("default", {}),
    "pass1-bidirectional": ("pass1-bidirectional", {"attention": "bidirectional"}),
}
RUNS = list(dict.fromkeys(run for run, _ in ROWS.values()))
# Two lanes run side by side, one thread each: on the shared 2-core machine (load ~6) one
# 2-thread process took 13 s a step, a 1-thread one 2.1 s (OpenMP threads waiting on each other).
LANES = [["default", "loss-ar", "loss-disc", "adapters-single"], ["loss-both", "full-finetune", "single-forward", "pass1-bidirectional"]]
assert sorted(sum(LANES, [])) == sorted(RUNS)
MASKS = {"none": (), "0-3": range(0, 4), "4-7": range(4, 8), "8-11": range(8, 12), "12-15": range(12, 16),
         "first-8": range(0, 8), "last-8": range(8, 16)}
MATRICES = ("attn.q", "attn.k", "attn.v", "attn.o", "mlp.gate", "mlp.up", "mlp.down")


def switches(run: str) -> dict:
    return next(s for r, s in ROWS.values() if r == run)


def prepare() -> None:
    """The stage-1 base as a finished run folder (final.pt + tokenizer) that train.py --base reads."""
    base = OUT / "base"
    base.mkdir(parents=True, exist_ok=True)
    if not (base / "final.pt").exists():
        os.symlink(ROOT / SETTINGS["base"], base / "final.pt")
    shutil.copy(ROOT / SETTINGS["tokenizer"], base / "tokenizer.json")
    for key in ("data", "test"):
        WorldDataset(ROOT / SETTINGS[key])  # a clear error now rather than an hour in


def train(run: str, max_minutes: float) -> int:
    folder = OUT / run
    if (folder / "final.pt").exists():
        print(f"{run}: finished already", flush=True)
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    s = SETTINGS
    cmd = [sys.executable, str(TRAINING / "train.py"), "--stage", "2", "--data", str(ROOT / s["data"]), "--base", str(OUT / "base"),
           "--run", str(folder), "--steps", str(s["steps"]), "--batch", str(s["batch"]), "--lr", str(s["lr"]),
           "--warmup", str(s["warmup"]), "--seed", str(s["seed"]), "--threads", str(s["threads"]), "--log-every", "25",
           "--ckpt-every", "50", "--max-minutes", str(max_minutes), "--model", json.dumps(s["model"]),
           "--fwd2bot", json.dumps(switches(run))]
    print(f"{run}: training ({' '.join(cmd[1:])})", flush=True)
    with open(folder / "train.out", "a") as out:
        return subprocess.call(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def evaluate_run(run: str) -> None:
    folder = OUT / run
    if (folder / "eval.json").exists() or not (folder / "final.pt").exists():
        print(f"{run}: {'evaluated already' if (folder / 'eval.json').exists() else 'not trained yet'}", flush=True)
        return
    model, tok, f2b = load_run(folder)
    readers = {f"fwd2bot-{k}": Reader(model, tok, f2b, k) for k in SETTINGS["budgets_evaluated"]}
    write_scores(folder / "eval.json", readers)


def write_scores(path: Path, readers: dict) -> None:
    began = time.time()
    scores = score_readers(readers, WorldDataset(ROOT / SETTINGS["test"]), SETTINGS["test_images"])
    for s in scores.values():
        s.pop("examples", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"scores": scores, "seconds": round(time.time() - began, 1)}, indent=1) + "\n")
    print(f"wrote {path} ({time.time() - began:.0f} s)", flush=True)


def load_checkpoint(path: Path) -> Glimpse:
    payload = torch.load(path, map_location="cpu")
    model = Glimpse(ModelConfig(**payload["config"]))
    model.load_state_dict(payload["model"], strict=False)  # a stage-1 checkpoint may carry no adapters
    return model.eval()


def mask_eval() -> None:
    """Fig. 6: the trained pack at budget 16 with groups of its compressed tokens masked out."""
    path = OUT / "mask" / "eval.json"
    if path.exists():
        print("mask: evaluated already", flush=True)
        return
    payload = torch.load(ROOT / SETTINGS["pack"], map_location="cpu")
    model = load_checkpoint(ROOT / SETTINGS["pack"])
    f2b = Fwd2BotConfig(**payload["fwd2bot"])
    tok = Tokenizer.load(ROOT / SETTINGS["tokenizer"])
    write_scores(path, {f"mask-{name}": Reader(model, tok, f2b, 16, drop=group) for name, group in MASKS.items()})


def baselines_eval() -> None:
    """Table 1: training-free reduction to K tokens on the same stage-1 base, and the base with all 64."""
    path = OUT / "baselines" / "eval.json"
    if path.exists():
        print("baselines: evaluated already", flush=True)
        return
    model = load_checkpoint(ROOT / SETTINGS["base"])
    tok = Tokenizer.load(ROOT / SETTINGS["tokenizer"])
    readers = {"base-all-64": Reader(model, tok, None, None)}
    for name, reducer in REDUCERS.items():
        readers.update({f"{name}-{k}": Reader(model, tok, None, k, reducer=reducer) for k in SETTINGS["budgets_evaluated"]})
    write_scores(path, readers)


def lora_norms(model: Glimpse) -> dict:
    """||ΔW||_F = ||scale · B A||_F of every adapter slot, per layer and matrix, and relative to ||W||_F."""
    out = {}
    for name, mod in model.named_modules():
        if isinstance(mod, LoRALinear):
            key = name.replace("decoder.blocks.", "layer")                         # e.g. layer0.attn.q
            delta = mod.scale * torch.einsum("nor,nri->noi", mod.lora_b, mod.lora_a)  # [slots, d_out, d_in]
            norms = delta.flatten(1).norm(dim=1)
            out[key] = {"delta": [round(float(v), 5) for v in norms],
                        "relative": [round(float(v / mod.base.weight.norm()), 5) for v in norms]}
    return out


def lora_norms_eval() -> None:
    path = OUT / "lora-norms.json"
    result = {}
    for run, slots in (("default", ("compress", "generate")), ("adapters-single", ("single",))):
        if not (OUT / run / "final.pt").exists():
            print(f"lora-norms: {run} not trained yet", flush=True)  # the report marks it pending
            continue
        model, _, _ = load_run(OUT / run)
        result[run] = {"slots": list(slots), "norms": lora_norms(model)}
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("prepare", "runs", "train", "eval", "mask", "lora-norms", "baselines"))
    ap.add_argument("run", nargs="?", choices=RUNS)
    ap.add_argument("--max-minutes", type=float, default=85.0, help="train: checkpoint and stop after this long")
    args = ap.parse_args(argv)
    if args.command in ("train", "eval") and args.run is None:
        ap.error(f"{args.command} needs a run: one of {', '.join(RUNS)}")
    torch.set_num_threads(SETTINGS["threads"])
    torch.manual_seed(SETTINGS["seed"])
    if args.command == "prepare":
        prepare()
    elif args.command == "runs":
        print("\n".join(" ".join(lane) for lane in LANES))  # one lane a line
    elif args.command == "train":
        sys.exit(train(args.run, args.max_minutes))
    elif args.command == "eval":
        evaluate_run(args.run)
    elif args.command == "mask":
        mask_eval()
    elif args.command == "baselines":
        baselines_eval()
    else:
        lora_norms_eval()


if __name__ == "__main__":
    main()
