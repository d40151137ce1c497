"""Importing Hugging Face LLaVA-1.5 / LLaVA-OneVision checkpoint folders (training/hf_checkpoint.py)
on the tiny checkpoints `npm run tiny-hf` writes in both exact layouts: every tensor mapped,
the model's outputs equal to a separate implementation of transformers' semantics written
here from the raw tensors, clear errors for missing/unexpected/misshapen tensors, and the
tokenizers encoding exactly as @huggingface/tokenizers does in the engine."""
import json
import math
import shutil
import subprocess

import pytest
import torch
import torch.nn.functional as F

from conftest import ROOT
from hf_fixtures import tiny_hf  # noqa: F401 (a fixture)
from hf_checkpoint import CheckpointError, import_checkpoint
from hf_tokenizer import HFTokenizer
from safetensors_io import load_checkpoint, save_file
from tiny_hf import hf_tensors


def test_both_layouts_import_with_their_shapes(tiny_hf):
    llava, meta = import_checkpoint(tiny_hf / "llava")
    c = llava.cfg
    assert meta.family == "llava" and meta.unused == []
    assert (c.vision_cls, c.vision_pre_norm, c.vision_act, c.vision_feature_layer, c.vision_keep_cls) == (True, True, "quick_gelu", -2, False)
    assert (c.kv_heads, c.attention_bias, c.tie_embeddings, c.rope_theta) == (c.heads, False, False, 10000.0)
    assert meta.preprocess.pad_to_square and meta.chat["add_bos"] and meta.special_tokens["bos"] == 1
    ov, meta = import_checkpoint(tiny_hf / "llava-onevision")
    c = ov.cfg
    assert meta.family == "llava_onevision" and meta.unused == ["image_newline"]
    assert (c.vision_cls, c.vision_pre_norm, c.vision_act, c.vision_feature_layer, c.vision_patch_bias) == (False, False, "gelu_tanh", -1, True)
    assert (c.kv_heads, c.attention_bias, c.tie_embeddings, c.rope_theta) == (2, True, True, 1e6)
    assert not meta.preprocess.pad_to_square and meta.special_tokens["bos"] is None
    for model in (llava, ov):
        tokens, cls = model.image_tokens(torch.randn(2, 3, 84, 84))
        assert tokens.shape == (2, 36, model.cfg.dim) and cls.shape == (2, model.cfg.vision_dim)


@pytest.mark.parametrize("name", ["llava", "llava-onevision"])
def test_every_tensor_round_trips(tiny_hf, name):
    model, _ = import_checkpoint(tiny_hf / name)
    raw = load_checkpoint(tiny_hf / name)
    ours = hf_tensors(model, with_lm_head="language_model.lm_head.weight" in raw)
    assert set(raw) - set(ours) <= {"image_newline"}
    for key, value in ours.items():
        assert torch.equal(value, raw[key].float()), key


def reference_vision(t: dict, hf: dict, pixels: torch.Tensor) -> torch.Tensor:
    """CLIP / SigLIP + LLaVA projector as transformers computes them, from the raw tensors."""
    v, V = hf["vision_config"], "vision_tower.vision_model."
    clip = v["model_type"] == "clip_vision_model"
    act = (lambda x: x * torch.sigmoid(1.702 * x)) if clip else (lambda x: F.gelu(x, approximate="tanh"))
    ln = lambda x, n: F.layer_norm(x, x.shape[-1:], t[n + ".weight"], t[n + ".bias"], v["layer_norm_eps"])  # noqa: E731
    lin = lambda x, n: F.linear(x, t[n + ".weight"], t.get(n + ".bias"))  # noqa: E731
    x = F.conv2d(pixels, t[V + "embeddings.patch_embedding.weight"], t.get(V + "embeddings.patch_embedding.bias"),
                 stride=v["patch_size"]).flatten(2).transpose(1, 2)
    if clip:
        x = torch.cat([t[V + "embeddings.class_embedding"].expand(x.shape[0], 1, -1), x], 1)
    x = x + t[V + "embeddings.position_embedding.weight"]
    states = [ln(x, V + "pre_layrnorm") if clip else x]
    heads = v["num_attention_heads"]
    for i in range(v["num_hidden_layers"]):
        p, x = f"{V}encoder.layers.{i}.", states[-1]
        h = ln(x, p + "layer_norm1")
        b, n, d = h.shape
        q, k, w = (lin(h, p + f"self_attn.{s}_proj").view(b, n, heads, -1).transpose(1, 2) for s in "qkv")
        att = (q @ k.transpose(-1, -2) / math.sqrt(d // heads)).softmax(-1) @ w
        x = x + lin(att.transpose(1, 2).reshape(b, n, d), p + "self_attn.out_proj")
        states.append(x + lin(act(lin(ln(x, p + "layer_norm2"), p + "mlp.fc1")), p + "mlp.fc2"))
    feats = states[hf["vision_feature_layer"]]
    if hf["vision_feature_select_strategy"] == "default":
        feats = feats[:, 1:]
    return lin(F.gelu(lin(feats, "multi_modal_projector.linear_1")), "multi_modal_projector.linear_2")


def reference_logits(t: dict, hf: dict, ids: torch.Tensor) -> torch.Tensor:
    """Llama / Qwen2 causal LM logits as transformers computes them (rotate_half rotary, repeat_kv)."""
    c, T = hf["text_config"], "language_model.model."
    rms = lambda x, n: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + c["rms_norm_eps"]) * t[n]  # noqa: E731
    lin = lambda x, n: F.linear(x, t[n + ".weight"], t.get(n + ".bias"))  # noqa: E731
    heads, kv = c["num_attention_heads"], c["num_key_value_heads"]
    x = t[T + "embed_tokens.weight"][ids]
    b, n, d = x.shape
    dh = d // heads
    inv = 1.0 / c["rope_theta"] ** (torch.arange(0, dh, 2).float() / dh)
    ang = torch.cat([torch.arange(n).float()[:, None] * inv] * 2, -1)
    rot = lambda y: y * ang.cos() + torch.cat([-y[..., dh // 2:], y[..., :dh // 2]], -1) * ang.sin()  # noqa: E731
    causal = torch.full((n, n), float("-inf")).triu(1)
    for i in range(c["num_hidden_layers"]):
        p = f"{T}layers.{i}."
        h = rms(x, p + "input_layernorm.weight")
        q = rot(lin(h, p + "self_attn.q_proj").view(b, n, heads, dh).transpose(1, 2))
        k = rot(lin(h, p + "self_attn.k_proj").view(b, n, kv, dh).transpose(1, 2)).repeat_interleave(heads // kv, 1)
        w = lin(h, p + "self_attn.v_proj").view(b, n, kv, dh).transpose(1, 2).repeat_interleave(heads // kv, 1)
        att = ((q @ k.transpose(-1, -2)) / math.sqrt(dh) + causal).softmax(-1) @ w
        x = x + lin(att.transpose(1, 2).reshape(b, n, d), p + "self_attn.o_proj")
        h = rms(x, p + "post_attention_layernorm.weight")
        x = x + lin(F.silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    head = t.get("language_model.lm_head.weight", t[T + "embed_tokens.weight"])
    return rms(x, T + "norm.weight") @ head.t()


@pytest.mark.parametrize("name", ["llava", "llava-onevision"])
def test_outputs_match_transformers_semantics(tiny_hf, name):
    model, meta = import_checkpoint(tiny_hf / name)
    raw = {k: v.float() for k, v in load_checkpoint(tiny_hf / name).items()}
    pixels = torch.randn(2, 3, 84, 84, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(model.image_tokens(pixels)[0], reference_vision(raw, meta.hf_config, pixels), atol=1e-5)
        ids = torch.tensor([meta.tokenizer.encode("How many red circles are there?"), meta.tokenizer.encode("Describe the image now!!")])
        hidden = model.run(model.embed(ids), torch.ones_like(ids), 0)
        assert torch.allclose(model.logits(hidden), reference_logits(raw, meta.hf_config, ids), atol=1e-4)


def copy_with(src, dst, edit):
    """A copy of a one-file checkpoint folder whose tensors went through `edit`."""
    shutil.copytree(src, dst)
    tensors = load_checkpoint(dst)
    edit(tensors)
    save_file(tensors, dst / "model.safetensors")
    return dst


def test_missing_unexpected_and_misshapen_tensors_are_named(tiny_hf, tmp_path):
    src = tiny_hf / "llava-onevision"
    name = "language_model.model.layers.1.self_attn.k_proj.bias"
    cases = [("missing", lambda t: t.pop(name), f"tensor {name} is missing"),
             ("unexpected", lambda t: t.__setitem__("language_model.model.layers.9.mlp.up_proj.weight", torch.zeros(2)),
              "unexpected tensor language_model.model.layers.9.mlp.up_proj.weight"),
             ("shape", lambda t: t.__setitem__(name, torch.zeros(7)), rf"tensor {name} \[7\] has the wrong shape"),
             ("qkv", lambda t: t.__setitem__("vision_tower.vision_model.encoder.layers.0.self_attn.v_proj.weight", torch.zeros(64, 3)),
              "vision_tower.vision_model.encoder.layers.0.self_attn.v_proj.weight \\[64, 3\\]")]
    for label, edit, message in cases:
        with pytest.raises(CheckpointError, match=message):
            import_checkpoint(copy_with(src, tmp_path / label, edit))


def test_transformers_4_52_names_and_config_errors(tiny_hf, tmp_path):
    def rename(t):
        for k in list(t):
            new = k.replace("language_model.model.", "model.language_model.").replace("vision_tower.", "model.vision_tower.")
            new = new.replace("multi_modal_projector.", "model.multi_modal_projector.").replace("language_model.lm_head", "lm_head")
            t[new] = t.pop(k)
    shutil.copytree(tiny_hf / "llava", tmp_path / "sharded")
    renamed = copy_with(tmp_path / "sharded", tmp_path / "renamed", rename)
    for f in renamed.glob("model-*"):
        f.unlink()
    (renamed / "model.safetensors.index.json").unlink()
    a, _ = import_checkpoint(tiny_hf / "llava")
    b, _ = import_checkpoint(renamed)
    base = [k for k in a.state_dict() if "lora_" not in k and k not in ("summary", "logit_scale")]
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in base)
    bad = tmp_path / "bad"
    shutil.copytree(tiny_hf / "llava", bad)
    config = json.loads((bad / "config.json").read_text())
    for edit, message in ((lambda c: c.update(model_type="idefics"), "model_type 'idefics' is not supported"),
                          (lambda c: c.update(image_token_index=5), "image_token_index 5 is not the tokenizer's <image>"),
                          (lambda c: c.update(vision_feature_layer=[-2, -5]), "vision_feature_layer"),
                          (lambda c: c["text_config"].update(hidden_size=128), "has the wrong shape")):
        changed = json.loads(json.dumps(config))
        edit(changed)
        (bad / "config.json").write_text(json.dumps(changed))
        with pytest.raises(CheckpointError, match=message):
            import_checkpoint(bad)
    (bad / "tokenizer.json").unlink()
    (bad / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="tokenizer.json is missing"):
        import_checkpoint(bad)


TEXTS = ["Describe the image.", "How many red circles are there?\nAnswer the question using a single word or phrase.",
         "USER: <image>\nWhat is this? ASSISTANT:", "<|im_start|>user\n<image>\nWhat?<|im_end|>\n<|im_start|>assistant\n",
         "zebra café 123 ünïcode  two  spaces", " leading space", "a  b\n\nc\t tab", "3 blue squares.", "don't it's we'll",
         "Two dogs, one cat!", "There is no green heart in the middle left.", "😀 emoji and 中文", ""]


@pytest.mark.parametrize("name", ["llava", "llava-onevision"])
def test_tokenizer_matches_the_engines(tiny_hf, name):
    tok = HFTokenizer.load(tiny_hf / name / "tokenizer.json")
    out = subprocess.run(["node", "scripts/tokenize.mjs", str(tiny_hf / name), json.dumps(TEXTS)], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    engine = json.loads(out.stdout.strip().splitlines()[-1])
    for text, ids in zip(TEXTS, engine):
        assert tok.encode(text) == ids, text
    assert tok.decode(tok.encode("Two dogs, one cat!")) == "Two dogs, one cat!"
    assert tok.decode(tok.encode("😀 emoji and 中文")) == "😀 emoji and 中文"
