"""What the training scripts (train.py on the shapes world, hf_train.py on a real
checkpoint) share about a run folder: the options every run takes, the seeding and the
"already finished" check, resuming from RUN/ckpt.pt, and RUN/log.jsonl, one JSON line
per logged step with the mean of each metric since the line before."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch


def add_run_options(ap: argparse.ArgumentParser, steps: int, batch: int, lr: Optional[float], warmup: int,
                    helps: Optional[Dict[str, str]] = None) -> None:
    """--run, --steps, --batch, --lr, --warmup, --seed, --threads, --log-every, --ckpt-every and
    --max-minutes, with the script's defaults; `helps` adds a script's own help text to an option."""
    helps = helps or {}
    ap.add_argument("--run", required=True, help=helps.get("run", "run folder: checkpoints and logs"))
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--batch", type=int, default=batch, help=helps.get("batch"))
    ap.add_argument("--lr", type=float, default=lr, help=helps.get("lr", "peak learning rate"))
    ap.add_argument("--warmup", type=int, default=warmup)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=None, help="checkpoint and stop after this long (resume later)")


def open_run(args: argparse.Namespace) -> Optional[Path]:
    """Sets torch's threads and seed; the run folder, or None (said out loud) when the run already finished."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    run = Path(args.run)
    if (run / "final.pt").exists():
        print(f"{run} already finished ({run / 'final.pt'}); delete the folder to train again", flush=True)
        return None
    return run


def resume(run: Path, restore: Callable[[dict], None]) -> int:
    """The step to start at: 0, or the step RUN/ckpt.pt was saved at once `restore` has loaded its state."""
    ckpt = run / "ckpt.pt"
    if not ckpt.exists():
        return 0
    state = torch.load(ckpt, map_location="cpu")
    restore(state)
    print(f"resuming {run} at step {state['step']}", flush=True)
    return state["step"]


class MetricsLog:
    """Each step's metrics gathered until the next logged step, then written to `file` (appended)
    and printed as one JSON line: the caller's fields, then the mean of each metric."""

    def __init__(self, file: Optional[Path]):
        self.out = open(file, "a") if file is not None else None  # None: this process does not log
        self.window: Dict[str, List[float]] = {}

    def add(self, metrics: Dict[str, float]) -> None:
        for k, v in metrics.items():
            self.window.setdefault(k, []).append(v)

    def write(self, fields: dict) -> None:
        if self.out is None:
            return
        entry = {**fields, **{k: round(sum(v) / len(v), 4) for k, v in self.window.items()}}
        self.out.write(json.dumps(entry) + "\n")
        self.out.flush()
        print(json.dumps(entry), flush=True)
        self.window = {}
