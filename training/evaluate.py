"""Evaluation on the world's test split, graded by the world's own TypeScript scorers.

  python3 training/evaluate.py --run training/runs/fwd2bot --data data/test --images 500 --out eval.json

Rows: the base model with all visual tokens (and its E5-V zero-shot retrieval), and
Fwd2Bot at every budget. Columns: QA accuracy per type (seen and held-out phrasings),
caption object F1 and hallucination, retrieval recall@1/5/10 both ways, and
compositional accuracy per probe category.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import (CAPTION_INSTRUCTIONS, COMPRESS_PROMPT, E5V_IMAGE_PROMPT, E5V_TEXT_PROMPT, IMAGE_AT,  # noqa: E402
                  WorldDataset, chat_row, pad_rows, text_rows)
from fwd2bot import BUDGETS, Fwd2BotConfig, attach_single_forward, compress, greedy  # noqa: E402
from model import ADAPTER_BASE, Glimpse, ModelConfig, left_align, splice  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ANSWER_TOKENS = 8  # greedy tokens a short answer may take ("there is no large red circle" is 6)


def load_checkpoint(ckpt: Path, tokenizer: Optional[Path] = None) -> Tuple[Glimpse, Tokenizer, Optional[Fwd2BotConfig]]:
    """A final.pt or ckpt.pt, in eval mode, with its tokenizer (default: the one beside it);
    the Fwd2Bot config is None for a stage-1 checkpoint."""
    payload = torch.load(ckpt, map_location="cpu")
    model = Glimpse(ModelConfig(**payload["config"]))
    f2b = Fwd2BotConfig(**payload["fwd2bot"]) if payload.get("fwd2bot") else None
    if f2b is not None and f2b.forward == "single":
        attach_single_forward(model)
    model.load_state_dict(payload["model"])
    model.eval()
    return model, Tokenizer.load(tokenizer or ckpt.parent / "tokenizer.json"), f2b


def load_run(run: Path) -> Tuple[Glimpse, Tokenizer, Optional[Fwd2BotConfig]]:
    return load_checkpoint(run / "final.pt")


class Reader:
    """How one row of the table sees an image: all visual tokens (the base model), K
    compressed ones (Fwd2Bot; `drop` masks some of them out, for the `mask` ablation), or
    K tokens from a training-free `reducer` (baselines.py) read by the base model."""

    def __init__(self, model: Glimpse, tok: Tokenizer, f2b: Optional[Fwd2BotConfig], budget: Optional[int],
                 reducer: Optional[Callable] = None, drop: Sequence[int] = ()):
        self.model, self.tok, self.f2b, self.budget = model, tok, f2b, budget
        self.reducer, self.drop = reducer, frozenset(drop)
        self.prompt_ids = torch.tensor(tok.encode(COMPRESS_PROMPT))
        self.compressed = budget is not None and reducer is None  # read by pass 2 (and pooled for retrieval)

    def kept(self, tokens: torch.Tensor) -> torch.Tensor:
        """[B, K', D] -> the tokens not masked by `drop` (masked ones are left out of the sequence)."""
        if not self.drop:
            return tokens
        return tokens[:, [i for i in range(tokens.shape[1]) if i not in self.drop]]

    @torch.no_grad()
    def image_tokens(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.reducer is not None:
            return self.reducer(self.model, pixels, self.budget)
        visual, _ = self.model.image_tokens(pixels)
        if self.budget is None:
            return visual
        ones = torch.ones(visual.shape[:2], dtype=torch.long)
        return self.kept(compress(self.model, self.f2b, visual, ones, self.prompt_ids, self.budget))

    @property
    def adapter(self) -> int:
        return self.f2b.generate_adapter() if self.compressed else ADAPTER_BASE

    def answer(self, tokens: torch.Tensor, questions: Sequence[str], max_new: int) -> List[str]:
        rows = [chat_row(self.tok, [(q, "")]) for q in questions]
        ids, mask, _ = pad_rows(rows, self.tok.pad_id)
        n = tokens.shape[1]
        x = splice(self.model.embed(ids), IMAGE_AT, tokens)
        mask = splice(mask, IMAGE_AT, torch.ones(len(rows), n, dtype=torch.long))
        return [self.tok.decode(s) for s in greedy(self.model, x, mask, self.adapter, self.tok.eos_id, max_new)]

    @torch.no_grad()
    def embed_images(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.compressed:
            return Glimpse.retrieval_embedding(self.image_tokens(pixels))
        return self.e5v(self.image_tokens(pixels), E5V_IMAGE_PROMPT)

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        ids, mask = text_rows(self.tok, texts)
        if self.compressed:  # a caption's compressed tokens, masked like the image's
            comp = compress(self.model, self.f2b, self.model.embed(ids), mask, self.prompt_ids, self.budget)
            return Glimpse.retrieval_embedding(self.kept(comp))
        return self.e5v(self.model.embed(ids), E5V_TEXT_PROMPT, mask)

    def e5v(self, content: torch.Tensor, prompt: str, content_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """E5-V: <s> USER: <content> Summary above ... in one word: ASSISTANT: -> last hidden state."""
        b = content.shape[0]
        if content_mask is None:
            content_mask = torch.ones(content.shape[:2], dtype=torch.long)
        pre = self.model.embed(torch.tensor([self.tok.bos_id, self.tok.user_id]))[None].expand(b, -1, -1)
        post = self.model.embed(torch.tensor(self.tok.encode(prompt) + [self.tok.assistant_id]))[None].expand(b, -1, -1)
        x = torch.cat([pre, content, post], 1)
        mask = torch.cat([torch.ones(b, 2, dtype=torch.long), content_mask, torch.ones(b, post.shape[1], dtype=torch.long)], 1)
        x, mask = left_align(x, mask)  # content padding moves to the front; the prompt ends every row
        hidden = self.model.run(x, mask, ADAPTER_BASE)
        return F.normalize(hidden[:, -1], dim=-1)


def retrieval_sets(records: Sequence[dict]) -> Dict[str, Callable[[dict], List[str]]]:
    """The text sets retrieval is scored on: captions of seen and held-out wordings and,
    for language 2, partial descriptions (two objects of a scene of four or more, any
    wording) and short search texts of seen and held-out wordings."""
    sets: Dict[str, Callable[[dict], List[str]]] = {
        "seen": lambda r: [c["text"] for c in r["captions"] if not c["heldOut"]],
        "heldOut": lambda r: [c["text"] for c in r["captions"] if c["heldOut"]],
    }
    if any("searches" in r for r in records):
        sets["partial"] = lambda r: [c["text"] for c in r["captions"] if c.get("coverage") == "some"
                                     and c.get("objects") == 2 and len(r["graph"]["objects"]) >= 4]
        sets["searchSeen"] = lambda r: [s["text"] for s in r["searches"] if not s["heldOut"]]
        sets["searchHeldOut"] = lambda r: [s["text"] for s in r["searches"] if s["heldOut"]]
    return sets


def collect(reader: Reader, ds: WorldDataset, images: int, batch: int, work: Path, name: str) -> dict:
    records = [ds.record(i) for i in range(images)]
    qa, captions, probes = [], [], []
    image_emb = []
    for start in range(0, images, batch):
        idx = list(range(start, min(images, start + batch)))
        tokens = reader.image_tokens(ds.pixels(idx))                 # [b, N, D]
        image_emb.append(reader.embed_images(ds.pixels(idx)))
        for b, i in enumerate(idx):
            qs = records[i]["questions"]
            preds = reader.answer(tokens[b: b + 1].expand(len(qs), -1, -1), [q["question"] for q in qs], ANSWER_TOKENS)
            qa += [{"type": q["type"], "prediction": p, "answer": q["answer"], "heldOut": q["heldOut"],
                    **({"wording": q["wording"]} if "wording" in q else {})} for q, p in zip(qs, preds)]
        caps = reader.answer(tokens, [CAPTION_INSTRUCTIONS[0]] * len(idx), 80)
        captions += [{"caption": c, "graph": records[i]["graph"]} for c, i in zip(caps, idx)]
    image_emb = torch.cat(image_emb)
    retrieval = {}
    for label, pick in retrieval_sets(records).items():
        texts, owner = [], []
        for i, r in enumerate(records):
            for text in pick(r):
                texts.append(text)
                owner.append(i)
        if not texts:
            continue
        text_emb = torch.cat([reader.embed_texts(texts[s: s + 256]) for s in range(0, len(texts), 256)])
        sim = (image_emb @ text_emb.t()).numpy().astype("<f4")
        path = work / f"{name}-{label}.f32"
        sim.tofile(path)
        retrieval[label] = {"images": images, "textImage": owner, "similarity": path.name}
    for i, r in enumerate(records):
        if not r["probes"]:
            continue
        texts = [t for p in r["probes"] for t in (p["positive"], p["negative"])]
        sims = (reader.embed_texts(texts) @ image_emb[i]).tolist()
        probes += [{"category": p["category"], "positive": sims[2 * k], "negative": sims[2 * k + 1]} for k, p in enumerate(r["probes"])]
    return {"qa": qa, "captions": captions, "retrieval": retrieval, "probes": probes}


def score(runs: Dict[str, dict], work: Path) -> dict:
    report = work / "report.json"
    report.write_text(json.dumps({"runs": runs}))
    out = subprocess.run(["npx", "tsx", "world/score-cli.ts", str(report)], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def evaluate(model: Glimpse, tok: Tokenizer, f2b: Optional[Fwd2BotConfig], ds: WorldDataset, images: int,
             budgets: Sequence[int] = BUDGETS, batch: int = 32) -> dict:
    readers = {"base": Reader(model, tok, f2b, None)}
    if f2b is not None:
        readers.update({f"fwd2bot-{k}": Reader(model, tok, f2b, k) for k in budgets})
    return score_readers(readers, ds, images, batch)


def score_readers(readers: Dict[str, Reader], ds: WorldDataset, images: int, batch: int = 32) -> dict:
    """Every reader over the first `images` test images, graded by the world's scorers."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = {name: collect(r, ds, images, batch, work, name) for name, r in readers.items()}
        scores = score(runs, work)
    for name, runs_scores in scores.items():
        runs_scores["examples"] = [q for q in runs[name]["qa"][:5]] + runs[name]["captions"][:2]
    return scores


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True, help="a world test-split folder")
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="write the scores here as JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, tok, f2b = load_run(Path(args.run))
    scores = evaluate(model, tok, f2b, WorldDataset(args.data), args.images)
    text = json.dumps(scores, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    for name, s in scores.items():
        qa = s["qa"]["overall"]["accuracy"]
        held = s["qaHeldOut"]["overall"]["accuracy"]
        cap = s["captions"]
        t2i = s["retrieval"]["seen"]["textToImage"]["r1"]
        comp = s["compositional"]["overall"]["accuracy"]
        print(f"{name:12s} QA {qa:.3f} (held-out {held:.3f})  caption F1 {cap['f1']:.3f} halluc {cap['hallucination']:.3f}"
              f"  T2I R@1 {t2i:.3f}  compositional {comp:.3f}")


if __name__ == "__main__":
    main()
