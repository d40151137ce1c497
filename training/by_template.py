"""Held-out answers template by template, for comparing runs: which wordings a run misses.

  python3 training/by_template.py --ckpt training/runs/base-v8/final.pt --data data/test-v2 --images 150
  python3 training/by_template.py --ckpt training/runs/fwd2bot-v7/final.pt --data data/test-v2 --images 150 --budget 16

Greedy answers to the test split's `new-template` questions (or --wording), graded by exact
match of the normalised answer: stricter than the world's scorers (evaluate.py), which is
fine for telling runs apart and wrong for the targets. Prints one line per template and
writes every answer with --out. A stage-1 checkpoint reads all visual tokens; a stage-2
one reads --budget compressed tokens.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import WorldDataset  # noqa: E402
from evaluate import ANSWER_TOKENS, Reader, load_checkpoint  # noqa: E402


def normalised(answer: str) -> str:
    return answer.strip().lower().rstrip(".")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="a final.pt or ckpt.pt")
    ap.add_argument("--data", required=True, help="a world test-split folder (language 2)")
    ap.add_argument("--images", type=int, default=150)
    ap.add_argument("--budget", type=int, default=16, help="compressed tokens a stage-2 checkpoint reads")
    ap.add_argument("--wording", default="new-template", choices=("seen", "new-template", "new-combination"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="write every question, wanted and given answer here as JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, tok, f2b = load_checkpoint(Path(args.ckpt))
    reader = Reader(model, tok, f2b, args.budget if f2b else None)
    ds = WorldDataset(args.data)
    right, total, answers = collections.Counter(), collections.Counter(), []
    for i in range(min(args.images, len(ds))):
        questions = [q for q in ds.record(i)["questions"] if q.get("wording") == args.wording]
        if not questions:
            continue
        tokens = reader.image_tokens(ds.pixels([i]))                            # [1, N, D]
        given = reader.answer(tokens.expand(len(questions), -1, -1), [q["question"] for q in questions], ANSWER_TOKENS)
        for q, g in zip(questions, given):
            total[q["template"]] += 1
            right[q["template"]] += normalised(g) == normalised(q["answer"])
            answers.append({"image": i, "template": q["template"], "question": q["question"], "want": q["answer"], "got": g})
    for template in sorted(total):
        print(f"{template:28s} {right[template]:4d} / {total[template]:4d}  {100 * right[template] / total[template]:5.1f} %")
    print(f"{'all':28s} {sum(right.values()):4d} / {sum(total.values()):4d}  "
          f"{100 * sum(right.values()) / max(1, sum(total.values())):5.1f} %")
    if args.out:
        Path(args.out).write_text(json.dumps(answers, indent=1) + "\n")


if __name__ == "__main__":
    main()
