"""Stage 2 (Fwd2Bot) on a frozen imported LLaVA-1.5 / LLaVA-OneVision checkpoint.

  python3 training/hf_train.py --checkpoint CKPT --llava-data JSON --images DIR --captions SHARDS --run RUN --steps N
  torchrun --nproc_per_node 8 training/hf_train.py ...      (data parallel, one process per GPU)

The method is the shapes pack's (fwd2bot.py): the stage-specific LoRA adapters on every
decoder linear layer, K summary tokens, the 1:1 sampler (even steps LLaVA conversations,
odd steps caption pairs), the autoregressive loss on both and the contrastive loss on the
caption pairs, a prefix budget drawn per batch. The vision tower, projector and base
decoder stay frozen. On GPU: bf16 autocast, optional gradient checkpointing and bf16 base
weights; several processes average the (small) trainable gradients with all_reduce.
Runs resume from RUN/ckpt.pt, log JSON lines to RUN/log.jsonl, and write RUN/final.pt
holding only the trained weights (the base is re-read from CKPT).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Tuple

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import CAPTION_INSTRUCTIONS, COMPRESS_PROMPT  # noqa: E402
from fwd2bot import BUDGETS, Fwd2BotConfig, info_nce, is_fwd2bot_parameter, lm_loss, lr_at, save_checkpoint, trainable  # noqa: E402
from hf_checkpoint import CheckpointError, Imported, fingerprint, import_checkpoint  # noqa: E402
from hf_data import CaptionShards, DataError, LlavaConversations, Sample, collate  # noqa: E402
from hf_rows import ChatRows  # noqa: E402
from model import Glimpse, splice  # noqa: E402
from run_folder import MetricsLog, add_run_options, open_run, resume  # noqa: E402

FWD2BOT_MODEL_FIELDS = ("summary_tokens", "lora_rank", "lora_alpha")


def load_base(checkpoint: Path, f2b: Fwd2BotConfig, overrides: dict, dtype=torch.float32) -> Tuple[Glimpse, Imported, ChatRows]:
    if set(overrides) - set(FWD2BOT_MODEL_FIELDS):
        raise SystemExit(f"hf_train.py: --model may only set {', '.join(FWD2BOT_MODEL_FIELDS)}; the rest is the checkpoint's")
    if f2b.forward != "double" or f2b.adapters == "full":
        raise SystemExit("hf_train.py: real checkpoints train the double forward with LoRA adapters (stage or single)")
    try:
        model, meta = import_checkpoint(checkpoint, dtype, lora_adapters=f2b.lora_adapters(), **overrides)
    except CheckpointError as err:
        raise SystemExit(f"hf_train.py: {err}")
    with torch.no_grad():  # summary tokens start at the scale of the checkpoint's token embeddings
        model.summary.normal_(std=float(model.decoder.embed.weight.float().std()))
    return model, meta, ChatRows(meta.tokenizer, meta.chat, meta.special_tokens, COMPRESS_PROMPT)


def fit(rows: ChatRows, turns: List[Tuple[str, str]], max_tokens: int) -> List[Tuple[str, str]]:
    """The longest prefix of a conversation (at least one turn) whose row fits max_tokens."""
    while len(turns) > 1 and len(rows.conversation(turns).ids) > max_tokens:
        turns = turns[:-1]
    return turns


def stage2_step(model: Glimpse, f2b: Fwd2BotConfig, rows: ChatRows, pixels: torch.Tensor, samples: List[Sample],
                caption_batch: bool, budget: int, rng: random.Random, max_tokens: int = 2048):
    device = pixels.device
    with torch.no_grad():  # the vision tower and projector are frozen
        visual, _ = model.image_tokens(pixels)
    ones = torch.ones(visual.shape[:2], dtype=torch.long, device=device)
    prompt = torch.tensor(rows.compress_ids, dtype=torch.long, device=device)
    head = torch.tensor(rows.compress_head, dtype=torch.long, device=device)
    bidirectional = f2b.attention == "bidirectional"
    compressed = model.compress(visual, ones, prompt, f2b.compress_adapter(), budget, bidirectional, head)  # [B, K', D]
    metrics: Dict[str, float] = {"budget": budget}
    total = torch.zeros((), device=device)
    if caption_batch:
        turns = [[(rng.choice(CAPTION_INSTRUCTIONS), s.caption)] for s in samples]
    else:
        turns = [fit(rows, [(t.human, t.gpt) for t in s.turns], max_tokens) for s in samples]
    if f2b.loss in ("ar", "both"):
        ids, mask, labels = rows.pad([rows.conversation(t) for t in turns], device)
        b, n = compressed.shape[:2]
        x = splice(model.embed(ids), rows.image_at, compressed)
        mask = splice(mask, rows.image_at, torch.ones(b, n, dtype=torch.long, device=device))
        labels = splice(labels, rows.image_at, torch.full((b, n), -100, dtype=torch.long, device=device))
        ar = lm_loss(model, x, mask, labels, f2b.generate_adapter())
        total = total + ar
        metrics["ar_caption" if caption_batch else "ar_qa"] = ar.item()
    if caption_batch and f2b.loss in ("disc", "both"):
        ids, mask = rows.texts([t[0][1] for t in turns], device)
        text = model.compress(model.embed(ids), mask, prompt, f2b.compress_adapter(), budget, bidirectional, head)
        disc = info_nce(model, Glimpse.retrieval_embedding(compressed.float()), Glimpse.retrieval_embedding(text.float()))
        total = total + (f2b.disc_weight if f2b.loss == "both" else 1.0) * disc
        metrics["disc"] = disc.item()
    return total, metrics


def trained_state(model: Glimpse) -> Dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.state_dict().items() if is_fwd2bot_parameter(k)}


def load_trained(run: Path, dtype=torch.float32) -> Tuple[Glimpse, Imported, ChatRows, Fwd2BotConfig, dict]:
    """A finished run: the base re-imported from its checkpoint plus the trained weights."""
    meta_run = json.loads((run / "run.json").read_text())
    final = torch.load(run / "final.pt", map_location="cpu")
    f2b = Fwd2BotConfig(**final["fwd2bot"])
    checkpoint = Path(meta_run["checkpoint"])
    if not checkpoint.is_dir() or fingerprint(checkpoint) != meta_run.get("checkpoint_fingerprint", fingerprint(checkpoint)):
        raise SystemExit(f"{run} was trained on the checkpoint {checkpoint}, which is missing or has changed since")
    model, meta, rows = load_base(checkpoint, f2b, meta_run["model_overrides"], dtype)
    missing = set(trained_state(model)) - set(final["trained"])
    if missing:
        raise SystemExit(f"{run}/final.pt lacks {sorted(missing)[0]}")
    model.load_state_dict(final["trained"], strict=False)
    return model, meta, rows, f2b, meta_run


class Batches:
    """Index batches for step s from a per-step seeded stream (resuming replays nothing);
    each process of a data-parallel run draws its own."""

    def __init__(self, seed: int, rank: int, batch: int):
        self.seed, self.rank, self.batch = seed, rank, batch

    def rng(self, step: int) -> random.Random:
        return random.Random((self.seed * 1_000_003 + step) * 4099 + self.rank)

    def draw(self, step: int, pool: List[int]) -> List[int]:
        rng = self.rng(step)
        return [pool[rng.randrange(len(pool))] for _ in range(self.batch)]


def out_of_time(began: float, minutes: float, world: int, device: torch.device) -> bool:
    """Every process stops at the same step (one that stopped alone would hang the others)."""
    late = torch.tensor([float(time.time() - began > minutes * 60)], device=device)
    if world > 1:
        dist.all_reduce(late, op=dist.ReduceOp.MAX)
    return bool(late.item())


def setup_distributed() -> Tuple[int, int, torch.device]:
    """(rank, world size, device); a single process on CPU needs no process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return (dist.get_rank() if world > 1 else 0), world, device


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="a Hugging Face LLaVA(-OneVision) checkpoint folder")
    ap.add_argument("--llava-data", required=True, help="LLaVA-665k style conversations JSON")
    ap.add_argument("--images", required=True, help="the image folder the JSON's paths are relative to")
    ap.add_argument("--captions", required=True, nargs="+", help="webdataset caption shards (folder, glob or {a..b} range)")
    add_run_options(ap, steps=1000, batch=8, lr=2e-4, warmup=50, helps={"batch": "per process"})
    ap.add_argument("--max-tokens", type=int, default=2048, help="longest conversation row; later turns are dropped")
    ap.add_argument("--grad-checkpoint", action="store_true", help="recompute decoder blocks in backward (less memory)")
    ap.add_argument("--bf16-base", action="store_true", help="GPU: keep the frozen base weights in bfloat16")
    ap.add_argument("--model", help=f"JSON: {', '.join(FWD2BOT_MODEL_FIELDS)}, e.g. '{{\"lora_rank\": 64, \"lora_alpha\": 128}}'")
    ap.add_argument("--fwd2bot", help="JSON overrides of Fwd2BotConfig, e.g. '{\"disc_weight\": 0.1}'")
    args = ap.parse_args(argv)

    run = open_run(args)
    if run is None:
        return
    rank, world, device = setup_distributed()
    try:
        f2b = Fwd2BotConfig(**json.loads(args.fwd2bot or "{}"))
    except (TypeError, ValueError) as err:
        raise SystemExit(f"hf_train.py: bad --fwd2bot: {err}")
    overrides = json.loads(args.model or "{}")
    base_dtype = torch.bfloat16 if args.bf16_base and device.type == "cuda" else torch.float32
    model, meta, rows = load_base(Path(args.checkpoint), f2b, overrides, base_dtype)
    try:
        conversations = LlavaConversations(args.llava_data, args.images, meta.preprocess)
        captions = CaptionShards(args.captions, meta.preprocess)
    except DataError as err:
        raise SystemExit(f"hf_train.py: {err}")
    with_images = [i for i, r in enumerate(conversations.records) if r[1] is not None]
    if not with_images or not len(captions):
        raise SystemExit("hf_train.py: the training data needs conversations with images and caption pairs")
    params = trainable(model, 2, f2b)
    model.to(device)
    model.decoder.gradient_checkpointing = args.grad_checkpoint
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.0)
    run.mkdir(parents=True, exist_ok=True)

    def restore(state: dict) -> None:
        model.load_state_dict(state["trained"], strict=False)
        opt.load_state_dict(state["optimizer"])

    start = resume(run, restore)
    meta_run = {"family": meta.family, "checkpoint": str(Path(args.checkpoint).resolve()),
                "checkpoint_fingerprint": fingerprint(Path(args.checkpoint)), "config": asdict(model.cfg),
                "model_overrides": overrides, "fwd2bot": asdict(f2b), "args": vars(args), "world_size": world,
                "parameters": sum(p.numel() for p in model.parameters()), "trainable": sum(p.numel() for p in params),
                "data": {"conversations": len(with_images), "captions": len(captions)}}
    if rank == 0:
        (run / "run.json").write_text(json.dumps(meta_run, indent=1) + "\n")
        print(json.dumps({k: meta_run[k] for k in ("family", "parameters", "trainable", "data", "world_size")}), flush=True)
    batches = Batches(args.seed, rank, args.batch)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()

    def checkpoint(step: int) -> None:
        if rank == 0:
            save_checkpoint(run / "ckpt.pt", {"trained": trained_state(model), "optimizer": opt.state_dict(), "step": step})

    model.train()
    began = time.time()
    log = MetricsLog(run / "log.jsonl" if rank == 0 else None)
    for step in range(start, args.steps):
        caption_batch = step % 2 == 1 or f2b.loss == "disc"  # the 1:1 sampler
        rng = batches.rng(step)
        budget = random.Random(args.seed * 7919 + step).choice([b for b in BUDGETS if b <= model.cfg.summary_tokens]) \
            if f2b.budgets == "prefix" else model.cfg.summary_tokens  # one budget per step on every process
        idx = batches.draw(step, list(range(len(captions))) if caption_batch else with_images)
        pixels, samples = collate([(captions if caption_batch else conversations)[i] for i in idx])
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        with autocast:
            loss, metrics = stage2_step(model, f2b, rows, pixels.to(device), samples, caption_batch, budget, rng, args.max_tokens)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if world > 1:
            for p in params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                dist.all_reduce(p.grad)
                p.grad /= world
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        log.add(metrics)
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            elapsed = time.time() - began
            log.write({"step": step + 1, "lr": round(opt.param_groups[0]["lr"], 7), "elapsed_s": round(elapsed, 1),
                       "samples_per_s": round((step + 1 - start) * args.batch * world / elapsed, 2)})
        if (step + 1) % args.ckpt_every == 0:
            checkpoint(step + 1)
        if args.max_minutes is not None and out_of_time(began, args.max_minutes, world, device):
            checkpoint(step + 1)
            print(f"stopping at step {step + 1} after {args.max_minutes} minutes; run again to resume", flush=True)
            return
    checkpoint(args.steps)
    if rank == 0:
        torch.save({"trained": trained_state(model), "config": asdict(model.cfg), "fwd2bot": asdict(f2b),
                    "steps": args.steps}, run / "final.pt")
        print(f"finished {args.steps} steps; wrote {run / 'final.pt'}", flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
