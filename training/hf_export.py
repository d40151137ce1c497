"""Exports a Fwd2Bot run on an imported Hugging Face checkpoint as a version-2 model pack
(docs/model-pack.md, "Format version 2"):

  python3 training/hf_export.py --run RUN --llava-data JSON --images DIR --captions SHARDS --out PACK [--quantize int8]

The same two graphs as a shapes pack (vision.onnx; llm.onnx with KV cache of kv_heads and
the adapter selector), the checkpoint's own tokenizer.json, the chat template, special
tokens and image preprocessing in pack.json, the embedding table in float16, graphs over
2 GB with their weights in one `<graph>.onnx.data` file beside them, and optionally
weight-only int8 for the decoder's base weights (LoRA, norms, biases, vision stay float).
Parity fixtures are computed from the very weights the graphs hold (float16-rounded
embeddings; int8-rounded weights when quantized), so the engine must match them to 1e-3.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import List, Optional

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import CAPTION_INSTRUCTIONS, COMPRESS_PROMPT, E5V_IMAGE_PROMPT, E5V_TEXT_PROMPT  # noqa: E402
from export import PACK_FORMAT, export_graphs, llm_io_names, sha256, write_f32  # noqa: E402
from fwd2bot import BUDGETS, Fwd2BotConfig  # noqa: E402
from hf_checkpoint import FAMILIES, Imported, image_spec  # noqa: E402
from hf_data import CaptionShards, LlavaConversations, collate  # noqa: E402
from hf_eval import answer, compress_images, embed_texts, evaluate  # noqa: E402
from hf_rows import ChatRows  # noqa: E402
from hf_train import load_trained  # noqa: E402
from model import ADAPTER_BASE, Glimpse  # noqa: E402

PACK_VERSION_2 = 2
TWO_GB = 2 * 1024 ** 3
# onnxruntime (>= 1.20) fuses DequantizeLinear -> MatMul into an 8-bit MatMulNBits. At accuracy level 4 (its
# default) that rounds the activations to int8 too, so hidden states drift past the parity tolerance; at level 1
# (float activations) its CPU kernel has no 8-bit path and dequantizes the whole weight into a fresh float buffer
# on every call: 2.2 s per decoded token for Qwen2's 151,936 x 896 LM head, 45x slower than fp32 (measured,
# docs/engine.md). With the QDQ fusion off, constant folding dequantizes each weight once at load instead: plain
# float MatMuls on exactly the int8-rounded values PyTorch uses, as fast as fp32 (in memory as large as fp32).
INT8_SESSION_CONFIG = {"session.disable_quant_qdq": "1"}


def int8_matmul_weights(graph_path: Path) -> dict:
    """Rewrites llm.onnx so every MatMul whose weight is a 2-D float initializer (the decoder's
    base linear weights and the LM head, stored transposed [in, out]; LoRA matrices are
    gathered per adapter, never plain initializers) reads it from an int8 initializer
    through DequantizeLinear, symmetric per output channel. Returns {digest of the float
    weight: the float32 values the graph now computes} for `use_dequantized`."""
    m = onnx.load(str(graph_path))
    inits = {i.name: i for i in m.graph.initializer}
    done, nodes = {}, []
    for node in m.graph.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if w is not None and len(w.dims) == 2 and w.data_type == onnx.TensorProto.FLOAT:
            arr = numpy_helper.to_array(w)                          # [in, out]
            scale = (np.abs(arr).max(0) / 127).clip(min=1e-12).astype(np.float32)
            q = np.clip(np.round(arr / scale), -127, 127).astype(np.int8)
            done[hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()] = q.astype(np.float32) * scale
            base = w.name
            m.graph.initializer.remove(w)
            m.graph.initializer.extend([numpy_helper.from_array(q, base + "_int8"),
                                        numpy_helper.from_array(scale, base + "_scale"),
                                        numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), base + "_zero")])
            nodes.append(helper.make_node("DequantizeLinear", [base + "_int8", base + "_scale", base + "_zero"],
                                          [base + "_dq"], axis=1, name=base + "_dequantize"))
            node.input[1] = base + "_dq"
        nodes.append(node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    onnx.save(m, str(graph_path))
    return done


@torch.no_grad()
def use_dequantized(model: Glimpse, dequantized: dict) -> int:
    """Gives the PyTorch model the int8-rounded weights the graph computes, bit for bit, so
    the parity fixtures hold for the quantized pack. A tied LM head is untied first (the
    embedding table itself stays float16). Returns how many weights were replaced."""
    dec = model.decoder
    if dec.lm_head.weight is dec.embed.weight:
        dec.lm_head.weight = torch.nn.Parameter(dec.embed.weight.detach().clone())
    count = 0
    for linear in [m.base for m in dec.modules() if hasattr(m, "lora_a")] + [dec.lm_head]:
        key = hashlib.sha256(np.ascontiguousarray(linear.weight.detach().t().numpy()).tobytes()).hexdigest()
        if key not in dequantized:
            raise RuntimeError("a decoder weight was not found among the graph's quantized MatMul weights")
        linear.weight.copy_(torch.from_numpy(dequantized[key]).t())
        count += 1
    return count


def place_graph(scratch: Path, name: str, out: Path, external: str) -> List[str]:
    """Moves scratch/name (plus any per-tensor files torch wrote for a graph over 2 GB) into
    `out`, with every weight in one `name.data` file when `external` is always, or auto and
    the graph is over 2 GB. Returns the external data files."""
    m = onnx.load(str(scratch / name))  # reads torch's external files, if any, from scratch
    size = sum(p.stat().st_size for p in scratch.iterdir())
    if external == "always" or (external == "auto" and size > TWO_GB):
        onnx.save_model(m, str(out / name), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=f"{name}.data", size_threshold=1024)
        return [f"{name}.data"]
    onnx.save(m, str(out / name))
    return []


@torch.no_grad()
def write_parity(model: Glimpse, rows: ChatRows, f2b: Fwd2BotConfig, pixels: torch.Tensor, question: str,
                 caption: str, out: Path) -> None:
    par = out / "parity"
    par.mkdir()
    fx: dict = {"tolerance": 1e-3}
    fx["pixel_values"] = write_f32(par / "pixel_values.f32", pixels)
    tokens, cls = model.image_tokens(pixels)
    fx["image_tokens"] = write_f32(par / "image_tokens.f32", tokens)
    fx["cls"] = write_f32(par / "cls.f32", cls)
    compressed = compress_images(model, rows, f2b, pixels)
    fx["compressed"] = write_f32(par / "compressed.f32", compressed)
    fx["image_embedding"] = write_f32(par / "image_embedding.f32", Glimpse.retrieval_embedding(compressed))
    texts = [caption, "a red circle on a beach", "Two dogs, one cat!", ""]
    fx["texts"], fx["text_ids"] = texts, [rows.text_ids(t) for t in texts]
    fx["text_embedding"] = write_f32(par / "text_embedding.f32", embed_texts(model, rows, f2b, texts))
    generations = []
    for budget in (None, *[b for b in BUDGETS if b <= model.cfg.summary_tokens]):
        full = budget is None
        visual = tokens[:1] if full else compress_images(model, rows, f2b, pixels[:1], budget)
        mode = Fwd2BotConfig(**{**f2b.__dict__, "adapters": "full"}) if full else f2b  # full-token mode: base adapter
        for instruction in (question, CAPTION_INSTRUCTIONS[0]):
            ids = answer(model, rows, mode, visual, [instruction], max_new=24)[0]
            generations.append({"budget": budget, "image": 0, "instruction": instruction, "prompt_ids": rows.prompt(instruction),
                                "image_at": rows.image_at, "generated_ids": ids, "text": rows.tok.decode(ids)})
    fx["generations"] = generations
    (par / "fixtures.json").write_text(json.dumps(fx, indent=1) + "\n")


def pack_manifest(model: Glimpse, meta: Imported, f2b: Fwd2BotConfig, run_meta: dict, pack_id: str, external: dict,
                  quantized: Optional[int]) -> dict:
    cfg, hf = model.cfg, meta.hf_config
    inputs, outputs = llm_io_names(cfg.layers)
    graphs = {"vision": {"file": "vision.onnx", "inputs": ["pixel_values"], "outputs": ["image_tokens", "cls", "patch_features"]},
              "llm": {"file": "llm.onnx", "inputs": inputs, "outputs": outputs}}
    for name, files in external.items():
        if files:
            graphs[name]["external_data"] = files
    _, text_type, vision_type, *_ = FAMILIES[meta.family]
    pack = {
        "format": PACK_FORMAT, "version": PACK_VERSION_2, "id": pack_id,
        "description": f"Fwd2Bot on {meta.folder.name} ({hf['architectures'][0]}), trained with {run_meta['args']['steps']} stage-2 steps",
        "dims": {"vision_dim": cfg.vision_dim, "vision_tokens": cfg.vision_tokens, "hidden": cfg.dim, "layers": cfg.layers,
                 "heads": cfg.heads, "kv_heads": cfg.key_value_heads, "head_dim": cfg.head_dim, "vocab_size": cfg.vocab_size},
        "model": {"family": meta.family, "text_architecture": (hf.get("text_config") or {}).get("model_type", text_type),
                  "vision_architecture": (hf.get("vision_config") or {}).get("model_type", vision_type).replace("_vision_model", ""),
                  "rope_theta": cfg.rope_theta, "attention_bias": cfg.attention_bias, "tie_word_embeddings": cfg.tie_embeddings,
                  "vision_feature_layer": cfg.vision_feature_layer,
                  "vision_feature_select_strategy": "full" if cfg.vision_keep_cls or not cfg.vision_cls else "default",
                  "source": {"checkpoint": meta.folder.name, "config_sha256": sha256(meta.folder / "config.json")}},
        "image": image_spec(meta.preprocess),
        "prompts": {"compress": COMPRESS_PROMPT, "caption": CAPTION_INSTRUCTIONS[0], "e5v_image": E5V_IMAGE_PROMPT,
                    "e5v_text": E5V_TEXT_PROMPT},
        "chat": meta.chat, "special_tokens": meta.special_tokens,
        "summary": {"tokens": cfg.summary_tokens,
                    "budgets": [b for b in BUDGETS if b <= cfg.summary_tokens] if f2b.budgets == "prefix" else [cfg.summary_tokens],
                    "prefix_budgets": f2b.budgets == "prefix"},
        "adapters": {"base": ADAPTER_BASE, "compress": f2b.compress_adapter(), "generate": f2b.generate_adapter()},
        "graphs": graphs,
        "tensors": {"embed_tokens": {"file": "embed_tokens.f16", "shape": [cfg.vocab_size, cfg.dim], "dtype": "float16"},
                    "summary": {"file": "summary.f32", "shape": [cfg.summary_tokens, cfg.dim], "dtype": "float32"}},
        "tokenizer": {"file": "tokenizer.json", "config": "tokenizer_config.json", "kind": meta.tokenizer.kind},
        "parity": "parity/fixtures.json",
        "fwd2bot": dict(f2b.__dict__),
        "training": {"stage2": run_meta["args"], "checkpoint": meta.folder.name, "lora_rank": cfg.lora_rank,
                     "parameters": run_meta["parameters"], "trainable_stage2": run_meta["trainable"]},
    }
    if quantized:
        pack["quantization"] = {"weights": "int8", "scheme": "symmetric per output channel", "tensors": quantized,
                                "applies_to": "decoder base linear weights and the LM head", "lora": "float32",
                                "embed_tokens": "float16", "compute": "float32, dequantized once when the session loads",
                                "session_config": INT8_SESSION_CONFIG}
    return pack


def export_pack(run: Path, out: Path, conversations_json: str, images: str, captions, pack_id: str,
                quantize: Optional[str] = None, external: str = "auto", eval_records: int = 32, eval_images: int = 64) -> dict:
    model, meta, rows, f2b, run_meta = load_trained(run)
    if f2b.attention != "causal":
        raise SystemExit("only causal compression attention is exportable (the graph builds a causal mask)")
    model.eval()
    with torch.no_grad():  # the engine reads a float16 table: compute everything from the same values
        model.decoder.embed.weight.copy_(model.decoder.embed.weight.half().float())
    conversations = LlavaConversations(conversations_json, images, meta.preprocess)
    shards = CaptionShards(captions, meta.preprocess)
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / ".graphs").mkdir(parents=True)
    export_graphs(model, tmp / ".graphs")
    quantized = use_dequantized(model, int8_matmul_weights(tmp / ".graphs" / "llm.onnx")) if quantize == "int8" else None
    placed = {name: place_graph(tmp / ".graphs", f"{name}.onnx", tmp, external) for name in ("vision", "llm")}
    shutil.rmtree(tmp / ".graphs")
    model.decoder.embed.weight.detach().half().numpy().astype("<f2").tofile(tmp / "embed_tokens.f16")
    write_f32(tmp / "summary.f32", model.summary)
    shutil.copy(meta.folder / "tokenizer.json", tmp / "tokenizer.json")
    shutil.copy(meta.folder / "tokenizer_config.json", tmp / "tokenizer_config.json")
    pixels, samples = collate([shards[0], shards[1]])
    first = next(s for s in (conversations[i] for i in range(len(conversations))) if s.pixel_values is not None)
    write_parity(model, rows, f2b, pixels, first.turns[0].human, samples[0].caption, tmp)
    began = time.time()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # a 7B model evaluates on the GPU
    scores = evaluate(model.to(device), rows, f2b, conversations, shards, eval_records, eval_images)
    model.cpu()
    pack = pack_manifest(model, meta, f2b, run_meta, pack_id, placed, quantized)
    pack["evaluation"] = {"split": "given", "images": scores["retrieval_images"], "seconds": round(time.time() - began, 1),
                          "data": {"conversations": str(conversations_json), "captions": [str(c) for c in captions]},
                          "scores": scores}
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    pack["files"] = {str(p.relative_to(tmp)): {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in files}
    (tmp / "pack.json").write_text(json.dumps(pack, indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return pack


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a finished hf_train.py run")
    ap.add_argument("--llava-data", required=True, help="conversations JSON for the parity fixtures and evaluation (a held-out split)")
    ap.add_argument("--images", required=True)
    ap.add_argument("--captions", required=True, nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--id", required=True, help="the pack id, e.g. llava-1.5-7b-fwd2bot")
    ap.add_argument("--quantize", choices=("int8",), help="weight-only int8 for the decoder's base weights")
    ap.add_argument("--external-data", choices=("auto", "always", "never"), default="auto",
                    help="weights in <graph>.onnx.data beside the graph (auto: graphs over 2 GB)")
    ap.add_argument("--eval-records", type=int, default=32)
    ap.add_argument("--eval-images", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    pack = export_pack(Path(args.run), Path(args.out), args.llava_data, args.images, args.captions, args.id, args.quantize,
                       args.external_data, args.eval_records, args.eval_images)
    print(f"wrote {args.out}: " + ", ".join(f"{k} ({v['bytes']} B)" for k, v in pack["files"].items()), flush=True)
    print(json.dumps({"evaluation": pack["evaluation"]["scores"]}), flush=True)


if __name__ == "__main__":
    main()
