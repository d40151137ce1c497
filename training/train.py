"""Training: stage 1 (the base model, "LLaVA mode") and stage 2 (Fwd2Bot). A script:
the model is in model.py, the losses and training steps in fwd2bot.py.

  python3 training/train.py --stage 1 --data data/train --run training/runs/base --steps 3000
  python3 training/train.py --stage 2 --data data/train --run training/runs/fwd2bot --base training/runs/base --steps 3000

Runs resume from their last checkpoint (run/ckpt.pt) when started again, log one
JSON line per logged step to run/log.jsonl, and stop cleanly at --max-minutes.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Tuple

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import COMPRESS_PROMPT, PROMPTS, DatasetError, WorldDataset  # noqa: E402
from fwd2bot import (STAGE2_MODEL_FIELDS, Fwd2BotConfig, attach_single_forward, remap_vocabulary,  # noqa: E402
                     is_fwd2bot_parameter, lr_at, save_checkpoint, stage1_step, stage2_step, trainable)
from model import Glimpse, ModelConfig, count_parameters  # noqa: E402
from probes import SceneProbe, VisionProbe  # noqa: E402
from run_folder import MetricsLog, add_run_options, open_run, resume  # noqa: E402
from tokenizer import PUNCTUATION, SPECIALS, Tokenizer, split_words, world_lexicon, world_words  # noqa: E402

def build_model(args, run: Path, ds: WorldDataset) -> Tuple[Glimpse, Tokenizer, dict]:
    """A fresh stage-1 model, or a stage-2 model on a finished stage-1 base."""
    language = ds.manifest.get("language", 1)
    if args.stage == 1:
        tok_path = run / "tokenizer.json"
        if tok_path.exists():
            tok = Tokenizer.load(tok_path)
        else:
            # Only words the training data (or a prompt) uses: a word only the test split has would
            # get an embedding training never updates; left out, it is <unk> and reported as unknown.
            seen = ds.text_words() | {w for p in PROMPTS for w in split_words(p)}
            if args.init_tokenizer:  # the --init model's words are kept and the data set's new words appended
                tok = Tokenizer.load(args.init_tokenizer).extended(world_words(PROMPTS, language)).restricted(seen)
            else:
                tok = Tokenizer.from_words(world_words(PROMPTS, language)).restricted(seen)
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
    try:
        f2b = Fwd2BotConfig(**json.loads(args.fwd2bot or "{}"))
    except (TypeError, ValueError) as err:
        raise SystemExit(f"train.py: bad --fwd2bot: {err}")
    overrides = json.loads(args.model or "{}")
    if set(overrides) - set(STAGE2_MODEL_FIELDS):
        raise SystemExit(f"train.py: stage 2 can only change {', '.join(STAGE2_MODEL_FIELDS)}; the rest is the base model's")
    cfg = ModelConfig(**{**payload["config"], **overrides, "lora_adapters": f2b.lora_adapters()})
    model = Glimpse(cfg)
    if f2b.forward == "single":
        attach_single_forward(model)
    # Only the base weights carry over; adapters, summary tokens and temperature start fresh.
    base_weights = {k: v for k, v in payload["model"].items() if not is_fwd2bot_parameter(k)}
    missing, unexpected = model.load_state_dict(base_weights, strict=False)
    assert not unexpected, unexpected
    assert all(is_fwd2bot_parameter(k) for k in missing), missing
    return model, tok, asdict(f2b)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", type=int, choices=(1, 2), required=True)
    ap.add_argument("--data", required=True, help="a world data set folder (train split)")
    add_run_options(ap, steps=3000, batch=32, lr=None, warmup=100, helps={
        "run": "run folder: checkpoints, logs, tokenizer", "lr": "peak learning rate (stage 1: 1e-3, stage 2: 2e-3)"})
    ap.add_argument("--base", help="stage 2: the finished stage-1 run folder")
    ap.add_argument("--init", help="start from the weights of this final.pt or ckpt.pt (to train on with a new schedule)")
    ap.add_argument("--init-adapters", help="stage 2: start the adapters, summary tokens and temperature from this "
                    "stage-2 final.pt or ckpt.pt (e.g. the previous pack's, after its base was trained on)")
    ap.add_argument("--init-tokenizer", help="stage 1 with --init: the tokenizer.json the --init weights were trained "
                    "with (default: the tokenizer.json beside --init); the data set's new words are appended, words "
                    "its texts never use left out, and the token tables remapped by word (fwd2bot.remap_vocabulary)")
    ap.add_argument("--unk-rate", type=float, default=0.0, help="stage 1: chance that a non-meaning question word "
                    "is read as <unk> (stage 2: the fwd2bot unk_rate)")
    ap.add_argument("--unk-insert-rate", type=float, default=0.0, help="stage 1: per question token, the chance of an "
                    "extra <unk> before it (stage 2: the fwd2bot unk_insert_rate)")
    ap.add_argument("--vision-aux", action=argparse.BooleanOptionalAction, default=True,
                    help="stage 1: supervise the vision tower with the scene graph (per-cell attributes, scene)")
    ap.add_argument("--model", help="JSON overrides of ModelConfig, e.g. '{\"dim\": 128}' (stage 2: only "
                    f"{', '.join(STAGE2_MODEL_FIELDS)})")
    ap.add_argument("--fwd2bot", help="JSON overrides of Fwd2BotConfig (stage 2), e.g. '{\"loss\": \"ar\"}'")
    args = ap.parse_args(argv)
    if args.init and not args.init_tokenizer and (Path(args.init).parent / "tokenizer.json").is_file():
        # The tokenizer of the run --init comes from: this run's vocabulary is built from the training
        # data, so its ids may differ and the weights are remapped by word rather than read by id.
        args.init_tokenizer = str(Path(args.init).parent / "tokenizer.json")

    for flag in ("unk_rate", "unk_insert_rate"):
        if not 0 <= getattr(args, flag) <= 1:
            raise SystemExit(f"train.py: --{flag.replace('_', '-')} must be a probability in [0, 1], not {getattr(args, flag)}")
    run = open_run(args)
    if run is None:
        return
    try:
        ds = WorldDataset(args.data)
    except DatasetError as err:
        raise SystemExit(f"train.py: {err}")
    run.mkdir(parents=True, exist_ok=True)
    language = ds.manifest.get("language", 1)
    model, tok, f2b_dict = build_model(args, run, ds)
    # One world CLI call for both uses: word dropout's meaning words, vocabulary growth's synonyms.
    meaning_words, synonyms = world_lexicon() if language == 2 or args.init_tokenizer else ([], {})
    keep = {tok.vocab[w] for w in meaning_words if w in tok.vocab} if language == 2 else set()
    keep |= {tok.vocab[t] for t in SPECIALS} | {tok.vocab[p] for p in PUNCTUATION}
    if ds.size != model.cfg.image_size:
        raise SystemExit(f"train.py: the data set's images are {ds.size} px but the model expects {model.cfg.image_size}")
    if args.init:
        init = torch.load(args.init, map_location="cpu")
        init_tok = Tokenizer.load(args.init_tokenizer) if args.init_tokenizer else None
        if init_tok is not None and init_tok.vocab != tok.vocab:
            remap_vocabulary(init["model"], init_tok, tok, synonyms)
            init["config"] = {**init["config"], "vocab_size": len(tok)}
        if asdict(ModelConfig(**init["config"])) != asdict(model.cfg):  # fields added since default as before
            raise SystemExit(f"train.py: {args.init} was trained with another model config")
        model.load_state_dict(init["model"])
    if args.init_adapters:
        if args.stage != 2 or args.init:
            raise SystemExit("train.py: --init-adapters is for a fresh stage-2 run (without --init)")
        donor = {k: v for k, v in torch.load(args.init_adapters, map_location="cpu")["model"].items() if is_fwd2bot_parameter(k)}
        own = model.state_dict()
        if donor.keys() != {k for k in own if is_fwd2bot_parameter(k)} or any(v.shape != own[k].shape for k, v in donor.items()):
            raise SystemExit(f"train.py: {args.init_adapters} has other adapters than this run (lora_rank, adapters)")
        model.load_state_dict(donor, strict=False)
    f2b = Fwd2BotConfig(**f2b_dict) if args.stage == 2 else None
    named = {switch: set(getattr(f2b, switch)) for switch in ("text_pair_skip", "probe_caption_weights")} if f2b else {}
    if any(named.values()):
        # A misspelt category would silently skip or weigh nothing. One pass over the data set's records for both.
        categories = ds.probe_categories()
        for switch, names in named.items():
            unknown = sorted(names - categories)
            if unknown:
                raise SystemExit(f"train.py: {switch} names {', '.join(unknown)}, which the data set's probes do not have "
                                 f"(they have {', '.join(sorted(categories)) or 'none'})")
    params = trainable(model, args.stage, f2b)
    if args.stage == 1:
        probe = VisionProbe(model.cfg, ds.vocabulary) if args.vision_aux else None
    else:
        probe = SceneProbe(model.cfg, ds.vocabulary) if f2b.scene_probe else None
    if probe is not None:
        params += list(probe.parameters())
        # a ckpt.pt carries the probe heads (a final.pt does not); stage 1 and 2 probes differ
        if args.init and init.get("probe") is not None and init["probe"].keys() == probe.state_dict().keys():
            probe.load_state_dict(init["probe"])
    peak = args.lr if args.lr is not None else (1e-3 if args.stage == 1 else 2e-3)
    opt = torch.optim.AdamW(params, lr=peak, betas=(0.9, 0.98), weight_decay=0.01 if args.stage == 1 else 0.0)

    def restore(state: dict) -> None:
        model.load_state_dict(state["model"])
        if probe is not None:
            probe.load_state_dict(state["probe"])
        opt.load_state_dict(state["optimizer"])

    start = resume(run, restore)
    prompt_ids = torch.tensor(tok.encode(COMPRESS_PROMPT))
    meta = {"stage": args.stage, "config": asdict(model.cfg), "fwd2bot": f2b_dict, "args": vars(args),
            "parameters": count_parameters(model), "trainable": sum(p.numel() for p in params), "data": str(args.data),
            "language": language}
    (run / "run.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps({k: meta[k] for k in ("stage", "parameters", "trainable")}), flush=True)

    def checkpoint(step: int) -> None:
        save_checkpoint(run / "ckpt.pt", {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                               "config": asdict(model.cfg), "fwd2bot": f2b_dict,
                               "probe": None if probe is None else probe.state_dict()})

    model.train()
    began = time.time()
    log = MetricsLog(run / "log.jsonl")
    step = start
    for step in range(start, args.steps):
        rng = random.Random(args.seed * 1_000_003 + step)  # per-step stream: resuming replays nothing
        idx = rng.sample(range(len(ds)), args.batch)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, peak, args.warmup)
        if args.stage == 1:
            loss, metrics = stage1_step(model, ds, tok, idx, rng, step, probe, args.unk_rate, keep, args.unk_insert_rate)
        else:
            loss, metrics = stage2_step(model, ds, tok, idx, rng, step, f2b, prompt_ids, probe, keep)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        log.add(metrics)
        if (step + 1) % args.log_every == 0:
            elapsed = time.time() - began
            log.write({"step": step + 1, "lr": round(opt.param_groups[0]["lr"], 6), "elapsed_s": round(elapsed, 1),
                       "images_per_s": round((step + 1 - start) * args.batch / elapsed, 2)})
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
