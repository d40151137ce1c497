"""Evaluates a Fwd2Bot model on an imported checkpoint with data in the real formats:

- answer NLL: the mean cross-entropy of the answer tokens of those records' conversations,
  teacher-forced on the compressed tokens (the most sensitive of the three);
- the same two with each photo's questions asked about the previous photo instead (a
  control: the gap says how much the answers use the image rather than the language prior);
- short-answer QA: every question turn of the first N LLaVA-style records whose answer is
  at most three words, answered greedily from the K compressed tokens (exact match after
  lower-casing and stripping punctuation);
- text-to-image retrieval: R@1 and R@5 of each caption among the first M images of the
  caption shards, by the cosine of the pass-1 retrieval embeddings.

  python3 training/hf_eval.py --run RUN --llava-data JSON --images DIR --captions SHARDS
  python3 training/hf_eval.py --checkpoint CKPT ...   (the untrained start: zero adapters)
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fwd2bot import Fwd2BotConfig, greedy, lm_loss  # noqa: E402
from hf_data import CaptionShards, LlavaConversations, collate  # noqa: E402
from hf_rows import ChatRows  # noqa: E402
from model import Glimpse, splice  # noqa: E402


def normalise(text: str) -> str:
    return re.sub(r"[^\w ]", "", text.lower()).strip()


@torch.no_grad()
def compress_images(model: Glimpse, rows: ChatRows, f2b: Fwd2BotConfig, pixels: torch.Tensor,
                    budget: Optional[int] = None) -> torch.Tensor:
    device = pixels.device
    visual, _ = model.image_tokens(pixels)
    ones = torch.ones(visual.shape[:2], dtype=torch.long, device=device)
    return model.compress(visual, ones, torch.tensor(rows.compress_ids, device=device), f2b.compress_adapter(), budget,
                          f2b.attention == "bidirectional", torch.tensor(rows.compress_head, dtype=torch.long, device=device))


@torch.no_grad()
def embed_texts(model: Glimpse, rows: ChatRows, f2b: Fwd2BotConfig, texts: List[str]) -> torch.Tensor:
    device = model.summary.device
    ids, mask = rows.texts(texts, device)
    out = model.compress(model.embed(ids), mask, torch.tensor(rows.compress_ids, device=device), f2b.compress_adapter(), None,
                         f2b.attention == "bidirectional", torch.tensor(rows.compress_head, dtype=torch.long, device=device))
    return Glimpse.retrieval_embedding(out)


@torch.no_grad()
def answer(model: Glimpse, rows: ChatRows, f2b: Fwd2BotConfig, visual: torch.Tensor, instructions: List[str],
           max_new: int = 16) -> List[List[int]]:
    """Greedy answers to `instructions` about one image's visual rows [1, N, D]."""
    prompts = [rows.prompt(q) for q in instructions]
    t = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), t), rows.special["pad"], dtype=torch.long)
    mask = torch.zeros((len(prompts), t), dtype=torch.long)
    for b, p in enumerate(prompts):
        ids[b, :len(p)], mask[b, :len(p)] = torch.tensor(p), 1
    b, n, device = len(prompts), visual.shape[1], visual.device
    ids, mask = ids.to(device), mask.to(device)
    x = splice(model.embed(ids), rows.image_at, visual.expand(b, -1, -1))
    mask = splice(mask, rows.image_at, torch.ones(b, n, dtype=torch.long, device=device))
    out = greedy(model, x, mask, f2b.generate_adapter(), rows.special["eos"], max_new)
    return [[i for i in seq if i not in rows.stop_ids] for seq in out]


@torch.no_grad()
def answer_nll(model: Glimpse, rows: ChatRows, f2b: Fwd2BotConfig, visual: torch.Tensor, turns) -> float:
    """Mean cross-entropy of a conversation's answer tokens given the visual rows [1, N, D]."""
    n, device = visual.shape[1], visual.device
    ids, mask, labels = rows.pad([rows.conversation(turns)], device)
    x = splice(model.embed(ids), rows.image_at, visual)
    mask = splice(mask, rows.image_at, torch.ones(1, n, dtype=torch.long, device=device))
    labels = splice(labels, rows.image_at, torch.full((1, n), -100, dtype=torch.long, device=device))
    return float(lm_loss(model, x, mask, labels, f2b.generate_adapter()))


def evaluate(model: Glimpse, rows: ChatRows, f2b: Fwd2BotConfig, conversations: LlavaConversations,
             captions: CaptionShards, records: int = 32, images: int = 64) -> dict:
    model.eval()
    device = model.summary.device
    right = total = right_other = 0
    examples, nll, nll_other, previous = [], [], [], None
    for i in range(min(records, len(conversations))):
        sample = conversations[i]
        if sample.pixel_values is None:
            continue
        qa = [t for t in sample.turns if len(t.gpt.split()) <= 3]
        if not qa:
            continue
        visual = compress_images(model, rows, f2b, sample.pixel_values[None].to(device))
        turns = [(t.human, t.gpt) for t in sample.turns]
        nll.append(answer_nll(model, rows, f2b, visual, turns))
        # The control: the same questions about the previous record's photo (does the answer use the image?)
        other = previous if previous is not None else visual
        previous = visual
        nll_other.append(answer_nll(model, rows, f2b, other, turns))
        said_other = answer(model, rows, f2b, other, [t.human for t in qa])
        for turn, ids, ids_other in zip(qa, answer(model, rows, f2b, visual, [t.human for t in qa]), said_other):
            said = rows.tok.decode(ids)
            right += normalise(said) == normalise(turn.gpt)
            right_other += normalise(rows.tok.decode(ids_other)) == normalise(turn.gpt)
            total += 1
            if len(examples) < 3:
                examples.append({"question": turn.human, "truth": turn.gpt, "answer": said})
    m = min(images, len(captions))
    pixels, samples = collate([captions[i] for i in range(m)])
    image_emb = torch.cat([Glimpse.retrieval_embedding(compress_images(model, rows, f2b, pixels[s:s + 16].to(device)))
                           for s in range(0, m, 16)])
    text_emb = embed_texts(model, rows, f2b, [s.caption for s in samples])
    ranks = (text_emb @ image_emb.t()).argsort(1, descending=True)
    target = torch.arange(m, device=device)[:, None]
    return {"qa_accuracy": round(right / max(1, total), 4), "qa_questions": total,
            "qa_accuracy_other_image": round(right_other / max(1, total), 4),
            "answer_nll": round(sum(nll) / max(1, len(nll)), 4),
            "answer_nll_other_image": round(sum(nll_other) / max(1, len(nll_other)), 4),
            "t2i_r1": round(float((ranks[:, :1] == target).any(1).float().mean()), 4),
            "t2i_r5": round(float((ranks[:, :5] == target).any(1).float().mean()), 4), "retrieval_images": m,
            "chance_r1": round(1 / max(1, m), 4), "examples": examples}


def main(argv=None) -> None:
    from hf_train import load_base, load_trained  # the trainer's loaders (no cycle at import time)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--run", help="a finished hf_train.py run")
    group.add_argument("--checkpoint", help="a checkpoint folder: the untrained start")
    ap.add_argument("--llava-data", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--captions", required=True, nargs="+")
    ap.add_argument("--records", type=int, default=32)
    ap.add_argument("--retrieval-images", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.run:
        model, meta, rows, f2b, _ = load_trained(Path(args.run))
    else:
        f2b = Fwd2BotConfig()
        model, meta, rows = load_base(Path(args.checkpoint), f2b, {})
    scores = evaluate(model, rows, f2b, LlavaConversations(args.llava_data, args.images, meta.preprocess),
                      CaptionShards(args.captions, meta.preprocess), args.records, args.retrieval_images)
    print(json.dumps(scores), flush=True)


if __name__ == "__main__":
    main()
