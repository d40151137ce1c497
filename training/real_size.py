"""Writes a randomly initialised checkpoint with a real family's configuration, in the exact
Hugging Face layout tiny_hf.py writes, for bench/real-size.ts (npm run bench:real-size):

  python3 training/real_size.py --family ov-0.5b --out DIR [--text-layers N] [--vision-layers N]

The same graphs, widths, heads, vocabulary and image size as the real model, so timing and
memory measured on a pack exported from it (pack_from_hf.py --steps 0) are the real ones
even though its answers are noise. --text-layers / --vision-layers keep every width and cut
only the depth (a reduced run when the full one does not fit the time; costs scale with
depth). The tokenizer is tiny_hf's small BPE: the vocabulary (embedding table and LM head)
still has the real size, only the ids a text encodes to are few.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny_hf  # noqa: E402
from tokenizer import world_words  # noqa: E402

# Published configurations (config.json of each hub checkpoint), less what tiny_hf writes itself.
FAMILIES = {
    # llava-hf/llava-onevision-qwen2-0.5b-ov-hf: Qwen2-0.5B + SigLIP-so400m-patch14-384, one crop (729 tokens)
    "ov-0.5b": ("llava_onevision",
                {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                 "num_key_value_heads": 2, "max_position_embeddings": 32768, "vocab_size": 151936},
                {"hidden_size": 1152, "intermediate_size": 4304, "num_hidden_layers": 26, "num_attention_heads": 16,
                 "image_size": 384, "patch_size": 14}),
    # llava-hf/llava-1.5-7b-hf: Llama-2-7B (Vicuna) + CLIP ViT-L/14-336 (576 tokens)
    "llava-7b": ("llava",
                 {"hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
                  "num_key_value_heads": 32, "max_position_embeddings": 4096, "vocab_size": 32064},
                 {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
                  "image_size": 336, "patch_size": 14}),
}


def write_random_checkpoint(family: str, out: Path, text_layers: int = 0, vision_layers: int = 0, seed: int = 0) -> dict:
    kind, text, vision = FAMILIES[family]
    text, vision = dict(text), dict(vision)
    if text_layers:
        text["num_hidden_layers"] = text_layers
    if vision_layers:
        vision["num_hidden_layers"] = vision_layers
    # tiny_hf builds the config from these two module dicts; the family's fields go in through them.
    saved = dict(tiny_hf.TINY_TEXT), dict(tiny_hf.TINY_VISION)
    kv_heads, vocab = text.pop("num_key_value_heads"), text.pop("vocab_size")
    tiny_hf.TINY_TEXT.clear(); tiny_hf.TINY_TEXT.update(text)
    tiny_hf.TINY_VISION.clear(); tiny_hf.TINY_VISION.update(vision)
    try:
        tiny_hf.write_family(out, kind, world_words(), seed, text_overrides={"num_key_value_heads": kv_heads, "vocab_size": vocab})
    finally:
        tiny_hf.TINY_TEXT.clear(); tiny_hf.TINY_TEXT.update(saved[0])
        tiny_hf.TINY_VISION.clear(); tiny_hf.TINY_VISION.update(saved[1])
    config = json.loads((out / "config.json").read_text())
    return {"family": family, "text": config["text_config"], "vision": config["vision_config"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", required=True, choices=sorted(FAMILIES))
    ap.add_argument("--out", required=True)
    ap.add_argument("--text-layers", type=int, default=0, help="decoder depth (default: the family's)")
    ap.add_argument("--vision-layers", type=int, default=0, help="vision tower depth (default: the family's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(json.dumps(write_random_checkpoint(args.family, Path(args.out), args.text_layers, args.vision_layers, args.seed)), flush=True)


if __name__ == "__main__":
    main()
