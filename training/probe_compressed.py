"""Which scene attributes survive compression? Per-grid-cell linear probes (colour, shape)
on the pass-1 outputs at budget 16, against the same probes on all 64 image tokens.

  python3 training/probe_compressed.py --ckpt training/checkpoints/stage2-fwd2bot.pt --data data/test

A diagnostic, not part of the pack: the first 75 % of the images train the probes, the
rest score them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import COMPRESS_PROMPT, WorldDataset  # noqa: E402
from model import ADAPTER_COMPRESS, Glimpse, ModelConfig  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402
from probes import cell_labels  # noqa: E402


def features(model: Glimpse, ds: WorldDataset, n: int, prompt_ids: torch.Tensor):
    compressed, visual = [], []
    with torch.no_grad():
        for start in range(0, n, 100):
            idx = list(range(start, min(n, start + 100)))
            v, _ = model.image_tokens(ds.pixels(idx))                                                # [b, 64, D]
            c = model.compress(v, torch.ones(v.shape[:2], dtype=torch.long), prompt_ids, ADAPTER_COMPRESS, 16)  # [b, 16, D]
            compressed.append(c.flatten(1))
            visual.append(v.flatten(1))
    cells = cell_labels([ds.record(i) for i in range(n)], ds.vocabulary)
    labels = {k: cells[k] - 1 for k in ("colour", "shape")}  # 0-based; -1 = empty cell, not scored
    return torch.cat(compressed), torch.cat(visual), labels


def probe_accuracy(x: torch.Tensor, y: torch.Tensor, classes: int, steps: int = 300) -> float:
    """x: [N, F] features, y: [N, 9] class per cell (-1 = empty) -> held-out accuracy."""
    split = int(0.75 * len(x))
    x = (x - x[:split].mean(0)) / (x[:split].std(0) + 1e-5)
    w = torch.zeros(x.shape[1], 9 * classes, requires_grad=True)
    opt = torch.optim.Adam([w], lr=1e-3)
    for _ in range(steps):
        logits, target = (x[:split] @ w).view(split, 9, classes), y[:split]
        loss = F.cross_entropy(logits[target >= 0], target[target >= 0]) + 1e-3 * w.pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred, target = (x[split:] @ w).view(-1, 9, classes).argmax(-1), y[split:]
        return (pred[target >= 0] == target[target >= 0]).float().mean().item()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="a stage-2 final.pt")
    ap.add_argument("--data", required=True, help="a world data set folder")
    ap.add_argument("--tokenizer", help="the tokenizer.json the checkpoint was trained with (default: the one beside --ckpt)")
    ap.add_argument("--images", type=int, default=2000)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    torch.manual_seed(0)
    payload = torch.load(args.ckpt, map_location="cpu")
    model = Glimpse(ModelConfig(**payload["config"]))
    model.load_state_dict(payload["model"])
    model.eval()
    tok = Tokenizer.load(Path(args.tokenizer) if args.tokenizer else Path(args.ckpt).parent / "tokenizer.json")
    ds = WorldDataset(args.data)
    compressed, visual, labels = features(model, ds, min(args.images, len(ds)), torch.tensor(tok.encode(COMPRESS_PROMPT)))
    for name, x in (("compressed, 16 tokens", compressed), ("all 64 image tokens", visual)):
        for what, classes in (("colour", len(ds.vocabulary["colours"])), ("shape", len(ds.vocabulary["shapes"]))):
            acc = probe_accuracy(x, labels[what], classes)
            print(f"{name:22s} {what:6s} per-cell linear probe accuracy {acc:.3f} (chance {1 / classes:.3f})", flush=True)


if __name__ == "__main__":
    main()
