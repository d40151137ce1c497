"""Export a trained Fwd2Bot run as a model pack folder (the contract is in docs/model-pack.md).

  python3 training/export.py --run training/runs/fwd2bot --test data/test --out models/shapes-tiny

Writes vision.onnx, ONE llm.onnx (KV cache + adapter selector: 0 base, 1 compress,
2 generate), embed_tokens.f32, summary.f32, tokenizer.json, parity/ fixtures, and
pack.json with dims, prompts, template, special tokens, budgets, sha256 of every
file and the evaluation table measured on the test split.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import List

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import (CAPTION_INSTRUCTIONS, COMPRESS_PROMPT, E5V_IMAGE_PROMPT, E5V_TEXT_PROMPT, IMAGE_AT, PART_INSTRUCTION, PIXEL_MEAN,  # noqa: E402
                  PIXEL_STD, WorldDataset, chat_row)
from evaluate import Reader, evaluate, load_run  # noqa: E402
from fwd2bot import BUDGETS, greedy  # noqa: E402
from model import ADAPTER_BASE, ADAPTER_COMPRESS, ADAPTER_GENERATE, Glimpse, splice  # noqa: E402
from tokenizer import SPECIALS, Tokenizer  # noqa: E402

PACK_FORMAT, PACK_VERSION, OPSET = "glimpse-model-pack", 1, 17


class VisionGraph(nn.Module):
    def __init__(self, model: Glimpse):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        patches, cls = self.model.vision(pixel_values)
        return self.model.projector(patches), cls, patches


class LLMGraph(nn.Module):
    """The decoder with KV cache, adapter selector and logits for the last N positions only."""

    def __init__(self, model: Glimpse):
        super().__init__()
        self.model = model

    def forward(self, inputs_embeds, attention_mask, position_ids, adapter, num_logits_to_keep, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        hidden, presents = self.model.decoder(inputs_embeds, attention_mask, position_ids, adapter, past)
        t = hidden.shape[1]
        keep = torch.arange(t - num_logits_to_keep, t)
        logits = self.model.logits(hidden.index_select(1, keep))
        return (logits, hidden, *[x for kv in presents for x in kv])


def llm_io_names(layers: int):
    inputs = ["inputs_embeds", "attention_mask", "position_ids", "adapter", "num_logits_to_keep"]
    outputs = ["logits", "last_hidden_state"]
    for i in range(layers):
        inputs += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outputs += [f"present.{i}.key", f"present.{i}.value"]
    return inputs, outputs


def export_graphs(model: Glimpse, out: Path) -> None:
    cfg = model.cfg
    pixels = torch.randn(2, 3, cfg.image_size, cfg.image_size)
    torch.onnx.export(VisionGraph(model), (pixels,), str(out / "vision.onnx"), opset_version=OPSET,
                      input_names=["pixel_values"], output_names=["image_tokens", "cls", "patch_features"],
                      dynamic_axes={"pixel_values": {0: "batch"}, "image_tokens": {0: "batch"}, "cls": {0: "batch"},
                                    "patch_features": {0: "batch"}})
    b, t, p = 2, 5, 3
    past = []
    for _ in range(cfg.layers):
        past += [torch.randn(b, cfg.key_value_heads, p, cfg.head_dim), torch.randn(b, cfg.key_value_heads, p, cfg.head_dim)]
    args = (torch.randn(b, t, cfg.dim), torch.ones(b, p + t, dtype=torch.long),
            torch.arange(p, p + t)[None].expand(b, -1).contiguous(), torch.tensor(ADAPTER_COMPRESS),
            torch.tensor(1), *past)
    inputs, outputs = llm_io_names(cfg.layers)
    dyn = {"inputs_embeds": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "total"},
           "position_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "kept"},
           "last_hidden_state": {0: "batch", 1: "sequence"}}
    for name in inputs[5:]:
        dyn[name] = {0: "batch", 2: "past"}
    for name in outputs[2:]:
        dyn[name] = {0: "batch", 2: "total"}
    torch.onnx.export(LLMGraph(model), args, str(out / "llm.onnx"), opset_version=OPSET,
                      input_names=inputs, output_names=outputs, dynamic_axes=dyn)


def write_f32(path: Path, tensor: torch.Tensor) -> dict:
    arr = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4")
    arr.tofile(path)
    return {"file": path.name, "shape": list(arr.shape), "dtype": "float32"}


@torch.no_grad()
def write_parity(model: Glimpse, tok, f2b, ds: WorldDataset, out: Path) -> dict:
    """Inputs and PyTorch outputs the TypeScript engine must reproduce."""
    par = out / "parity"
    par.mkdir()
    fixtures: dict = {"tolerance": 1e-3}
    pixels = ds.pixels([0, 1])
    fixtures["pixel_values"] = write_f32(par / "pixel_values.f32", pixels)
    tokens, cls = model.image_tokens(pixels)
    fixtures["image_tokens"] = write_f32(par / "image_tokens.f32", tokens)
    fixtures["cls"] = write_f32(par / "cls.f32", cls)
    reader = Reader(model, tok, f2b, model.cfg.summary_tokens)
    compressed = reader.image_tokens(pixels)
    fixtures["compressed"] = write_f32(par / "compressed.f32", compressed)
    fixtures["image_embedding"] = write_f32(par / "image_embedding.f32", Glimpse.retrieval_embedding(compressed))
    texts = [ds.record(0)["captions"][0]["text"], "a red circle on a beach", "two dogs on a beach at sunset"]
    fixtures["texts"] = texts
    fixtures["text_ids"] = [tok.encode(t) for t in texts]
    fixtures["text_embedding"] = write_f32(par / "text_embedding.f32", reader.embed_texts(texts))
    record = ds.record(0)
    question = record["questions"][0]["question"]
    generations = []
    for budget in (None, *BUDGETS):
        r = Reader(model, tok, f2b, budget)
        for instruction in (question, CAPTION_INSTRUCTIONS[0]):
            row = chat_row(tok, [(instruction, "")])
            toks = r.image_tokens(pixels[:1])
            x = splice(model.embed(torch.tensor([row.ids])), IMAGE_AT, toks)
            mask = torch.ones(x.shape[:2], dtype=torch.long)
            ids = greedy(model, x, mask, r.adapter, tok.eos_id, 24)[0]
            generations.append({"budget": budget, "image": 0, "instruction": instruction, "prompt_ids": row.ids,
                                "generated_ids": ids, "text": tok.decode(ids)})
    fixtures["generations"] = generations
    (par / "fixtures.json").write_text(json.dumps(fixtures, indent=1) + "\n")
    return fixtures


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_pack(run: Path, test: Path, out: Path, images: int, pack_id: str) -> dict:
    model, tok, f2b = load_run(run)
    if f2b is None:
        raise SystemExit(f"{run} is a stage-1 run; export a stage-2 (Fwd2Bot) run")
    if f2b.attention != "causal":
        raise SystemExit("only causal compression attention is exportable (the graph builds a causal mask)")
    if f2b.forward != "double" or f2b.adapters == "full":
        # ablation runs: the engine runs pass 1 in the LLM, and its base adapter must stay the stage-1 model
        raise SystemExit(f"{run} is an ablation run (forward {f2b.forward}, adapters {f2b.adapters}); only double-forward "
                         "runs with adapters are exportable")
    ds = WorldDataset(test)
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    export_graphs(model, tmp)
    write_f32(tmp / "embed_tokens.f32", model.decoder.embed.weight)
    write_f32(tmp / "summary.f32", model.summary)
    tok.save(tmp / "tokenizer.json")
    write_parity(model, tok, f2b, ds, tmp)
    began = time.time()
    evaluation = evaluate(model, tok, f2b, ds, images)
    eval_seconds = round(time.time() - began, 1)
    cfg = model.cfg
    run_meta = json.loads((run / "run.json").read_text())
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    pack = {
        "format": PACK_FORMAT, "version": PACK_VERSION, "id": pack_id,
        "description": "Tiny Fwd2Bot model trained from scratch on the procedural shapes world",
        "domain": pack_domain(tok),
        "language": run_meta.get("language", 1),  # the world's language version it was trained on
        "dims": {"vision_dim": cfg.vision_dim, "vision_tokens": cfg.vision_tokens, "hidden": cfg.dim,
                 "layers": cfg.layers, "heads": cfg.heads, "head_dim": cfg.head_dim, "vocab_size": cfg.vocab_size},
        "image": {"size": cfg.image_size, "channels": "rgb", "mean": list(PIXEL_MEAN), "std": list(PIXEL_STD),
                  "scale": "pixel / 255, then (x - mean) / std", "layout": "NCHW",
                  "resize": "fill"},  # stretch to a square: keeps every grid cell, as the world renders
        "prompts": {"compress": COMPRESS_PROMPT, "caption": CAPTION_INSTRUCTIONS[0],
                    "e5v_image": E5V_IMAGE_PROMPT, "e5v_text": E5V_TEXT_PROMPT,
                    **({"partial_caption": PART_INSTRUCTION} if f2b.probe_captions > 0 else {})},
        "template": {"generation": ["<s>", "USER:", "<image>", "{instruction}", "ASSISTANT:"],
                     "compress_image": ["{image_tokens}", "{compress_prompt}", "{summary_tokens}"],
                     "compress_text": ["{text}", "{compress_prompt}", "{summary_tokens}"],
                     "note": "special tokens are inserted by id; only {instruction}, {text} and prompts are tokenized"},
        "special_tokens": {name: tok.vocab[name] for name in SPECIALS},
        "summary": {"tokens": cfg.summary_tokens, "budgets": list(BUDGETS) if f2b.budgets == "prefix" else [cfg.summary_tokens],
                    "prefix_budgets": f2b.budgets == "prefix"},
        "adapters": {"base": ADAPTER_BASE, "compress": f2b.compress_adapter(), "generate": f2b.generate_adapter()},
        "graphs": {
            "vision": {"file": "vision.onnx", "inputs": ["pixel_values"], "outputs": ["image_tokens", "cls", "patch_features"]},
            "llm": {"file": "llm.onnx", "inputs": llm_io_names(cfg.layers)[0], "outputs": llm_io_names(cfg.layers)[1]},
        },
        "tensors": {"embed_tokens": {"file": "embed_tokens.f32", "shape": [cfg.vocab_size, cfg.dim], "dtype": "float32"},
                    "summary": {"file": "summary.f32", "shape": [cfg.summary_tokens, cfg.dim], "dtype": "float32"}},
        "tokenizer": {"file": "tokenizer.json", "config": "tokenizer_config.json"},
        "parity": "parity/fixtures.json",
        "fwd2bot": json.loads(json.dumps(run_meta["fwd2bot"])),
        "training": {"stage1": lineage(Path(run_meta["args"]["base"])), "stage2": lineage(run), "lora_rank": cfg.lora_rank,
                     "parameters": run_meta["parameters"], "trainable_stage2": run_meta["trainable"],
                     # what training/unpack.py needs to rebuild the checkpoints exactly
                     "config": asdict(cfg), "logit_scale": float(model.logit_scale)},
        "evaluation": {"split": "test", "images": images, "seconds": eval_seconds, "scores": evaluation},
        "files": {str(p.relative_to(tmp)): {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in files},
    }
    (tmp / "pack.json").write_text(json.dumps(pack, indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return pack


def pack_domain(tok: Tokenizer) -> dict:
    """pack.json's `domain` (docs/model-pack.md) from training/pack-domain.json. Aliases
    map a user's word the pack does not know onto one it does, so an alias from a word
    the vocabulary has, or onto one it lacks, is left out."""
    domain = json.loads((Path(__file__).resolve().parent / "pack-domain.json").read_text())
    aliases = {src: dst for src, dst in domain.get("aliases", {}).items() if src not in tok.vocab and dst in tok.vocab}
    return {**domain, "aliases": aliases}


def lineage(folder: Path) -> list:
    """The training schedules that ended in the run `folder`, first to last: a run started
    with --init continues the run whose checkpoint it names."""
    chain = []
    while (folder / "run.json").exists() and len(chain) < 100:
        meta = json.loads((folder / "run.json").read_text())
        if "lineage" in meta:  # unpacked from a pack (training/unpack.py): the schedules the pack recorded
            return meta["lineage"] + chain
        args = meta["args"]
        chain.insert(0, args)
        if not args.get("init"):
            break
        folder = Path(args["init"]).parent
    return chain


def main(argv: List[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a finished stage-2 run folder")
    ap.add_argument("--test", required=True, help="a world test-split folder")
    ap.add_argument("--out", required=True, help="the pack folder to write, e.g. models/shapes-tiny")
    ap.add_argument("--id", default="shapes-tiny")
    ap.add_argument("--images", type=int, default=500, help="test images for the evaluation table")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    pack = export_pack(Path(args.run), Path(args.test), Path(args.out), args.images, args.id)
    print(f"wrote {args.out}: " + ", ".join(f"{k} ({v['bytes']} B)" for k, v in pack["files"].items()))


if __name__ == "__main__":
    main()
