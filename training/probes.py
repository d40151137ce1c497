"""Training-only heads that read the scene graph (per grid cell: shape, colour, size,
digit; the scene type) off the model's features. Not exported.

The class lists come from the data set's own manifest (`WorldDataset.vocabulary`, written
by the world from world/vocab.ts), so nothing here copies the world's vocabulary.
"""
from __future__ import annotations

from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import ModelConfig

DIGITS = 10  # the signs show 0-9


def attribute_classes(vocab: Dict[str, List[str]]) -> Dict[str, int]:
    """Classes per cell attribute, 0 = empty cell (digit: also no digit)."""
    return {"shape": len(vocab["shapes"]) + 1, "colour": len(vocab["colours"]) + 1,
            "size": len(vocab["sizes"]) + 1, "digit": DIGITS + 1}


def cell_labels(records: List[dict], vocab: Dict[str, List[str]]) -> Dict[str, torch.Tensor]:
    """The scene graph per grid cell (row-major): {"shape", "colour", "size", "digit"} ->
    [B, 9] class ids, 0 = empty cell (digit: also no digit), an object's attribute 1-based."""
    labels = {k: torch.zeros(len(records), 9, dtype=torch.long) for k in ("shape", "colour", "size", "digit")}
    for n, r in enumerate(records):
        for o in r["graph"]["objects"]:
            c = o["row"] * 3 + o["col"]
            labels["shape"][n, c] = vocab["shapes"].index(o["shape"]) + 1
            labels["colour"][n, c] = vocab["colours"].index(o["colour"]) + 1
            labels["size"][n, c] = vocab["sizes"].index(o["size"]) + 1
            labels["digit"][n, c] = 0 if o["digit"] is None else o["digit"] + 1
    return labels


def scene_graph_loss(cell_logits: Dict[str, torch.Tensor], scene_logits: torch.Tensor, records: List[dict],
                     vocab: Dict[str, List[str]]) -> torch.Tensor:
    """Cross-entropy of per-cell attribute logits {"shape", "colour", "size", "digit"} ->
    [B, 9, classes] and scene logits [B, scenes] against the records' scene graphs."""
    labels = cell_labels(records, vocab)
    loss = sum(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[k].reshape(-1)) for k, logits in cell_logits.items())
    scene = torch.tensor([vocab["scenes"].index(r["graph"]["scene"]) for r in records])
    return loss + F.cross_entropy(scene_logits, scene)


class VisionProbe(nn.Module):
    """Stage 1: heads that read the scene graph off the vision tower: per grid cell from
    the pooled patch tokens, the scene type from CLS. LLaVA starts from a pretrained CLIP;
    with no pretrained vision here, this direct supervision plays that part."""

    def __init__(self, cfg: ModelConfig, vocab: Dict[str, List[str]]):
        super().__init__()
        self.vocab = vocab
        self.side = cfg.image_size // cfg.patch_size
        self.heads = nn.ModuleDict({k: nn.Linear(cfg.vision_dim, n) for k, n in attribute_classes(vocab).items()})
        self.scene = nn.Linear(cfg.vision_dim, len(vocab["scenes"]))

    def forward(self, patches: torch.Tensor, cls: torch.Tensor, records: List[dict]) -> torch.Tensor:
        b, v, dv = patches.shape
        grid = patches.transpose(1, 2).reshape(b, dv, self.side, self.side)
        cells = F.adaptive_avg_pool2d(grid, 3).flatten(2).transpose(1, 2)            # [B, 9, Dv]
        return scene_graph_loss({k: head(cells) for k, head in self.heads.items()}, self.scene(cls), records, self.vocab)


class SceneProbe(nn.Module):
    """Stage 2 (`scene_probe`, off by default): the scene graph read off the mean of the
    compressed tokens by a small MLP. Tried against pass 1 dropping colour; it helped
    little next to weighting the contrastive loss down (docs/training.md)."""

    def __init__(self, cfg: ModelConfig, vocab: Dict[str, List[str]], hidden: int = 256):
        super().__init__()
        self.vocab = vocab
        self.sizes = attribute_classes(vocab)
        self.scenes = len(vocab["scenes"])
        self.mlp = nn.Sequential(nn.Linear(cfg.dim, hidden), nn.GELU(),
                                 nn.Linear(hidden, 9 * sum(self.sizes.values()) + self.scenes))

    def forward(self, compressed: torch.Tensor, records: List[dict]) -> torch.Tensor:
        b = compressed.shape[0]
        out = self.mlp(compressed.mean(1))                                          # [B, 9 * 33 + scenes]
        cells, scene_logits = out[:, :-self.scenes].view(b, 9, -1), out[:, -self.scenes:]
        per_attribute = dict(zip(self.sizes, cells.split(list(self.sizes.values()), dim=-1)))  # each [B, 9, n]
        return scene_graph_loss(per_attribute, scene_logits, records, self.vocab)
