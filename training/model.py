"""Glimpse's vision-language model and its Fwd2Bot double-forward compressor.

One file, nanoGPT style:
  VisionTower  CLIP-style ViT: patch embedding, CLS token, learned positions, pre-LN blocks
  Projector    2-layer MLP from vision width to the decoder width (LLaVA-1.5)
  Decoder      LLaMA-style: RMSNorm, rotary positions, SwiGLU, causal attention,
               KV cache, and hand-written LoRA with an explicit adapter index
  Glimpse      the three together, plus K learnable summary embeddings and the two
               Fwd2Bot passes (compress, generate) and the retrieval embedding

The same classes hold the real LLaVA families by configuration, the way nanoGPT's
from_pretrained maps GPT-2 (training/hf_checkpoint.py fills ModelConfig from a Hugging
Face config.json and maps every tensor): LLaVA-1.5 = CLIP (quick_gelu, CLS, features of
the second-to-last block, CLS dropped) + Llama; LLaVA-OneVision = SigLIP (tanh GELU, no
CLS, no pre-norm) + Qwen2 (grouped-query attention, q/k/v biases).

Adapter indices are fixed across training, export and the engine:
  0 = base (no LoRA), 1 = compress, 2 = generate.  The "single" ablation trains one
  shared adapter and maps both passes to index 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.utils.checkpoint
import torch.nn.functional as F

ADAPTER_BASE, ADAPTER_COMPRESS, ADAPTER_GENERATE = 0, 1, 2


@dataclass
class ModelConfig:
    # vision
    image_size: int = 64
    patch_size: int = 8
    vision_dim: int = 128
    vision_layers: int = 4
    vision_heads: int = 4
    # decoder
    vocab_size: int = 256
    dim: int = 128
    layers: int = 4
    heads: int = 4
    mlp_hidden: int = 384
    max_positions: int = 1024
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = True
    # Fwd2Bot
    summary_tokens: int = 16
    lora_rank: int = 8
    lora_alpha: float = 16.0
    lora_adapters: int = 2  # trained adapter slots (indices 1..lora_adapters); 0 is the base
    # Variants for imported checkpoints; the defaults are the shapes model.
    vision_mlp_hidden: int = 0          # 0 = 4 * vision_dim (SigLIP-so400m: 4304)
    vision_act: str = "gelu"            # gelu | quick_gelu (CLIP) | gelu_tanh (SigLIP)
    vision_norm_eps: float = 1e-5
    vision_cls: bool = True             # a CLS token (CLIP); SigLIP has none
    vision_pre_norm: bool = True        # LayerNorm before the blocks (CLIP's pre_layrnorm)
    vision_patch_bias: bool = True      # CLIP's patch embedding has no bias
    vision_feature_layer: int = -1      # hidden_states index of the features, as in HF (-2: second-to-last block)
    vision_feature_norm: bool = True    # ln_post on the features (HF LLaVA takes hidden states: no)
    vision_keep_cls: bool = False       # vision_feature_select_strategy "full" on a tower with CLS
    projector_act: str = "gelu"
    kv_heads: int = 0                   # key/value heads; 0 = heads (grouped-query attention otherwise)
    attention_bias: bool = False        # biases on q/k/v (Qwen2)

    @property
    def vision_tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2 + int(self.vision_cls and self.vision_keep_cls)

    @property
    def key_value_heads(self) -> int:
        return self.kv_heads or self.heads

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads


# ----------------------------------------------------------------------------- vision

class VisionAttention(nn.Module):
    """Bidirectional multi-head self-attention. Written out (rather than
    nn.MultiheadAttention, whose inference fast path does not export) with the same
    parameter names, so checkpoints of either load into the other."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, N, D] -> [B, N, D]
        b, n, d = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias).view(b, n, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)                                   # each [B, H, N, Dh]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        return self.out_proj(y)


class QuickGELU(nn.Module):
    """CLIP's x * sigmoid(1.702 x)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


def activation(name: str) -> nn.Module:
    acts = {"gelu": nn.GELU, "quick_gelu": QuickGELU, "gelu_tanh": lambda: nn.GELU(approximate="tanh")}
    if name not in acts:
        raise ValueError(f"unknown activation {name!r} (one of {', '.join(acts)})")
    return acts[name]()


class VisionBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        hidden = cfg.vision_mlp_hidden or 4 * cfg.vision_dim
        self.ln1 = nn.LayerNorm(cfg.vision_dim, eps=cfg.vision_norm_eps)
        self.attn = VisionAttention(cfg.vision_dim, cfg.vision_heads)
        self.ln2 = nn.LayerNorm(cfg.vision_dim, eps=cfg.vision_norm_eps)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.vision_dim, hidden), activation(cfg.vision_act), nn.Linear(hidden, cfg.vision_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, 1+V, Dv]
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class VisionTower(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        grid = (cfg.image_size // cfg.patch_size) ** 2
        self.patch = nn.Conv2d(3, cfg.vision_dim, cfg.patch_size, cfg.patch_size, bias=cfg.vision_patch_bias)
        if cfg.vision_cls:
            self.cls = nn.Parameter(torch.zeros(1, 1, cfg.vision_dim))
        self.pos = nn.Parameter(torch.randn(1, int(cfg.vision_cls) + grid, cfg.vision_dim) * 0.02)
        self.ln_pre = nn.LayerNorm(cfg.vision_dim, eps=cfg.vision_norm_eps) if cfg.vision_pre_norm else nn.Identity()
        self.blocks = nn.ModuleList([VisionBlock(cfg) for _ in range(cfg.vision_layers)])
        self.ln_post = nn.LayerNorm(cfg.vision_dim, eps=cfg.vision_norm_eps)

    def forward(self, pixels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        # pixels: [B, 3, S, S] normalised -> patches [B, V, Dv], cls [B, Dv]
        cfg = self.cfg
        x = self.patch(pixels).flatten(2).transpose(1, 2)               # [B, V, Dv]
        if cfg.vision_cls:
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1)  # [B, 1+V, Dv]
        x = self.ln_pre(x + self.pos)
        # HF hidden_states indexing: 0 = embeddings, -1 = after the last block, -2 = one before
        layer = cfg.vision_feature_layer
        for block in self.blocks[: layer if layer >= 0 else len(self.blocks) + 1 + layer]:
            x = block(x)
        if cfg.vision_feature_norm:
            x = self.ln_post(x)
        if not cfg.vision_cls:
            return x, x.mean(1)  # no CLS (SigLIP): the mean stands in for it
        return (x if cfg.vision_keep_cls else x[:, 1:]), x[:, 0]


class Projector(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.vision_dim, cfg.dim)
        self.act = activation(cfg.projector_act)
        self.fc2 = nn.Linear(cfg.dim, cfg.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, V, Dv] -> [B, V, D]
        return self.fc2(self.act(self.fc1(x)))


# ----------------------------------------------------------------------------- decoder

class LoRALinear(nn.Module):
    """A frozen-able linear layer plus low-rank deltas, one per adapter slot.

    `adapter` is an int64 scalar tensor (0 = no delta), so a single exported graph
    can switch adapters at run time by indexing the stacked A/B matrices.
    """

    def __init__(self, cfg: ModelConfig, d_in: int, d_out: int, bias: bool = False):
        super().__init__()
        self.base = nn.Linear(d_in, d_out, bias=bias)
        n, r = cfg.lora_adapters, cfg.lora_rank
        self.lora_a = nn.Parameter(torch.randn(n, r, d_in) / math.sqrt(d_in))
        self.lora_b = nn.Parameter(torch.zeros(n, d_out, r))  # zero: every adapter starts as the identity
        self.scale = cfg.lora_alpha / r

    def forward(self, x: torch.Tensor, adapter: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        if not torch.jit.is_tracing() and int(adapter) == ADAPTER_BASE:
            return y  # eager shortcut; an exported graph always takes the indexed path below
        # Slot 0 is the base model: prepend zero matrices so index 0 adds nothing.
        a = torch.cat([torch.zeros_like(self.lora_a[:1]), self.lora_a], 0)[adapter]  # [r, d_in]
        b = torch.cat([torch.zeros_like(self.lora_b[:1]), self.lora_b], 0)[adapter]  # [d_out, r]
        return y + (x @ a.t() @ b.t()) * self.scale


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary(x: torch.Tensor, position_ids: torch.Tensor, theta: float) -> torch.Tensor:
    # x: [B, H, T, Dh], position_ids: [B, T]; angles built from tensors so export stays dynamic
    dh = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.float32, device=x.device) / dh))  # [Dh/2]
    ang = position_ids.to(torch.float32).unsqueeze(-1) * inv                                    # [B, T, Dh/2]
    cos, sin = ang.cos().unsqueeze(1), ang.sin().unsqueeze(1)                                   # [B, 1, T, Dh/2]
    x1, x2 = x[..., : dh // 2], x[..., dh // 2:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        hd, kv = cfg.heads * cfg.head_dim, cfg.key_value_heads * cfg.head_dim
        self.q = LoRALinear(cfg, cfg.dim, hd, cfg.attention_bias)
        self.k = LoRALinear(cfg, cfg.dim, kv, cfg.attention_bias)
        self.v = LoRALinear(cfg, cfg.dim, kv, cfg.attention_bias)
        self.o = LoRALinear(cfg, hd, cfg.dim)

    def forward(self, x, mask, position_ids, adapter, past: Optional[Tuple[torch.Tensor, torch.Tensor]]):
        # x: [B, T, D]; mask: [B, 1, T, P+T] additive; past: ([B, Hkv, P, Dh], [B, Hkv, P, Dh])
        b, t, _ = x.shape
        h, hkv, dh = self.cfg.heads, self.cfg.key_value_heads, self.cfg.head_dim
        q = self.q(x, adapter).view(b, t, h, dh).transpose(1, 2)
        k = self.k(x, adapter).view(b, t, hkv, dh).transpose(1, 2)
        v = self.v(x, adapter).view(b, t, hkv, dh).transpose(1, 2)
        q = rotary(q, position_ids, self.cfg.rope_theta)
        k = rotary(k, position_ids, self.cfg.rope_theta)
        if past is not None:
            k = torch.cat([past[0], k], 2)
            v = torch.cat([past[1], v], 2)
        ka, va = repeat_kv(k, h // hkv), repeat_kv(v, h // hkv)   # the cache keeps Hkv heads
        att = (q @ ka.transpose(-1, -2)) / math.sqrt(dh) + mask    # [B, H, T, P+T]
        y = att.softmax(-1) @ va                                   # [B, H, T, Dh]
        y = y.transpose(1, 2).reshape(b, t, h * dh)
        return self.o(y, adapter), (k, v)


def repeat_kv(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Grouped-query attention: [B, Hkv, S, Dh] -> [B, Hkv*groups, S, Dh], query head h
    reading key/value head h // groups (as transformers' repeat_kv)."""
    if groups == 1:
        return x
    b, hkv, s, dh = x.shape
    return x[:, :, None].expand(b, hkv, groups, s, dh).reshape(b, hkv * groups, s, dh)


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate = LoRALinear(cfg, cfg.dim, cfg.mlp_hidden)
        self.up = LoRALinear(cfg, cfg.dim, cfg.mlp_hidden)
        self.down = LoRALinear(cfg, cfg.mlp_hidden, cfg.dim)

    def forward(self, x, adapter):
        return self.down(F.silu(self.gate(x, adapter)) * self.up(x, adapter), adapter)


class DecoderBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.norm1 = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.norm2 = RMSNorm(cfg.dim, cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, mask, position_ids, adapter, past):
        a, present = self.attn(self.norm1(x), mask, position_ids, adapter, past)
        x = x + a
        return x + self.mlp(self.norm2(x), adapter), present


def build_mask(attention_mask: torch.Tensor, query_len: int, bidirectional: bool = False) -> torch.Tensor:
    """Additive mask [B, 1, T, P+T] from a 0/1 key mask [B, P+T]: causal over the
    last T positions, padding masked; filled with the float32 minimum, not -inf, so
    a fully masked row stays finite."""
    total = attention_mask.shape[1]
    past = total - query_len
    keys = torch.arange(total, device=attention_mask.device)
    queries = torch.arange(query_len, device=attention_mask.device) + past
    allowed = attention_mask[:, None, None, :].bool()                              # [B, 1, 1, P+T]
    if not bidirectional:
        allowed = allowed & (keys[None, None, None, :] <= queries[None, None, :, None])  # [B, 1, T, P+T]
    zero = torch.zeros((), dtype=torch.float32, device=attention_mask.device)
    return torch.where(allowed, zero, torch.tensor(torch.finfo(torch.float32).min, device=attention_mask.device))


class Decoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blocks = nn.ModuleList([DecoderBlock(cfg) for _ in range(cfg.layers)])
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.embed.weight
        self.gradient_checkpointing = False  # recompute blocks in backward (large imported bases)

    def forward(self, inputs_embeds, attention_mask, position_ids, adapter,
                past: Optional[List[Tuple[torch.Tensor, torch.Tensor]]] = None, bidirectional: bool = False):
        # inputs_embeds: [B, T, D] -> hidden [B, T, D] (after the final norm), presents
        x = inputs_embeds
        mask = build_mask(attention_mask, x.shape[1], bidirectional)
        presents = []
        for i, block in enumerate(self.blocks):
            if self.gradient_checkpointing and self.training and torch.is_grad_enabled() and past is None:
                x, present = torch.utils.checkpoint.checkpoint(block, x, mask, position_ids, adapter, None, use_reentrant=False)
            else:
                x, present = block(x, mask, position_ids, adapter, None if past is None else past[i])
            presents.append(present)
        return self.norm(x), presents


# ----------------------------------------------------------------------------- the model

class Glimpse(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.vision = VisionTower(cfg)
        self.projector = Projector(cfg)
        self.decoder = Decoder(cfg)
        self.summary = nn.Parameter(torch.randn(cfg.summary_tokens, cfg.dim) * 0.02)  # H_r: [K, D]
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))             # InfoNCE temperature
        self.apply(self._init_weights)
        # GPT-2: residual output projections scaled down by depth
        for name, p in self.named_parameters():
            if name.endswith(("attn.o.base.weight", "mlp.down.base.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        # Small initial weights keep the tied embedding/LM head from starting with huge logits.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def image_tokens(self, pixels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        patches, cls = self.vision(pixels)
        return self.projector(patches), cls  # [B, V, D], [B, Dv]

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.decoder.embed(ids)

    def run(self, embeds, mask, adapter: int, bidirectional: bool = False) -> torch.Tensor:
        """One pass over right-padded embeddings; positions count real tokens only."""
        position_ids = (mask.cumsum(1) - 1).clamp(min=0)
        hidden, _ = self.decoder(embeds, mask, position_ids, torch.tensor(adapter), None, bidirectional)
        return hidden  # [B, T, D]

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.decoder.lm_head(hidden)

    def compress(self, prefix: torch.Tensor, prefix_mask: torch.Tensor, prompt_ids: torch.Tensor,
                 adapter: int = ADAPTER_COMPRESS, budget: Optional[int] = None, bidirectional: bool = False,
                 head_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Pass 1: [prefix ; prompt ; H_r] -> the last-layer outputs at the summary positions.

        prefix: [B, P, D] image tokens (or caption embeddings, right-padded by prefix_mask [B, P]);
        prompt_ids: [L] the compression prompt. Returns [B, K', D] with K' = budget or K.
        Padding inside the prefix is moved to the front so prompt and summary sit at the end.
        head_ids: [H] tokens before the prefix (pack v2 `bos_in_compress`: the BOS)."""
        b = prefix.shape[0]
        if head_ids is not None and len(head_ids):
            prefix = torch.cat([self.embed(head_ids)[None].expand(b, -1, -1), prefix], 1)
            prefix_mask = torch.cat([torch.ones(b, len(head_ids), dtype=prefix_mask.dtype, device=prefix.device), prefix_mask], 1)
        k = self.cfg.summary_tokens if budget is None else budget
        prompt = self.embed(prompt_ids)[None].expand(b, -1, -1)
        summary = self.summary[:k][None].expand(b, -1, -1)
        prefix, pmask = left_align(prefix, prefix_mask)  # each row's prefix ends right before the prompt
        x = torch.cat([prefix, prompt, summary], 1)
        mask = torch.cat([pmask, torch.ones(b, prompt.shape[1] + k, dtype=torch.long, device=pmask.device)], 1)
        hidden = self.run(x, mask, adapter, bidirectional)
        return hidden[:, -k:]

    @staticmethod
    def retrieval_embedding(compressed: torch.Tensor) -> torch.Tensor:
        return F.normalize(compressed.mean(1), dim=-1)  # [B, K', D] -> [B, D]


def left_align(x: torch.Tensor, mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Moves right padding to the front so every row ends at the last column.
    x: [B, T, D], mask: [B, T] (1 = real) -> the same shapes, padding first."""
    t = x.shape[1]
    lengths = mask.sum(1)
    cols = torch.arange(t, device=x.device)[None, :]
    idx = (cols - (t - lengths)[:, None]) % t                                       # [B, T]
    x = x.gather(1, idx[..., None].expand(-1, -1, x.shape[2]))
    return x, (cols >= (t - lengths)[:, None]).long()


def splice(rows: torch.Tensor, at: int, inserted: torch.Tensor) -> torch.Tensor:
    """Replace the placeholder at column `at` (the <image> token, at the same place in
    every row of the chat template) with `inserted`: [B, T, ...] -> [B, T-1+N, ...]."""
    return torch.cat([rows[:, :at], inserted, rows[:, at + 1:]], 1)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
