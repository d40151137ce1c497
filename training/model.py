"""Glimpse's vision-language model and its Fwd2Bot double-forward compressor.

One file, nanoGPT style:
  VisionTower  CLIP-style ViT: patch embedding, CLS token, learned positions, pre-LN blocks
  Projector    2-layer MLP from vision width to the decoder width (LLaVA-1.5)
  Decoder      LLaMA-style: RMSNorm, rotary positions, SwiGLU, causal attention,
               KV cache, and hand-written LoRA with an explicit adapter index
  Glimpse      the three together, plus K learnable summary embeddings and the two
               Fwd2Bot passes (compress, generate) and the retrieval embedding

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

    @property
    def vision_tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2

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


class VisionBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.vision_dim)
        self.attn = VisionAttention(cfg.vision_dim, cfg.vision_heads)
        self.ln2 = nn.LayerNorm(cfg.vision_dim)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.vision_dim, 4 * cfg.vision_dim), nn.GELU(), nn.Linear(4 * cfg.vision_dim, cfg.vision_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, 1+V, Dv]
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class VisionTower(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.patch = nn.Conv2d(3, cfg.vision_dim, cfg.patch_size, cfg.patch_size)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.vision_dim))
        self.pos = nn.Parameter(torch.randn(1, 1 + cfg.vision_tokens, cfg.vision_dim) * 0.02)
        self.ln_pre = nn.LayerNorm(cfg.vision_dim)
        self.blocks = nn.ModuleList([VisionBlock(cfg) for _ in range(cfg.vision_layers)])
        self.ln_post = nn.LayerNorm(cfg.vision_dim)

    def forward(self, pixels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        # pixels: [B, 3, S, S] normalised -> patches [B, V, Dv], cls [B, Dv]
        x = self.patch(pixels).flatten(2).transpose(1, 2)           # [B, V, Dv]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1)  # [B, 1+V, Dv]
        x = self.ln_pre(x + self.pos)
        for block in self.blocks:
            x = block(x)
        x = self.ln_post(x)
        return x[:, 1:], x[:, 0]


class Projector(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.vision_dim, cfg.dim)
        self.fc2 = nn.Linear(cfg.dim, cfg.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, V, Dv] -> [B, V, D]
        return self.fc2(F.gelu(self.fc1(x)))


# ----------------------------------------------------------------------------- decoder

class LoRALinear(nn.Module):
    """A frozen-able linear layer plus low-rank deltas, one per adapter slot.

    `adapter` is an int64 scalar tensor (0 = no delta), so a single exported graph
    can switch adapters at run time by indexing the stacked A/B matrices.
    """

    def __init__(self, cfg: ModelConfig, d_in: int, d_out: int):
        super().__init__()
        self.base = nn.Linear(d_in, d_out, bias=False)
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
        self.q = LoRALinear(cfg, cfg.dim, cfg.dim)
        self.k = LoRALinear(cfg, cfg.dim, cfg.dim)
        self.v = LoRALinear(cfg, cfg.dim, cfg.dim)
        self.o = LoRALinear(cfg, cfg.dim, cfg.dim)

    def forward(self, x, mask, position_ids, adapter, past: Optional[Tuple[torch.Tensor, torch.Tensor]]):
        # x: [B, T, D]; mask: [B, 1, T, P+T] additive; past: ([B, H, P, Dh], [B, H, P, Dh])
        b, t, _ = x.shape
        h, dh = self.cfg.heads, self.cfg.head_dim
        q = self.q(x, adapter).view(b, t, h, dh).transpose(1, 2)
        k = self.k(x, adapter).view(b, t, h, dh).transpose(1, 2)
        v = self.v(x, adapter).view(b, t, h, dh).transpose(1, 2)
        q = rotary(q, position_ids, self.cfg.rope_theta)
        k = rotary(k, position_ids, self.cfg.rope_theta)
        if past is not None:
            k = torch.cat([past[0], k], 2)
            v = torch.cat([past[1], v], 2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(dh) + mask     # [B, H, T, P+T]
        y = att.softmax(-1) @ v                                    # [B, H, T, Dh]
        y = y.transpose(1, 2).reshape(b, t, h * dh)
        return self.o(y, adapter), (k, v)


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

    def forward(self, inputs_embeds, attention_mask, position_ids, adapter,
                past: Optional[List[Tuple[torch.Tensor, torch.Tensor]]] = None, bidirectional: bool = False):
        # inputs_embeds: [B, T, D] -> hidden [B, T, D] (after the final norm), presents
        x = inputs_embeds
        mask = build_mask(attention_mask, x.shape[1], bidirectional)
        presents = []
        for i, block in enumerate(self.blocks):
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
                 adapter: int = ADAPTER_COMPRESS, budget: Optional[int] = None, bidirectional: bool = False) -> torch.Tensor:
        """Pass 1: [prefix ; prompt ; H_r] -> the last-layer outputs at the summary positions.

        prefix: [B, P, D] image tokens (or caption embeddings, right-padded by prefix_mask [B, P]);
        prompt_ids: [L] the compression prompt. Returns [B, K', D] with K' = budget or K.
        Padding inside the prefix is moved to the front so prompt and summary sit at the end."""
        b = prefix.shape[0]
        k = self.cfg.summary_tokens if budget is None else budget
        prompt = self.embed(prompt_ids)[None].expand(b, -1, -1)
        summary = self.summary[:k][None].expand(b, -1, -1)
        prefix, pmask = left_align(prefix, prefix_mask)  # each row's prefix ends right before the prompt
        x = torch.cat([prefix, prompt, summary], 1)
        mask = torch.cat([pmask, torch.ones(b, prompt.shape[1] + k, dtype=torch.long)], 1)
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
    idx = (torch.arange(t)[None, :] - (t - lengths)[:, None]) % t                  # [B, T]
    x = x.gather(1, idx[..., None].expand(-1, -1, x.shape[2]))
    return x, (torch.arange(t)[None, :] >= (t - lengths)[:, None]).long()


def splice(rows: torch.Tensor, at: int, inserted: torch.Tensor) -> torch.Tensor:
    """Replace the placeholder at column `at` (the <image> token, at the same place in
    every row of the chat template) with `inserted`: [B, T, ...] -> [B, T-1+N, ...]."""
    return torch.cat([rows[:, :at], inserted, rows[:, at + 1:]], 1)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
