"""Training: stage 1 (the base model, "LLaVA mode") and stage 2 (Fwd2Bot).

  python3 training/train.py --stage 1 --data data/train --run training/runs/base --steps 3000
  python3 training/train.py --stage 2 --data data/train --run training/runs/fwd2bot --base training/runs/base --steps 3000

Runs resume from their last checkpoint (run/ckpt.pt) when started again, log one
JSON line per logged step to run/log.jsonl, and stop cleanly at --max-minutes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import (COMPRESS_PROMPT, IMAGE_AT, PROMPTS, DatasetError, WorldDataset, caption_turn, chat_row,  # noqa: E402
                  instruction_turns, pad_rows, text_rows)
from model import ADAPTER_BASE, ADAPTER_COMPRESS, ADAPTER_GENERATE, Glimpse, ModelConfig, count_parameters, splice  # noqa: E402
from tokenizer import Tokenizer, world_words  # noqa: E402

BUDGETS = (1, 2, 4, 8, 16)
STAGE2_MODEL_FIELDS = ("lora_rank", "lora_alpha")  # what stage 2 adds to a frozen base


@dataclass
class Fwd2BotConfig:
    """Stage-2 switches; the defaults are the method, the rest are the paper's ablations.
    One deviation: the paper adds the two losses with equal weight; here that lets the
    contrastive loss make pass 1 drop colour (docs/training.md), so it is weighted 0.03."""
    loss: str = "both"            # ar | disc | both
    adapters: str = "stage"       # stage (compress + generate) | single (one shared adapter)
    attention: str = "causal"     # causal | bidirectional (pass 1 only)
    budgets: str = "prefix"       # prefix (sample K' per batch) | fixed (always K)
    disc_weight: float = 0.03     # weight of the contrastive loss next to the autoregressive one (paper: 1)
    scene_probe: bool = False     # deviation: also read the scene graph off the compressed tokens (SceneProbe)

    def compress_adapter(self) -> int:
        return ADAPTER_COMPRESS

    def generate_adapter(self) -> int:
        return ADAPTER_COMPRESS if self.adapters == "single" else ADAPTER_GENERATE


def lm_loss(model: Glimpse, x: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor, adapter: int) -> torch.Tensor:
    hidden = model.run(x, mask, adapter)                       # [B, T, D]
    targets = labels[:, 1:]
    keep = targets != -100
    logits = model.logits(hidden[:, :-1][keep])                # only where there is a target
    return F.cross_entropy(logits, targets[keep])


def splice_batch(model: Glimpse, ids, mask, labels, inserted: torch.Tensor):
    """The chat rows with `inserted` [B, N, D] in place of <image>."""
    b, n = inserted.shape[0], inserted.shape[1]
    x = splice(model.embed(ids), IMAGE_AT, inserted)
    mask = splice(mask, IMAGE_AT, torch.ones(b, n, dtype=torch.long))
    labels = splice(labels, IMAGE_AT, torch.full((b, n), -100, dtype=torch.long))
    return x, mask, labels


SHAPES = ["circle", "square", "triangle", "star", "heart", "cross", "diamond", "sign"]
COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black"]
SCENES = ["meadow", "beach", "snow", "night", "desert"]


def cell_labels(records: List[dict]) -> Dict[str, torch.Tensor]:
    """The scene graph per grid cell (row-major): {"shape", "colour", "size", "digit"} ->
    [B, 9] class ids, 0 = empty cell (digit: also no digit), an object's attribute 1-based."""
    labels = {k: torch.zeros(len(records), 9, dtype=torch.long) for k in ("shape", "colour", "size", "digit")}
    for n, r in enumerate(records):
        for o in r["graph"]["objects"]:
            c = o["row"] * 3 + o["col"]
            labels["shape"][n, c] = SHAPES.index(o["shape"]) + 1
            labels["colour"][n, c] = COLOURS.index(o["colour"]) + 1
            labels["size"][n, c] = 1 if o["size"] == "small" else 2
            labels["digit"][n, c] = 0 if o["digit"] is None else o["digit"] + 1
    return labels


def scene_graph_loss(cell_logits: Dict[str, torch.Tensor], scene_logits: torch.Tensor, records: List[dict]) -> torch.Tensor:
    """Cross-entropy of per-cell attribute logits {"shape", "colour", "size", "digit"} ->
    [B, 9, classes] and scene logits [B, len(SCENES)] against the records' scene graphs."""
    labels = cell_labels(records)
    loss = sum(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[k].reshape(-1)) for k, logits in cell_logits.items())
    scene = torch.tensor([SCENES.index(r["graph"]["scene"]) for r in records])
    return loss + F.cross_entropy(scene_logits, scene)


class VisionProbe(torch.nn.Module):
    """Training-only heads that read the scene graph off the vision tower: for each of
    the 9 grid cells its shape, colour, size and digit (or "empty"), and the scene type
    from CLS. LLaVA starts from a pretrained CLIP; with no pretrained vision here, this
    direct supervision plays that part. Not exported."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        side = cfg.image_size // cfg.patch_size
        self.side = side
        self.heads = torch.nn.ModuleDict({
            "shape": torch.nn.Linear(cfg.vision_dim, len(SHAPES) + 1), "colour": torch.nn.Linear(cfg.vision_dim, len(COLOURS) + 1),
            "size": torch.nn.Linear(cfg.vision_dim, 3), "digit": torch.nn.Linear(cfg.vision_dim, 11)})
        self.scene = torch.nn.Linear(cfg.vision_dim, len(SCENES))

    def forward(self, patches: torch.Tensor, cls: torch.Tensor, records: List[dict]) -> torch.Tensor:
        b, v, dv = patches.shape
        grid = patches.transpose(1, 2).reshape(b, dv, self.side, self.side)
        cells = F.adaptive_avg_pool2d(grid, 3).flatten(2).transpose(1, 2)            # [B, 9, Dv]
        return scene_graph_loss({k: head(cells) for k, head in self.heads.items()}, self.scene(cls), records)


class SceneProbe(torch.nn.Module):
    """Training-only stage-2 head (`scene_probe`, off by default): the scene graph (per cell
    shape, colour, size, digit; the scene type) read off the mean of the compressed tokens
    by a small MLP. Tried against pass 1 dropping colour; it helped little next to
    weighting the contrastive loss down (docs/training.md). Not exported."""

    def __init__(self, cfg: ModelConfig, hidden: int = 256):
        super().__init__()
        self.sizes = {"shape": len(SHAPES) + 1, "colour": len(COLOURS) + 1, "size": 3, "digit": 11}
        self.mlp = torch.nn.Sequential(torch.nn.Linear(cfg.dim, hidden), torch.nn.GELU(),
                                       torch.nn.Linear(hidden, 9 * sum(self.sizes.values()) + len(SCENES)))

    def forward(self, compressed: torch.Tensor, records: List[dict]) -> torch.Tensor:
        b = compressed.shape[0]
        out = self.mlp(compressed.mean(1))                                          # [B, 9 * 33 + 5]
        cells, scene_logits = out[:, :-len(SCENES)].view(b, 9, -1), out[:, -len(SCENES):]
        per_attribute = dict(zip(self.sizes, cells.split(list(self.sizes.values()), dim=-1)))  # each [B, 9, n]
        return scene_graph_loss(per_attribute, scene_logits, records)


def stage1_step(model: Glimpse, ds: WorldDataset, tok: Tokenizer, idx: List[int], rng: random.Random, step: int,
                probe: "VisionProbe | None" = None):
    records = [ds.record(i) for i in idx]
    rows = [chat_row(tok, instruction_turns(r, rng)) for r in records]
    ids, mask, labels = pad_rows(rows, tok.pad_id)
    patches, cls = model.vision(ds.pixels(idx))
    visual = model.projector(patches)
    x, mask, labels = splice_batch(model, ids, mask, labels, visual)
    loss = lm_loss(model, x, mask, labels, ADAPTER_BASE)
    metrics = {"ar": loss.item()}
    if probe is not None:
        aux = probe(patches, cls, records)
        metrics["vision_aux"] = aux.item()
        loss = loss + aux
    return loss, metrics


def info_nce(model: Glimpse, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE on cosine similarity; a, b: [B, D] normalised."""
    logits = a @ b.t() * model.logit_scale.exp().clamp(max=100)
    target = torch.arange(a.shape[0])
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


def stage2_step(model: Glimpse, ds: WorldDataset, tok: Tokenizer, idx: List[int], rng: random.Random, step: int,
                f2b: Fwd2BotConfig, prompt_ids: torch.Tensor, probe: "SceneProbe | None" = None):
    budget = rng.choice(BUDGETS) if f2b.budgets == "prefix" else model.cfg.summary_tokens
    caption_batch = step % 2 == 1  # the sampler alternates instruction and caption-pair batches 1:1
    if f2b.loss == "disc":
        caption_batch = True
    records = [ds.record(i) for i in idx]
    with torch.no_grad():  # the vision tower and projector are frozen
        visual, _ = model.image_tokens(ds.pixels(idx))
    ones = torch.ones(visual.shape[:2], dtype=torch.long)
    bidirectional = f2b.attention == "bidirectional"
    compressed = model.compress(visual, ones, prompt_ids, f2b.compress_adapter(), budget, bidirectional)  # [B, K', D]
    metrics: Dict[str, float] = {"budget": budget}
    total = torch.zeros(())
    if probe is not None:
        aux = probe(compressed, records)
        total = total + aux
        metrics["scene_aux"] = aux.item()
    turns = [[caption_turn(r, rng)] if caption_batch else instruction_turns(r, rng) for r in records]
    if f2b.loss in ("ar", "both"):
        ids, mask, labels = pad_rows([chat_row(tok, t) for t in turns], tok.pad_id)
        x, mask, labels = splice_batch(model, ids, mask, labels, compressed)
        ar = lm_loss(model, x, mask, labels, f2b.generate_adapter())
        total = total + ar
        metrics["ar_caption" if caption_batch else "ar_qa"] = ar.item()
    if caption_batch and f2b.loss in ("disc", "both"):
        ids, mask = text_rows(tok, [t[0][1] for t in turns])
        text = model.compress(model.embed(ids), mask, prompt_ids, f2b.compress_adapter(), budget, bidirectional)
        disc = info_nce(model, Glimpse.retrieval_embedding(compressed), Glimpse.retrieval_embedding(text))
        total = total + (f2b.disc_weight if f2b.loss == "both" else 1.0) * disc
        metrics["disc"] = disc.item()
    return total, metrics


def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def save_checkpoint(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # a kill mid-save never leaves a torn checkpoint


def build_model(args, run: Path) -> Tuple[Glimpse, Tokenizer, dict]:
    """A fresh stage-1 model, or a stage-2 model on a finished stage-1 base."""
    if args.stage == 1:
        tok_path = run / "tokenizer.json"
        tok = Tokenizer.load(tok_path) if tok_path.exists() else Tokenizer.from_words(world_words(PROMPTS))
        tok.save(tok_path)
        cfg = ModelConfig(vocab_size=len(tok), **json.loads(args.model or "{}"))
        return Glimpse(cfg), tok, {}
    base = Path(args.base)
    base_ckpt = base / "final.pt"
    if not base_ckpt.exists():
        raise SystemExit(f"stage 2 needs a finished stage-1 run: {base_ckpt} is missing")
    payload = torch.load(base_ckpt, map_location="cpu")
    tok = Tokenizer.load(base / "tokenizer.json")
    tok.save(run / "tokenizer.json")
    f2b = Fwd2BotConfig(**json.loads(args.fwd2bot or "{}"))
    overrides = json.loads(args.model or "{}")
    if set(overrides) - set(STAGE2_MODEL_FIELDS):
        raise SystemExit(f"train.py: stage 2 can only change {', '.join(STAGE2_MODEL_FIELDS)}; the rest is the base model's")
    cfg = ModelConfig(**{**payload["config"], **overrides, "lora_adapters": 1 if f2b.adapters == "single" else 2})
    model = Glimpse(cfg)
    # Only the base weights carry over; adapters, summary tokens and temperature start fresh.
    base_weights = {k: v for k, v in payload["model"].items() if not is_fwd2bot_parameter(k)}
    missing, unexpected = model.load_state_dict(base_weights, strict=False)
    assert not unexpected, unexpected
    assert all(is_fwd2bot_parameter(k) for k in missing), missing
    return model, tok, asdict(f2b)


def is_fwd2bot_parameter(name: str) -> bool:
    return "lora_" in name or name in ("summary", "logit_scale")


def trainable(model: Glimpse, stage: int) -> List[torch.nn.Parameter]:
    """Stage 1 trains the whole base model; stage 2 only adapters, summary tokens and temperature."""
    for name, p in model.named_parameters():
        p.requires_grad = is_fwd2bot_parameter(name) == (stage == 2)
    return [p for p in model.parameters() if p.requires_grad]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", type=int, choices=(1, 2), required=True)
    ap.add_argument("--data", required=True, help="a world data set folder (train split)")
    ap.add_argument("--run", required=True, help="run folder: checkpoints, logs, tokenizer")
    ap.add_argument("--base", help="stage 2: the finished stage-1 run folder")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (stage 1: 1e-3, stage 2: 2e-3)")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=None, help="checkpoint and stop after this long (resume later)")
    ap.add_argument("--init", help="start from the weights of this final.pt or ckpt.pt (to train on with a new schedule)")
    ap.add_argument("--vision-aux", action=argparse.BooleanOptionalAction, default=True,
                    help="stage 1: supervise the vision tower with the scene graph (per-cell attributes, scene)")
    ap.add_argument("--model", help="JSON overrides of ModelConfig, e.g. '{\"dim\": 128}' (stage 2: only "
                    f"{', '.join(STAGE2_MODEL_FIELDS)})")
    ap.add_argument("--fwd2bot", help="JSON overrides of Fwd2BotConfig (stage 2), e.g. '{\"loss\": \"ar\"}'")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    run = Path(args.run)
    if (run / "final.pt").exists():
        print(f"{run} already finished ({run / 'final.pt'}); delete the folder to train again", flush=True)
        return
    try:
        ds = WorldDataset(args.data)
    except DatasetError as err:
        raise SystemExit(f"train.py: {err}")
    run.mkdir(parents=True, exist_ok=True)
    model, tok, f2b_dict = build_model(args, run)
    if ds.size != model.cfg.image_size:
        raise SystemExit(f"train.py: the data set's images are {ds.size} px but the model expects {model.cfg.image_size}")
    if args.init:
        init = torch.load(args.init, map_location="cpu")
        if init["config"] != asdict(model.cfg):
            raise SystemExit(f"train.py: {args.init} was trained with another model config")
        model.load_state_dict(init["model"])
    params = trainable(model, args.stage)
    f2b = Fwd2BotConfig(**f2b_dict) if args.stage == 2 else None
    if args.stage == 1:
        probe = VisionProbe(model.cfg) if args.vision_aux else None
    else:
        probe = SceneProbe(model.cfg) if f2b.scene_probe else None
    if probe is not None:
        params += list(probe.parameters())
        # a ckpt.pt carries the probe heads (a final.pt does not); stage 1 and 2 probes differ
        if args.init and init.get("probe") is not None and init["probe"].keys() == probe.state_dict().keys():
            probe.load_state_dict(init["probe"])
    peak = args.lr if args.lr is not None else (1e-3 if args.stage == 1 else 2e-3)
    opt = torch.optim.AdamW(params, lr=peak, betas=(0.9, 0.98), weight_decay=0.01 if args.stage == 1 else 0.0)
    start = 0
    ckpt = run / "ckpt.pt"
    if ckpt.exists():
        state = torch.load(ckpt, map_location="cpu")
        model.load_state_dict(state["model"])
        if probe is not None:
            probe.load_state_dict(state["probe"])
        opt.load_state_dict(state["optimizer"])
        start = state["step"]
        print(f"resuming {run} at step {start}", flush=True)
    prompt_ids = torch.tensor(tok.encode(COMPRESS_PROMPT))
    meta = {"stage": args.stage, "config": asdict(model.cfg), "fwd2bot": f2b_dict, "args": vars(args),
            "parameters": count_parameters(model), "trainable": sum(p.numel() for p in params), "data": str(args.data)}
    (run / "run.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps({k: meta[k] for k in ("stage", "parameters", "trainable")}), flush=True)

    def checkpoint(step: int) -> None:
        save_checkpoint(ckpt, {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                               "config": asdict(model.cfg), "fwd2bot": f2b_dict,
                               "probe": None if probe is None else probe.state_dict()})

    model.train()
    began = time.time()
    window: Dict[str, List[float]] = {}
    log = open(run / "log.jsonl", "a")
    step = start
    for step in range(start, args.steps):
        rng = random.Random(args.seed * 1_000_003 + step)  # per-step stream: resuming replays nothing
        idx = rng.sample(range(len(ds)), args.batch)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, peak, args.warmup)
        if args.stage == 1:
            loss, metrics = stage1_step(model, ds, tok, idx, rng, step, probe)
        else:
            loss, metrics = stage2_step(model, ds, tok, idx, rng, step, f2b, prompt_ids, probe)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        for k, v in metrics.items():
            window.setdefault(k, []).append(v)
        if (step + 1) % args.log_every == 0:
            elapsed = time.time() - began
            entry = {"step": step + 1, "lr": round(opt.param_groups[0]["lr"], 6), "elapsed_s": round(elapsed, 1),
                     "images_per_s": round((step + 1 - start) * args.batch / elapsed, 2),
                     **{k: round(sum(v) / len(v), 4) for k, v in window.items()}}
            log.write(json.dumps(entry) + "\n")
            log.flush()
            print(json.dumps(entry), flush=True)
            window = {}
        if (step + 1) % args.ckpt_every == 0:
            checkpoint(step + 1)
        if args.max_minutes is not None and time.time() - began > args.max_minutes * 60:
            checkpoint(step + 1)
            print(f"stopping at step {step + 1} after {args.max_minutes} minutes; run again to resume", flush=True)
            return
    checkpoint(args.steps)
    torch.save({"model": model.state_dict(), "config": asdict(model.cfg), "fwd2bot": f2b_dict, "steps": args.steps},
               run / "final.pt")
    print(f"finished {args.steps} steps; wrote {run / 'final.pt'}", flush=True)


if __name__ == "__main__":
    main()
