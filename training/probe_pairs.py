"""Why does a compositional probe fail? Per probe category: the accuracy (image nearer its
true caption than the hard negative), the mean image-text margin, and the cosine of the
true caption's embedding with its hard negative's. A text pair at cosine ~1 cannot be told
apart by any image; a text pair apart with a margin ~0 means the image side lacks the feature.

  python3 training/probe_pairs.py --ckpt training/runs/fwd2bot-v4/final.pt --data data/test-v2 --images 100

A diagnostic, not part of the pack. --ckpt takes a stage-2 final.pt or ckpt.pt.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import WorldDataset  # noqa: E402
from evaluate import Reader, load_checkpoint  # noqa: E402


def pair_statistics(reader: Reader, ds: WorldDataset, images: int) -> Dict[str, dict]:
    """{category: {"pairs", "accuracy", "margin", "textCosine"}} over the first `images` records' probes."""
    image_emb = torch.cat([reader.embed_images(ds.pixels(list(range(s, min(images, s + 64))))) for s in range(0, images, 64)])
    rows = defaultdict(list)  # category -> [(image·positive, image·negative, positive·negative)]
    for i in range(images):
        probes = ds.record(i).get("probes") or []
        if not probes:
            continue
        text = reader.embed_texts([t for p in probes for t in (p["positive"], p["negative"])])  # [2P, D]
        pos, neg = text[0::2], text[1::2]
        for p, a, b, c in zip(probes, (pos @ image_emb[i]).tolist(), (neg @ image_emb[i]).tolist(), (pos * neg).sum(-1).tolist()):
            rows[p["category"]].append((a, b, c))
    out = {}
    for category, values in sorted(rows.items()):
        v = torch.tensor(values)
        out[category] = {"pairs": len(v), "accuracy": (v[:, 0] > v[:, 1]).float().mean().item(),
                         "margin": (v[:, 0] - v[:, 1]).mean().item(), "textCosine": v[:, 2].mean().item()}
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="a stage-2 final.pt or ckpt.pt")
    ap.add_argument("--data", required=True, help="a world data set folder with probes (a test split)")
    ap.add_argument("--tokenizer", help="the tokenizer.json the checkpoint was trained with (default: the one beside --ckpt)")
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--budget", type=int, default=16)
    ap.add_argument("--json", action="store_true", help="print the statistics as JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    model, tok, f2b = load_checkpoint(Path(args.ckpt), Path(args.tokenizer) if args.tokenizer else None)
    if f2b is None:
        raise SystemExit(f"probe_pairs.py: {args.ckpt} is not a stage-2 checkpoint")
    ds = WorldDataset(args.data)
    stats = pair_statistics(Reader(model, tok, f2b, args.budget), ds, min(args.images, len(ds)))
    if args.json:
        print(json.dumps(stats))
        return
    for category, s in stats.items():
        print(f"{category:18s} pairs {s['pairs']:4d}  accuracy {s['accuracy']:.3f}  image margin {s['margin']:+.4f}"
              f"  caption·negative cosine {s['textCosine']:.4f}", flush=True)


if __name__ == "__main__":
    main()
