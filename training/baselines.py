"""Training-free visual-token reduction to K tokens, fed to the base model (the paper's
Table 1 baselines at equal K):

  pool      average pooling of the patch grid to a rows x cols grid (Matryoshka-style)
  cls       the K patch tokens whose ViT features are most similar to CLS
  prumerge  PruMerge-style: keep the K patches the CLS attends to most (last ViT block,
            mean over heads), assign every other patch to the kept patch whose attention
            key is most similar (cosine), and replace each kept patch by the CLS-attention
            weighted mean of its cluster; merged in ViT space, then projected.

Each takes (model, pixels [B, 3, S, S], K) and returns [B, K, D] decoder-space tokens in
their original order. bench/quality.ts has the same `pool` and `cls` over the exported
pack; these are the PyTorch ones for the ablations.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Tuple

import torch
import torch.nn.functional as F

from model import Glimpse


def pool_tokens(model: Glimpse, pixels: torch.Tensor, budget: int) -> torch.Tensor:
    visual, _ = model.image_tokens(pixels)                                         # [B, V, D]
    b, v, d = visual.shape
    side = int(math.isqrt(v))
    rows = 2 ** int(math.floor(math.log2(budget) / 2))
    grid = visual.transpose(1, 2).reshape(b, d, side, side)
    return F.adaptive_avg_pool2d(grid, (rows, budget // rows)).flatten(2).transpose(1, 2)  # [B, K, D]


def cls_select(model: Glimpse, pixels: torch.Tensor, budget: int) -> torch.Tensor:
    patches, cls = model.vision(pixels)                                            # [B, V, Dv], [B, Dv]
    score = (patches @ cls[:, :, None]).squeeze(-1) / patches.norm(dim=-1).clamp(min=1e-6)  # [B, V]
    keep = score.topk(budget, dim=1).indices.sort(dim=1).values                    # [B, K]
    return model.projector(patches.gather(1, keep[..., None].expand(-1, -1, patches.shape[2])))


def cls_attention(model: Glimpse, pixels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The vision tower's outputs plus, from its last block, the CLS token's attention over
    the patches (mean over heads) and the patches' attention keys:
    -> patches [B, V, Dv], attention [B, V], keys [B, V, Dv]."""
    captured = {}
    attn = model.vision.blocks[-1].attn

    def keep_input(_module, inputs, _output) -> None:  # returns None: the block's output is left as it is
        captured["x"] = inputs[0]

    handle = attn.register_forward_hook(keep_input)
    try:
        patches, _ = model.vision(pixels)
    finally:
        handle.remove()
    x = captured["x"]                                                              # [B, 1+V, Dv] (after ln1)
    b, n, dv = x.shape
    h = attn.heads
    q, k, _ = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).view(b, n, 3, h, dv // h).permute(2, 0, 3, 1, 4)
    att = ((q[:, :, :1] @ k.transpose(-1, -2)) / math.sqrt(dv // h)).softmax(-1)  # [B, H, 1, 1+V]
    keys = k.transpose(1, 2).reshape(b, n, dv)[:, 1:]                              # [B, V, Dv]
    return patches, att.mean(1)[:, 0, 1:], keys


def prumerge(model: Glimpse, pixels: torch.Tensor, budget: int) -> torch.Tensor:
    patches, attention, keys = cls_attention(model, pixels)
    b, v, dv = patches.shape
    keep = attention.topk(budget, dim=1).indices.sort(dim=1).values                # [B, K]
    keys = F.normalize(keys, dim=-1)
    similarity = keys @ keys.gather(1, keep[..., None].expand(-1, -1, dv)).transpose(1, 2)  # [B, V, K]
    cluster = similarity.argmax(-1)                                                # [B, V]: each patch's kept token
    cluster.scatter_(1, keep, torch.arange(budget).expand(b, -1))                  # a kept patch is its own centre
    weights = F.one_hot(cluster, budget).to(patches.dtype) * attention[..., None]  # [B, V, K]
    merged = weights.transpose(1, 2) @ patches / weights.sum(1)[..., None].clamp(min=1e-12)  # [B, K, Dv]
    return model.projector(merged)


REDUCERS: Dict[str, Callable[[Glimpse, torch.Tensor, int], torch.Tensor]] = {
    "pool": pool_tokens, "cls": cls_select, "prumerge": prumerge}
