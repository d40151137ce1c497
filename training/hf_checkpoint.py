"""Imports a Hugging Face LLaVA-1.5 or LLaVA-OneVision checkpoint folder into model.Glimpse.

  folder/config.json                 LlavaForConditionalGeneration | LlavaOnevisionForConditionalGeneration
  folder/model.safetensors           or model-0000X-of-0000N.safetensors + model.safetensors.index.json
  folder/tokenizer.json, tokenizer_config.json (chat_template), preprocessor_config.json

ModelConfig is filled from config.json (defaults where the file omits a field are those
of transformers' config classes), and every tensor is mapped by name, the way nanoGPT's
from_pretrained maps GPT-2: a missing, unexpected or wrongly shaped tensor is one
CheckpointError naming it. Tensor names are the hub layout (`language_model.model.…`,
`vision_tower.vision_model.…`, `multi_modal_projector.linear_1`); the layout of
transformers >= 4.52 (`model.language_model.…`, `lm_head`) is accepted too.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import torch

from hf_data import DataError, ImagePreprocess, from_preprocessor_config
from hf_tokenizer import HFTokenizer
from model import Glimpse, ModelConfig
from safetensors_io import SafetensorsError, checkpoint_files
from safetensors_io import load_file as load_checkpoint_file

# transformers' defaults for fields a config.json may leave out
TEXT_DEFAULTS = {
    "llama": {"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": None, "hidden_act": "silu", "rms_norm_eps": 1e-6,
              "rope_theta": 10000.0, "attention_bias": False, "tie_word_embeddings": False, "max_position_embeddings": 2048},
    "qwen2": {"vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": 32, "hidden_act": "silu", "rms_norm_eps": 1e-6,
              "rope_theta": 10000.0, "attention_bias": True, "tie_word_embeddings": False, "max_position_embeddings": 32768},
}
VISION_DEFAULTS = {
    "clip_vision_model": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
                          "image_size": 224, "patch_size": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5},
    "siglip_vision_model": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
                            "image_size": 224, "patch_size": 16, "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-6},
}
FAMILIES = {
    # model_type: (architecture, default text model, default vision model, image_token_index, feature layer, strategy)
    "llava": ("LlavaForConditionalGeneration", "llama", "clip_vision_model", 32000, -2, "default"),
    "llava_onevision": ("LlavaOnevisionForConditionalGeneration", "qwen2", "siglip_vision_model", 151646, -1, "full"),
}
ACTIVATIONS = {"gelu": "gelu", "quick_gelu": "quick_gelu", "gelu_pytorch_tanh": "gelu_tanh", "gelu_new": "gelu_tanh",
               "gelu_fast": "gelu_tanh"}
# Known tensors the single-crop model does not use: the anyres row separator, rotary caches.
UNUSED = ("image_newline",)


class CheckpointError(Exception):
    pass


@dataclass
class Imported:
    """What a pack needs beside the weights: family, tokenizer, chat template, preprocessing."""
    family: str
    config: ModelConfig
    hf_config: dict
    tokenizer: HFTokenizer
    chat: dict
    special_tokens: dict
    preprocess: ImagePreprocess
    folder: Path
    unused: List[str] = field(default_factory=list)


def read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{path.parent}: {path.name} is missing ({what})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from err


def model_config(hf: dict, **fwd2bot) -> Tuple[str, ModelConfig]:
    """(family, ModelConfig) from a LLaVA config.json; fwd2bot: summary_tokens, lora_rank, ..."""
    family = hf.get("model_type")
    if family not in FAMILIES:
        raise CheckpointError(f"config.json model_type {family!r} is not supported (one of {', '.join(FAMILIES)})")
    _, text_type, vision_type, _, layer, strategy = FAMILIES[family]
    text_raw, vision_raw = hf.get("text_config") or {}, hf.get("vision_config") or {}
    text_type, vision_type = text_raw.get("model_type", text_type), vision_raw.get("model_type", vision_type)
    if text_type not in TEXT_DEFAULTS or vision_type not in VISION_DEFAULTS:
        raise CheckpointError(f"config.json: text model {text_type!r} / vision model {vision_type!r} is not supported")
    t = {**TEXT_DEFAULTS[text_type], **text_raw}
    v = {**VISION_DEFAULTS[vision_type], **vision_raw}
    layer = hf.get("vision_feature_layer", layer)
    strategy = hf.get("vision_feature_select_strategy", strategy)
    problems = []
    if not isinstance(layer, int):
        problems.append(f"vision_feature_layer {layer!r} (only one layer is supported)")
    if strategy not in ("default", "full"):
        problems.append(f"vision_feature_select_strategy {strategy!r}")
    if t["hidden_act"] != "silu":
        problems.append(f"text hidden_act {t['hidden_act']!r}")
    if t.get("rope_scaling"):
        problems.append("text rope_scaling")
    for name, act in (("vision hidden_act", v["hidden_act"]), ("projector_hidden_act", hf.get("projector_hidden_act", "gelu"))):
        if act not in ACTIVATIONS:
            problems.append(f"{name} {act!r}")
    has_cls = vision_type == "clip_vision_model"
    if strategy == "default" and not has_cls:
        problems.append("vision_feature_select_strategy 'default' drops a CLS token this vision tower does not have")
    if problems:
        raise CheckpointError("config.json: unsupported " + "; ".join(problems))
    cfg = ModelConfig(
        image_size=v["image_size"], patch_size=v["patch_size"], vision_dim=v["hidden_size"], vision_layers=v["num_hidden_layers"],
        vision_heads=v["num_attention_heads"], vision_mlp_hidden=v["intermediate_size"], vision_act=ACTIVATIONS[v["hidden_act"]],
        vision_norm_eps=v["layer_norm_eps"], vision_cls=has_cls, vision_pre_norm=has_cls, vision_patch_bias=not has_cls,
        vision_feature_layer=layer, vision_feature_norm=False, vision_keep_cls=strategy == "full" and has_cls,
        projector_act=ACTIVATIONS[hf.get("projector_hidden_act", "gelu")],
        vocab_size=t["vocab_size"], dim=t["hidden_size"], layers=t["num_hidden_layers"], heads=t["num_attention_heads"],
        kv_heads=t["num_key_value_heads"] or t["num_attention_heads"], mlp_hidden=t["intermediate_size"],
        max_positions=t["max_position_embeddings"], rope_theta=float(t["rope_theta"]), norm_eps=t["rms_norm_eps"],
        attention_bias=bool(t["attention_bias"]) or text_type == "qwen2", tie_embeddings=bool(t["tie_word_embeddings"]),
        **fwd2bot)
    return family, cfg


def canonical_name(name: str) -> str:
    """transformers >= 4.52 names -> the hub layout."""
    for new, old in (("model.language_model.", "language_model.model."), ("model.vision_tower.", "vision_tower."),
                     ("model.multi_modal_projector.", "multi_modal_projector."), ("model.image_newline", "image_newline")):
        if name.startswith(new):
            return old + name[len(new):]
    return "language_model." + name if name.startswith("lm_head.") else name


Source = Tuple[Tuple[str, ...], Callable[..., torch.Tensor]]


def tensor_map(cfg: ModelConfig, with_lm_head: bool) -> Dict[str, Source]:
    """{our parameter name: (checkpoint names, function of those tensors -> ours)}."""
    same = lambda x: x  # noqa: E731
    m: Dict[str, Source] = {}
    V, T = "vision_tower.vision_model.", "language_model.model."
    m["vision.patch.weight"] = ((V + "embeddings.patch_embedding.weight",), same)
    if cfg.vision_patch_bias:
        m["vision.patch.bias"] = ((V + "embeddings.patch_embedding.bias",), same)
    if cfg.vision_cls:
        m["vision.cls"] = ((V + "embeddings.class_embedding",), lambda x: x.view(1, 1, -1))
    m["vision.pos"] = ((V + "embeddings.position_embedding.weight",), lambda x: x[None])
    if cfg.vision_pre_norm:
        for p in ("weight", "bias"):
            m[f"vision.ln_pre.{p}"] = ((V + f"pre_layrnorm.{p}",), same)
    for p in ("weight", "bias"):
        m[f"vision.ln_post.{p}"] = ((V + f"post_layernorm.{p}",), same)
        for i in range(cfg.vision_layers):
            hf, ours = f"{V}encoder.layers.{i}.", f"vision.blocks.{i}."
            m[ours + f"attn.in_proj_{p}"] = (tuple(hf + f"self_attn.{x}_proj.{p}" for x in "qkv"), lambda *qkv: torch.cat(qkv, 0))
            for a, b in (("self_attn.out_proj", "attn.out_proj"), ("layer_norm1", "ln1"), ("layer_norm2", "ln2"),
                         ("mlp.fc1", "mlp.0"), ("mlp.fc2", "mlp.2")):
                m[ours + f"{b}.{p}"] = ((hf + f"{a}.{p}",), same)
        for a, b in (("linear_1", "fc1"), ("linear_2", "fc2")):
            m[f"projector.{b}.{p}"] = ((f"multi_modal_projector.{a}.{p}",), same)
    m["decoder.embed.weight"] = ((T + "embed_tokens.weight",), same)
    m["decoder.norm.weight"] = ((T + "norm.weight",), same)
    if with_lm_head:
        m["decoder.lm_head.weight"] = (("language_model.lm_head.weight",), same)
    for i in range(cfg.layers):
        hf, ours = f"{T}layers.{i}.", f"decoder.blocks.{i}."
        for x in "qkvo":
            m[ours + f"attn.{x}.base.weight"] = ((hf + f"self_attn.{x}_proj.weight",), same)
            if cfg.attention_bias and x != "o":
                m[ours + f"attn.{x}.base.bias"] = ((hf + f"self_attn.{x}_proj.bias",), same)
        for x in ("gate", "up", "down"):
            m[ours + f"mlp.{x}.base.weight"] = ((hf + f"mlp.{x}_proj.weight",), same)
        m[ours + "norm1.weight"] = ((hf + "input_layernorm.weight",), same)
        m[ours + "norm2.weight"] = ((hf + "post_attention_layernorm.weight",), same)
    return m


def is_unused(name: str) -> bool:
    return name in UNUSED or name.endswith("rotary_emb.inv_freq")


def load_weights(model: Glimpse, folder: Path, dtype: torch.dtype = torch.float32) -> List[str]:
    """Copies every checkpoint tensor into `model`; returns the known-unused names.
    Raises CheckpointError naming the first missing, unexpected or wrongly shaped tensor."""
    try:
        names = {canonical_name(n): n for n in checkpoint_files(folder)}
    except SafetensorsError as err:
        raise CheckpointError(str(err)) from err
    mapping = tensor_map(model.cfg, "language_model.lm_head.weight" in names)
    wanted = {src for sources, _ in mapping.values() for src in sources}
    missing = sorted(wanted - set(names))
    if missing:
        raise CheckpointError(f"{folder}: tensor {missing[0]} is missing from the checkpoint"
                              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    unexpected = sorted(n for n in set(names) - wanted if not is_unused(n))
    if unexpected:
        raise CheckpointError(f"{folder}: unexpected tensor {unexpected[0]} in the checkpoint (not part of this "
                              f"{model.cfg.dim}-wide, {model.cfg.layers}-layer model)"
                              + (f" (and {len(unexpected) - 1} more)" if len(unexpected) > 1 else ""))
    # Shard by shard, so memory holds the model and one shard (plus q/k/v waiting for a partner).
    by_file: Dict[Path, List[str]] = {}
    for name, file in checkpoint_files(folder).items():
        by_file.setdefault(file, []).append(name)
    params = dict(model.named_parameters())
    pending = {ours: sources for ours, (sources, _) in mapping.items()}
    raw: Dict[str, torch.Tensor] = {}
    for file, file_names in sorted(by_file.items()):
        try:
            raw.update((canonical_name(n), t) for n, t in load_checkpoint_file(file, file_names).items())
        except SafetensorsError as err:
            raise CheckpointError(str(err)) from err
        for ours in [o for o, sources in pending.items() if all(s in raw for s in sources)]:
            copy_tensor(folder, params[ours], ours, mapping[ours], raw, dtype)
            del pending[ours]
        raw = {n: t for n, t in raw.items() if any(n in sources for sources in pending.values())}
    return sorted(n for n in names if is_unused(n))


@torch.no_grad()
def copy_tensor(folder: Path, param: torch.Tensor, ours: str, source: Source, raw: Dict[str, torch.Tensor], dtype) -> None:
    sources, convert = source
    try:
        value = convert(*(raw[s].to(torch.float32) for s in sources))
    except RuntimeError:  # q/k/v of different shapes do not concatenate
        value = None
    if value is None or tuple(value.shape) != tuple(param.shape):
        shapes = ", ".join(f"{s} {list(raw[s].shape)}" for s in sources)
        raise CheckpointError(f"{folder}: tensor {shapes} has the wrong shape for this config "
                              f"(expected {list(param.shape)} as {ours})")
    param.copy_(value.to(dtype))


def fingerprint(folder: Path) -> str:
    """A quick identity of a checkpoint folder: config.json, and each weight file's name, size
    and first and last MiB (a re-downloaded or regenerated checkpoint changes it)."""
    h = hashlib.sha256(Path(folder, "config.json").read_bytes())
    for file in sorted(set(checkpoint_files(folder).values())):
        size = file.stat().st_size
        with open(file, "rb") as f:
            head = f.read(1 << 20)
            f.seek(max(0, size - (1 << 20)))
            h.update(f"{file.name}:{size}".encode() + head + f.read())
    return h.hexdigest()


def image_spec(prep: ImagePreprocess) -> dict:
    """pack.json v2 `image` for the training data's preprocessing (hf_data.py). LLaVA-1.5
    pads to a square of the mean colour (LLaVA's expand2square) before CLIP's resize and
    centre crop, which on a square is a resize to S x S; OneVision's single crop is the whole
    image resized to S x S (its anyres base patch)."""
    spec = {"size": prep.size, "channels": "rgb", "mean": list(prep.mean), "std": list(prep.std), "layout": "NCHW",
            "resize": "pad-to-square" if prep.pad_to_square else "fill", "resample": prep.resample,
            "rescale": prep.rescale, "scale": "(pixel * rescale - mean) / std"}
    if prep.pad_to_square:
        spec["pad_colour"] = list(prep.background)
    return spec


def chat_spec(family: str, tok: HFTokenizer, tok_config: dict, hf: dict) -> Tuple[dict, dict]:
    """(pack.json v2 `chat`, `special_tokens`) for the family's template."""
    image_id = hf.get("image_token_index", FAMILIES[family][3])
    if tok.inverse.get(image_id) != "<image>":
        raise CheckpointError(f"config.json image_token_index {image_id} is not the tokenizer's <image> token "
                              f"(it is {tok.inverse.get(image_id)!r})")
    if family == "llava":
        special = {"bos": tok.token_id("<s>"), "eos": tok.token_id("</s>"), "image": image_id, "unk": tok.token_id("<unk>"),
                   "pad": hf.get("pad_token_id") if hf.get("pad_token_id") is not None else tok.token_id("<pad>")}
        chat = {"add_bos": True, "bos_in_compress": True, "generation": "USER: {image}\n{instruction} ASSISTANT:",
                "answer": "{answer}", "next_turn": "USER: {instruction} ASSISTANT:", "stop_ids": [special["eos"]]}
    else:
        end, eot = tok.token_id("<|im_end|>"), tok.token_id("<|endoftext|>")
        special = {"bos": None, "eos": end, "image": image_id, "unk": None, "pad": eot}
        chat = {"add_bos": False, "bos_in_compress": False,
                "generation": "<|im_start|>user\n{image}\n{instruction}<|im_end|>\n<|im_start|>assistant\n",
                "answer": "{answer}", "next_turn": "\n<|im_start|>user\n{instruction}<|im_end|>\n<|im_start|>assistant\n",
                "stop_ids": [end, eot]}
    chat["template_jinja"] = tok_config.get("chat_template", "")
    return chat, special


def import_checkpoint(folder: Path, dtype: torch.dtype = torch.float32, **fwd2bot) -> Tuple[Glimpse, Imported]:
    """The Glimpse model with the checkpoint's weights (adapters, summary tokens fresh) and its metadata."""
    folder = Path(folder)
    hf = read_json(folder / "config.json", "the model configuration")
    family, cfg = model_config(hf, **fwd2bot)
    arch = hf.get("architectures") or [FAMILIES[family][0]]
    if FAMILIES[family][0] not in arch:
        raise CheckpointError(f"{folder}: config.json architectures {arch} do not include {FAMILIES[family][0]}")
    tok_config = read_json(folder / "tokenizer_config.json", "the tokenizer settings and chat template")
    pre = read_json(folder / "preprocessor_config.json", "the image preprocessing")
    read_json(folder / "tokenizer.json", "the tokenizer")
    tok = HFTokenizer.load(folder / "tokenizer.json")
    if len(tok) > cfg.vocab_size:
        raise CheckpointError(f"{folder}: the tokenizer has {len(tok)} tokens but the model's vocabulary is {cfg.vocab_size}")
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # a 7B base built in bfloat16 needs half the memory
    try:
        model = Glimpse(cfg)
    finally:
        torch.set_default_dtype(default)
    for name, p in model.named_parameters():  # what stage 2 trains stays float32
        if "lora_" in name or name in ("summary", "logit_scale"):
            p.data = p.data.float()
    unused = load_weights(model, folder, dtype)
    chat, special = chat_spec(family, tok, tok_config, hf)
    try:
        prep = from_preprocessor_config(pre, pad_to_square=family == "llava")  # LLaVA-1.5 trained with padding
    except DataError as err:
        raise CheckpointError(f"{folder}: preprocessor_config.json: {err}") from err
    if prep.size != cfg.image_size:
        raise CheckpointError(f"{folder}: preprocessor_config.json makes {prep.size}-pixel images, the vision tower takes {cfg.image_size}")
    meta = Imported(family, cfg, hf, tok, chat, special, prep, folder, unused)
    return model, meta
