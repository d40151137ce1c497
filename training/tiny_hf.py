"""Writes randomly initialised tiny checkpoints in the exact Hugging Face layouts of the two
real families, for tests and the CPU recipe (docs/real-models.md):

  npm run tiny-hf -- --out DIR     ->  DIR/llava            (LlavaForConditionalGeneration:
                                                             CLIP + Llama, float16, 2 shards + index)
                                       DIR/llava-onevision  (LlavaOnevisionForConditionalGeneration:
                                                             SigLIP + Qwen2 GQA, bfloat16, one file)

Each folder holds config.json (transformers' field names), safetensors with the real tensor
names, tokenizer.json (LLaVA: Llama-style BPE with byte fallback; OneVision: Qwen2's
byte-level BPE with <|im_start|>/<|im_end|>/<image>), tokenizer_config.json with the chat
template, and preprocessor_config.json. The tiny BPE vocabularies are trained here on the
shapes world's words (`npm run world -- vocab`) so its sentences encode compactly.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import CAPTION_INSTRUCTIONS, COMPRESS_PROMPT  # noqa: E402
from fwd2bot import lm_loss, lr_at  # noqa: E402
from hf_checkpoint import import_checkpoint, model_config, tensor_map  # noqa: E402
from hf_data import CLIP_MEAN, CLIP_STD, CaptionShards, LlavaConversations, collate  # noqa: E402
from hf_rows import ChatRows  # noqa: E402
from hf_tokenizer import KNOWN_SPLITS, _pre_tokenize, bytes_to_unicode  # noqa: E402
from model import ADAPTER_BASE, Glimpse, splice  # noqa: E402
from safetensors_io import save_file, save_sharded  # noqa: E402
from tokenizer import world_words  # noqa: E402

QWEN2_SPLIT = list(KNOWN_SPLITS)[0]
# The chat templates the hub checkpoints ship (llava-hf/llava-1.5-7b-hf, llava-hf/llava-onevision-qwen2-0.5b-ov-hf).
LLAVA_TEMPLATE = ("{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}"
                  "{% endif %}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}"
                  "{% endfor %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
                  "{{ content['text'] + ' '}}{% endfor %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")
ONEVISION_TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}"
                      "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
                      "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}"
                      "{{'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
# Sentences of the world's LLaVA data and of the pack prompts, beside the world's words.
EXTRA_TEXT = ["Answer the question using a single word or phrase.", "Describe the image briefly.",
              "Write a short caption for this photo.", "What does this photo show?", "Summarize the image in a few words.",
              "Summary above image in one word:", "Summary above sentence in one word:", "USER: ASSISTANT:",
              "user assistant system You are a helpful assistant."]

# Tiny shapes: 84-pixel images in 14-pixel patches (36 image tokens, 2x2 per grid cell of the world).
TINY_TEXT = {"hidden_size": 96, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
             "max_position_embeddings": 4096}
TINY_VISION = {"hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 3, "num_attention_heads": 4,
               "image_size": 84, "patch_size": 14}


def corpus(words: Sequence[str]) -> List[str]:
    return [*words, *(w.capitalize() for w in words), *EXTRA_TEXT, " ".join(words)]


def train_bpe(pieces: Counter, alphabet: Sequence[str], max_merges: int = 4000) -> Tuple[Dict[str, int], List[str]]:
    """Byte-pair merges learned greedily on `pieces` (symbol strings with counts)."""
    vocab = {s: i for i, s in enumerate(dict.fromkeys(alphabet))}
    words = {tuple(p): n for p, n in pieces.items()}
    merges: List[str] = []
    for _ in range(max_merges):
        pairs: Counter = Counter()
        for w, n in words.items():
            for pair in zip(w, w[1:]):
                pairs[pair] += n
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merged = best[0] + best[1]
        merges.append(f"{best[0]} {best[1]}")
        vocab.setdefault(merged, len(vocab))
        new = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + n
        words = {w: n for w, n in new.items() if len(w) > 1}
    return vocab, merges


def added(token_id: int, content: str, special: bool = True) -> dict:
    return {"id": token_id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": special}


def llama_tokenizer(words: Sequence[str]) -> Tuple[dict, dict]:
    """A Llama/Vicuna-style tokenizer.json (ids 0-2 <unk> <s> </s>, 256 byte tokens, pieces,
    then LLaVA's added <image> and <pad>) and its tokenizer_config.json."""
    texts = ["▁" + t.replace(" ", "▁") for t in corpus(words)]
    pieces = Counter(p for t in texts for p in re.split("(?=▁)", t) if p)
    alphabet = ["<unk>", "<s>", "</s>", *[f"<0x{b:02X}>" for b in range(256)], "▁",
                *sorted({c for p in pieces for c in p})]
    vocab, merges = train_bpe(pieces, alphabet)
    image_id, pad_id = len(vocab), len(vocab) + 1
    spec = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>"), added(image_id, "<image>"), added(pad_id, "<pad>")],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                           {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                                     {"type": "ByteFallback"}, {"type": "Fuse"},
                                                     {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "vocab": vocab, "merges": merges},
    }
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
              "pad_token": "<pad>", "legacy": False, "model_max_length": 4096, "padding_side": "left",
              "tokenizer_class": "LlamaTokenizer", "processor_class": "LlavaProcessor", "chat_template": LLAVA_TEMPLATE}
    return spec, config


def qwen2_tokenizer(words: Sequence[str]) -> Tuple[dict, dict]:
    """A Qwen2-style byte-level BPE tokenizer.json (256 byte symbols, merges, then
    <|endoftext|> <|im_start|> <|im_end|> and LLaVA-OneVision's <image> <video>)."""
    pre = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}
    pieces = Counter(p for t in corpus(words) for p in _pre_tokenize(pre, t))
    vocab, merges = train_bpe(pieces, [bytes_to_unicode()[b] for b in range(256)])
    n = len(vocab)
    names = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    spec = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(n + i, name) for i, name in enumerate(names)],
        "normalizer": {"type": "NFC"}, "pre_tokenizer": pre, "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": merges},
    }
    config = {"add_prefix_space": False, "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
              "unk_token": None, "errors": "replace", "model_max_length": 32768, "split_special_tokens": False,
              "additional_special_tokens": ["<|im_start|>", "<|im_end|>"], "tokenizer_class": "Qwen2Tokenizer",
              "processor_class": "LlavaOnevisionProcessor", "chat_template": ONEVISION_TEMPLATE}
    return spec, config


def padded(n: int, multiple: int = 64) -> int:
    return -(-n // multiple) * multiple


def hf_tensors(model: Glimpse, with_lm_head: bool) -> Dict[str, torch.Tensor]:
    """The model's weights under the checkpoint's names (tensor_map read backwards)."""
    params = dict(model.named_parameters())
    out: Dict[str, torch.Tensor] = {}
    for ours, (sources, _) in tensor_map(model.cfg, with_lm_head).items():
        value = params[ours].detach()
        if len(sources) == 3:
            out.update(zip(sources, value.chunk(3, 0)))
        else:
            out[sources[0]] = value.reshape(-1) if ours == "vision.cls" else (value[0] if ours == "vision.pos" else value)
    return out


def write_weights(model: Glimpse, family: str, out: Path) -> None:
    """LLaVA-1.5 as float16 in two shards with the index, OneVision as one bfloat16 file."""
    tensors = hf_tensors(model, with_lm_head=not model.cfg.tie_embeddings)
    if family == "llava":
        save_sharded({k: v.to(torch.float16) for k, v in tensors.items()}, out, 2)
    else:
        tensors["image_newline"] = torch.randn(model.cfg.dim, generator=torch.Generator().manual_seed(0)) * 0.02
        save_file({k: v.to(torch.bfloat16) for k, v in tensors.items()}, out / "model.safetensors", {"format": "pt"})


def pretrain(folder: Path, llava_json: str, images: str, captions: str, steps: int, batch: int = 16, lr: float = 1e-3) -> None:
    """Makes the tiny checkpoint a pretrained one, as the real ones are: LLaVA mode (all image
    tokens, no adapters, every base weight trained) on LLaVA-format conversations and caption
    pairs, alternating; the folder's weights are then rewritten in the same layout."""
    model, meta = import_checkpoint(folder)
    rows = ChatRows(meta.tokenizer, meta.chat, meta.special_tokens, COMPRESS_PROMPT)
    data = [LlavaConversations(llava_json, images, meta.preprocess), CaptionShards(captions, meta.preprocess)]
    params = [p for n, p in model.named_parameters() if "lora_" not in n and n not in ("summary", "logit_scale")]
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    rng = random.Random(0)
    for step in range(steps):
        ds = data[step % 2]
        pixels, samples = collate([ds[rng.randrange(len(ds))] for _ in range(batch)])
        turns = [[(rng.choice(CAPTION_INSTRUCTIONS), s.caption)] if s.caption is not None else
                 [(t.human, t.gpt) for t in s.turns] for s in samples]
        visual, _ = model.image_tokens(pixels)
        ids, mask, labels = rows.pad([rows.conversation(t) for t in turns])
        b, n = visual.shape[:2]
        x = splice(model.embed(ids), rows.image_at, visual)
        mask = splice(mask, rows.image_at, torch.ones(b, n, dtype=torch.long))
        labels = splice(labels, rows.image_at, torch.full((b, n), -100, dtype=torch.long))
        loss = lm_loss(model, x, mask, labels, ADAPTER_BASE)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, 20)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if (step + 1) % 20 == 0 or step + 1 == steps:
            print(json.dumps({"pretrain_step": step + 1, "loss": round(loss.item(), 4)}), flush=True)
    for f in list(folder.glob("model*.safetensors")) + list(folder.glob("model.safetensors.index.json")):
        f.unlink()
    write_weights(model, meta.family, folder)


def write_family(out: Path, family: str, words: Sequence[str], seed: int, text_overrides: Optional[dict] = None) -> Path:
    """text_overrides: text_config fields over the tiny ones (real_size.py: kv heads, the real vocabulary size)."""
    out.mkdir(parents=True, exist_ok=True)
    side = TINY_VISION["image_size"]
    if family == "llava":
        tok, tok_config = llama_tokenizer(words)
        image_id, pad_id = (t["id"] for t in tok["added_tokens"][3:5])
        vocab = padded(pad_id + 1)
        config = {"architectures": ["LlavaForConditionalGeneration"], "ignore_index": -100, "image_token_index": image_id,
                  "model_type": "llava", "pad_token_id": pad_id, "projector_hidden_act": "gelu", "tie_word_embeddings": False,
                  "text_config": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "rms_norm_eps": 1e-05,
                                  "rope_theta": 10000.0, "num_key_value_heads": TINY_TEXT["num_attention_heads"],
                                  "tie_word_embeddings": False, "torch_dtype": "float16", "vocab_size": vocab, **TINY_TEXT},
                  "vision_config": {"model_type": "clip_vision_model", "hidden_act": "quick_gelu", "projection_dim": 64,
                                    "layer_norm_eps": 1e-05, **TINY_VISION},
                  "vision_feature_layer": -2, "vision_feature_select_strategy": "default", "vocab_size": vocab,
                  "torch_dtype": "float16", "transformers_version": "4.45.0"}
        pre = {"crop_size": {"height": side, "width": side}, "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True,
               "do_rescale": True, "do_resize": True, "image_mean": list(CLIP_MEAN), "image_std": list(CLIP_STD),
               "image_processor_type": "CLIPImageProcessor", "processor_class": "LlavaProcessor", "resample": 3,
               "rescale_factor": 1 / 255, "size": {"shortest_edge": side}}
    else:
        tok, tok_config = qwen2_tokenizer(words)
        image_id, video_id = (t["id"] for t in tok["added_tokens"][3:5])
        vocab = padded(video_id + 1)
        config = {"architectures": ["LlavaOnevisionForConditionalGeneration"], "image_token_index": image_id,
                  "video_token_index": video_id, "model_type": "llava_onevision", "projector_hidden_act": "gelu",
                  "use_image_newline_parameter": True, "vision_aspect_ratio": "anyres_max_9",
                  "image_grid_pinpoints": [[side, side], [side, 2 * side], [2 * side, side], [2 * side, 2 * side]],
                  "text_config": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
                                  "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
                                  "tie_word_embeddings": True, "use_sliding_window": False, "torch_dtype": "bfloat16",
                                  "vocab_size": vocab, **TINY_TEXT},
                  "vision_config": {"model_type": "siglip_vision_model", "hidden_act": "gelu_pytorch_tanh",
                                    "layer_norm_eps": 1e-06, "vision_use_head": False, **TINY_VISION},
                  "vision_feature_layer": -1, "vision_feature_select_strategy": "full", "tie_word_embeddings": True,
                  "torch_dtype": "bfloat16", "transformers_version": "4.45.0"}
        pre = {"do_convert_rgb": True, "do_normalize": True, "do_pad": True, "do_rescale": True, "do_resize": True,
               "image_grid_pinpoints": config["image_grid_pinpoints"], "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
               "image_processor_type": "LlavaOnevisionImageProcessor", "processor_class": "LlavaOnevisionProcessor",
               "resample": 3, "rescale_factor": 1 / 255, "size": {"height": side, "width": side}}
    if text_overrides:
        config["text_config"].update(text_overrides)
        if "vocab_size" in config and "vocab_size" in text_overrides:
            config["vocab_size"] = text_overrides["vocab_size"]
    torch.manual_seed(seed)
    _, cfg = model_config(config)
    model = Glimpse(cfg)  # norms 1, weights N(0, 0.02) as transformers initialises them
    with torch.no_grad():
        model.vision.cls.normal_(std=0.02) if cfg.vision_cls else None
        # Token embeddings and LM head at N(0, 1/sqrt(d)) rather than 0.02: with a frozen base and a final
        # norm of 1, 0.02 caps every logit near 2, so no adapter could make the tiny model confident.
        model.decoder.embed.weight.normal_(std=cfg.dim ** -0.5)
        if not cfg.tie_embeddings:
            model.decoder.lm_head.weight.normal_(std=cfg.dim ** -0.5)
    write_weights(model, family, out)
    files = {"config.json": config, "tokenizer.json": tok, "tokenizer_config.json": tok_config, "preprocessor_config.json": pre}
    for name, data in files.items():
        (out / name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for llava/ and llava-onevision/")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pretrain-steps", type=int, default=0, help="pretrain the tiny bases in LLaVA mode (needs the data below)")
    ap.add_argument("--llava-data", help="conversations JSON for --pretrain-steps")
    ap.add_argument("--images", help="its image folder")
    ap.add_argument("--captions", help="caption shards for --pretrain-steps")
    ap.add_argument("--only", choices=("llava", "llava-onevision"), help="write one family")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.pretrain_steps and not (args.llava_data and args.images and args.captions):
        raise SystemExit("tiny_hf: --pretrain-steps needs --llava-data, --images and --captions")
    words = world_words()
    for family, name in (("llava", "llava"), ("llava_onevision", "llava-onevision")):
        if args.only and args.only != name:
            continue
        folder = write_family(Path(args.out) / name, family, words, args.seed)
        if args.pretrain_steps:
            pretrain(folder, args.llava_data, args.images, args.captions, args.pretrain_steps)
        print(f"wrote {folder}: " + ", ".join(sorted(p.name for p in folder.iterdir())))


if __name__ == "__main__":
    main()
