"""Fwd2Bot's training side, beside the model: the stage-2 switches (the method and the
paper's ablations), the losses, one training step of each stage, which parameters
train, and greedy decoding. train.py (the script), evaluate.py, export.py and the
ablations use these; nothing imports train.py.
"""
from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set

import torch
import torch.nn as nn
import torch.nn.functional as F

from data import IMAGE_AT, Row, WorldDataset, caption_turn, chat_row, instruction_turns, pad_rows, text_rows
from model import ADAPTER_BASE, ADAPTER_COMPRESS, ADAPTER_GENERATE, Glimpse, ModelConfig, left_align, splice
from probes import SceneProbe, VisionProbe
from tokenizer import Tokenizer

BUDGETS = (1, 2, 4, 8, 16)
STAGE2_MODEL_FIELDS = ("lora_rank", "lora_alpha")  # what stage 2 adds to a frozen base
CHOICES = {"loss": ("ar", "disc", "both"), "adapters": ("stage", "single", "full"),
           "attention": ("causal", "bidirectional"), "forward": ("double", "single"), "budgets": ("prefix", "fixed")}


def is_weight_map(value, key_ok: Callable[[object], bool]) -> bool:
    """A dict whose keys pass `key_ok` and whose values are finite numbers >= 0 (not booleans)."""
    return isinstance(value, dict) and all(
        key_ok(k) and isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) and w >= 0
        for k, w in value.items())


@dataclass
class Fwd2BotConfig:
    """Stage-2 switches; the defaults are the method, the rest are the paper's ablations.
    One deviation: the paper adds the two losses with equal weight; here that lets the
    contrastive loss make pass 1 drop colour (docs/training.md), so it is weighted 0.03."""
    loss: str = "both"            # ar | disc | both
    adapters: str = "stage"       # stage (compress + generate) | single (one shared adapter) | full (no adapters:
                                  # every decoder weight trained, both passes on the same weights)
    attention: str = "causal"     # causal | bidirectional (pass 1 only)
    forward: str = "double"       # double (pass 1 compresses in the LLM) | single (QueryCompressor over the
                                  # vision tokens, one LLM pass; pass 1 never runs)
    budgets: str = "prefix"       # prefix (sample K' per batch) | fixed (always K)
    disc_weight: float = 0.03     # weight of the contrastive loss next to the autoregressive one (paper: 1)
    scene_probe: bool = False     # deviation: also read the scene graph off the compressed tokens (SceneProbe)
    hard_negatives: float = 0.0   # per image of a caption batch, the chance that its text is a probe's true caption
                                  # and the probe's hard negative (swapped/replaced/added) joins the negatives
    search_texts: float = 0.0     # per image, the chance that its contrastive text is a short search text
    unk_rate: float = 0.0         # chance that a non-meaning question word is read as <unk> (reading past unknown words)
    unk_insert_rate: float = 0.0  # per question token, the chance of an extra <unk> before it (new wordings add words)
    hard_pair_weight: float = 0.0 # weight of a loss on each image's own pair (true caption vs its hard negative) alone:
                                  # in the batch softmax one hard negative among B texts moves the loss little
    text_pair_weight: float = 0.0 # weight of a text-only loss pushing each true caption's embedding away from its hard
                                  # negative's (cosine above text_pair_margin costs): image and text side must learn
                                  # a binding feature together, and while the texts embed alike the image loss is flat
    text_pair_margin: float = 0.8 # the cosine a caption and its hard negative may keep (replaced colours sit near 0.84)
    probe_captions: float = 0.0   # per caption turn, the chance that its answer is one of the image's true probe
                                  # sentences ("a black diamond above a purple heart"): the world's captions never
                                  # state a relation, so pass 2 could not score one, and search re-ranks by that score
                                  # (main/library/rerank.ts)
    probe_caption_weights: Dict[str, float] = field(default_factory=dict)  # probe category -> weight of drawing its
                                  # sentence for probe_captions (1 if not named): relations are about 1 sentence in 9,
                                  # too few for pass 2 to learn to score "above" against "below"
    distill_weight: float = 0.0   # weight of a loss keeping pass 2's answers to the base model's own: on each question
                                  # turn, KL(base reading all visual tokens, no adapter || pass 2 reading the K tokens)
                                  # at every answer token. The adapter learns the seen wordings from their answers
                                  # alone and drifts from how the base reads wordings it never saw. Measured not to help
                                  # held-out wordings (round 7, docs/training-language2-rounds-6-on.md): kept off by default
    budget_weights: Dict[str, float] = field(default_factory=dict)  # budget ("16") -> weight of drawing it per batch
                                  # under prefix budgets (1 if not named). Uniform, the budgets the app and the
                                  # targets read (4 and 16) get 2 QA batches in 10 (round 10 weighs them 2 and 3)
    text_pair_skip: List[str] = field(default_factory=list)  # probe categories the text loss leaves alone, e.g.
                                  # replace-relation: "X below Y" is "Y above X", so a relation word alone must not
                                  # move the text; pushing on it fought the captions that say it the other way round

    def __post_init__(self):
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"fwd2bot {name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        for name in ("disc_weight", "hard_pair_weight", "text_pair_weight", "distill_weight"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"fwd2bot {name} must be a number >= 0, not {value!r}")
        if not isinstance(self.text_pair_skip, list) or not all(isinstance(c, str) for c in self.text_pair_skip):
            raise ValueError(f"fwd2bot text_pair_skip must be a list of probe categories, not {self.text_pair_skip!r}")
        weights = self.probe_caption_weights
        if not is_weight_map(weights, lambda c: isinstance(c, str)):
            raise ValueError(f"fwd2bot probe_caption_weights must map probe categories to numbers >= 0, not {weights!r}")
        bw = self.budget_weights
        if not is_weight_map(bw, lambda k: k in {str(b) for b in BUDGETS}) or (bw and sum(self.budget_draw_weights()) == 0):
            raise ValueError(f"fwd2bot budget_weights must map budgets {', '.join(map(str, BUDGETS))} to numbers >= 0, "
                             f"not all 0, not {bw!r}")
        if bw and self.budgets != "prefix":
            raise ValueError("fwd2bot budget_weights needs budgets \"prefix\"; \"fixed\" always trains K")
        if self.distill_weight > 0 and self.adapters == "full":
            raise ValueError("fwd2bot distill_weight needs the base model frozen as its teacher; adapters \"full\" trains it")
        if not isinstance(self.text_pair_margin, (int, float)) or not 0 <= self.text_pair_margin <= 1:
            raise ValueError(f"fwd2bot text_pair_margin must be a cosine in [0, 1], not {self.text_pair_margin!r}")
        for name in ("hard_negatives", "search_texts", "unk_rate", "unk_insert_rate", "probe_captions"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"fwd2bot {name} must be a probability in [0, 1], not {value!r}")

    def budget_draw_weights(self) -> List[float]:
        """Each of BUDGETS' weight of being drawn."""
        return [float(self.budget_weights.get(str(b), 1.0)) for b in BUDGETS]

    def draw_budget(self, rng: random.Random) -> int:
        if not self.budget_weights:
            return rng.choice(BUDGETS)  # no other draw: runs from before the switch replay
        return rng.choices(BUDGETS, weights=self.budget_draw_weights())[0]

    def compress_adapter(self) -> int:
        return ADAPTER_BASE if self.adapters == "full" else ADAPTER_COMPRESS

    def generate_adapter(self) -> int:
        return {"full": ADAPTER_BASE, "single": ADAPTER_COMPRESS}.get(self.adapters, ADAPTER_GENERATE)

    def lora_adapters(self) -> int:
        """Adapter slots the model needs (full fine-tuning keeps one, never used)."""
        return 2 if self.adapters == "stage" else 1


class QueryCompressor(nn.Module):
    """The `single-forward` ablation (the paper's Table 7): compress in the input space,
    without the LLM. K learned queries cross-attend over the projected vision tokens (or a
    caption's token embeddings, for the contrastive loss), then an MLP; the K outputs go
    into the one LLM pass in place of the image. Value and output projections start as the
    identity, so at step 0 each output is an attention-weighted mean of input tokens the
    LLM already reads. Trained with the adapters; not exported."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.heads = cfg.heads
        self.queries = nn.Parameter(torch.randn(cfg.summary_tokens, cfg.dim) * 0.02)  # [K, D]
        self.norm_kv = nn.LayerNorm(cfg.dim)
        self.q, self.k = nn.Linear(cfg.dim, cfg.dim), nn.Linear(cfg.dim, cfg.dim)
        self.v, self.o = nn.Linear(cfg.dim, cfg.dim), nn.Linear(cfg.dim, cfg.dim)
        for lin in (self.v, self.o):
            nn.init.eye_(lin.weight)
            nn.init.zeros_(lin.bias)
        self.norm_mlp = nn.LayerNorm(cfg.dim)
        self.mlp = nn.Sequential(nn.Linear(cfg.dim, 2 * cfg.dim), nn.GELU(), nn.Linear(2 * cfg.dim, cfg.dim))
        nn.init.zeros_(self.mlp[2].weight)
        nn.init.zeros_(self.mlp[2].bias)

    def forward(self, content: torch.Tensor, mask: torch.Tensor, budget: Optional[int] = None) -> torch.Tensor:
        # content: [B, N, D], mask: [B, N] (1 = real) -> [B, K', D]
        b, n, d = content.shape
        k, h = self.queries.shape[0] if budget is None else budget, self.heads
        kv = self.norm_kv(content)
        q = self.q(self.queries[:k]).view(k, h, d // h).transpose(0, 1)[None]               # [1, H, K', Dh]
        keys = self.k(kv).view(b, n, h, d // h).transpose(1, 2)                             # [B, H, N, Dh]
        values = content.view(b, n, h, d // h).transpose(1, 2)                              # [B, H, N, Dh]
        att = q @ keys.transpose(-1, -2) / math.sqrt(d // h)                                # [B, H, K', N]
        att = att.masked_fill(~mask.bool()[:, None, None, :], torch.finfo(att.dtype).min)
        y = (att.softmax(-1) @ values).transpose(1, 2).reshape(b, k, d)                     # [B, K', D]
        y = self.o(self.v(y))  # v after the weighted mean: the same, as the weights sum to 1
        return y + self.mlp(self.norm_mlp(y))


def attach_single_forward(model: Glimpse) -> Glimpse:
    """Gives the model the single-forward compressor (its weights then live in the state dict)."""
    model.query_compressor = QueryCompressor(model.cfg)
    return model


def compress(model: Glimpse, f2b: "Fwd2BotConfig", content: torch.Tensor, mask: torch.Tensor,
             prompt_ids: torch.Tensor, budget: Optional[int]) -> torch.Tensor:
    """Image tokens or caption embeddings [B, N, D] -> K' compressed tokens [B, K', D],
    by pass 1 (double forward) or by the query compressor (single forward)."""
    if f2b.forward == "single":
        return model.query_compressor(content, mask, budget)
    return model.compress(content, mask, prompt_ids, f2b.compress_adapter(), budget, f2b.attention == "bidirectional")


# ----------------------------------------------------------------------------- losses

def answer_logits(model: Glimpse, x: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor, adapter: int):
    """The logits that predict each labelled token, row by row in order: [N, V], and the targets [N]."""
    hidden = model.run(x, mask, adapter)                       # [B, T, D]
    targets = labels[:, 1:]
    keep = targets != -100
    return model.logits(hidden[:, :-1][keep]), targets[keep]   # only where there is a target


def lm_loss(model: Glimpse, x: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor, adapter: int) -> torch.Tensor:
    return F.cross_entropy(*answer_logits(model, x, mask, labels, adapter))


def distill_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) per predicted token, averaged; both [N, V] logits."""
    return F.kl_div(F.log_softmax(student, -1), F.log_softmax(teacher, -1), log_target=True, reduction="batchmean")


def info_nce(model: Glimpse, a: torch.Tensor, b: torch.Tensor, hard: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Symmetric InfoNCE on cosine similarity; a (images), b (their texts): [B, D] normalised.
    hard [H, D]: extra texts false for every image (hard negatives), which only the
    image-to-text direction can use."""
    scale = model.logit_scale.exp().clamp(max=100)
    logits = a @ b.t() * scale                                          # [B, B]
    target = torch.arange(a.shape[0], device=a.device)
    to_text = logits if hard is None else torch.cat([logits, a @ hard.t() * scale], 1)  # [B, B + H]
    return (F.cross_entropy(to_text, target) + F.cross_entropy(logits.t(), target)) / 2


def hard_pair_loss(model: Glimpse, a: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Each image against its own true caption and that caption's hard negative only (a
    two-way softmax at the contrastive temperature); a, positive, negative: [H, D] normalised.
    Swapped attributes or a replaced relation are told apart by binding alone, which the
    in-batch negatives never ask for."""
    scale = model.logit_scale.exp().clamp(max=100)
    logits = torch.stack([(a * positive).sum(-1), (a * negative).sum(-1)], 1) * scale   # [H, 2]
    return F.cross_entropy(logits, torch.zeros(a.shape[0], dtype=torch.long, device=a.device))


def text_pair_loss(positive: torch.Tensor, negative: torch.Tensor, margin: float) -> torch.Tensor:
    """Hinge on the cosine of each true caption and its own hard negative; positive,
    negative: [H, D] normalised. Measured on the round-2 pack: a caption and its swapped or
    re-related twin embedded at cosine 0.996-0.9995, so no image could tell them apart."""
    return F.relu((positive * negative).sum(-1) - margin).mean()


def contrastive_texts(records: List[dict], captions: List[str], rng: random.Random, f2b: "Fwd2BotConfig"):
    """Each image's text for the contrastive loss, the batch's hard negatives, and for each
    hard negative the image it belongs to and its probe category. Without the switches: the
    caption of its AR turn, and no rng is drawn (old runs replay)."""
    texts, hard, owners, categories = list(captions), [], [], []
    for b, r in enumerate(records):
        probes, searches = r.get("probes") or [], [s["text"] for s in r.get("searches") or [] if not s["heldOut"]]
        if f2b.hard_negatives > 0 and probes and rng.random() < f2b.hard_negatives:
            probe = rng.choice(probes)
            texts[b] = probe["positive"]
            hard.append(probe["negative"])
            owners.append(b)
            categories.append(probe["category"])
        elif f2b.search_texts > 0 and searches and rng.random() < f2b.search_texts:
            texts[b] = rng.choice(searches)
    return texts, hard, owners, categories


def drop_words(row: Row, rng: random.Random, rate: float, unk_id: int, keep: Set[int]) -> Row:
    """Reads a few question words as <unk> (never a meaning word, a special token or an
    answer), so the model learns to answer past a word it does not know."""
    if rate <= 0:
        return row
    ids = [unk_id if label == -100 and i not in keep and rng.random() < rate else i
           for i, label in zip(row.ids, row.labels)]
    return Row(ids, row.labels, row.image_at)


def insert_unknowns(row: Row, rng: random.Random, rate: float, unk_id: int) -> Row:
    """Puts an <unk> before a question token with chance `rate` each (and before the closing
    ASSISTANT:), never before <image> or into an answer: a new wording adds words the model never
    saw ("Would you say ...", "Name the ..."), which drop_words alone, replacing words in place, never shows."""
    if rate <= 0:
        return row
    ids, labels = [], []
    for k, (i, label) in enumerate(zip(row.ids, row.labels)):
        if k > row.image_at and label == -100 and row.labels[k - 1] == -100 and rng.random() < rate:
            ids.append(unk_id)
            labels.append(-100)
        ids.append(i)
        labels.append(label)
    return Row(ids, labels, row.image_at)


def remap_vocabulary(state: Dict[str, torch.Tensor], old: Tokenizer, new: Tokenizer, synonyms: Dict[str, str]) -> None:
    """Rebuilds a trained model's token tables in place for the vocabulary `new`, row by
    word: a word both know keeps its trained row (wherever its id moved), a word only
    `new` has starts as its canonical word's row (crimson as red, color as colour; a
    synonym table from the world) or else as the mean word row plus a little noise, and a
    word only `old` has is dropped. Growing (Tokenizer.extended) keeps every id; restricting
    to the training data's words (Tokenizer.restricted) shifts them."""
    for key in ("decoder.embed.weight", "decoder.lm_head.weight"):
        if key not in state:
            continue
        g = torch.Generator().manual_seed(0)  # per table: a tied LM head is rebuilt exactly as the embeddings
        table = state[key]                                                  # [V_old, D]
        mean, spread = table.mean(0), table.std(0)
        rows = []
        for word in sorted(new.vocab, key=new.vocab.get):
            source = word if word in old.vocab else synonyms.get(word)
            if source in old.vocab:
                rows.append(table[old.vocab[source]])
            else:
                rows.append(mean + 0.1 * spread * torch.randn(table.shape[1], generator=g))
        state[key] = torch.stack(rows)                                      # [V_new, D]


def splice_batch(model: Glimpse, ids, mask, labels, inserted: torch.Tensor):
    """The chat rows with `inserted` [B, N, D] in place of <image>."""
    b, n = inserted.shape[0], inserted.shape[1]
    x = splice(model.embed(ids), IMAGE_AT, inserted)
    mask = splice(mask, IMAGE_AT, torch.ones(b, n, dtype=torch.long))
    labels = splice(labels, IMAGE_AT, torch.full((b, n), -100, dtype=torch.long))
    return x, mask, labels


# ----------------------------------------------------------------------------- training steps

def stage1_step(model: Glimpse, ds: WorldDataset, tok: Tokenizer, idx: List[int], rng: random.Random, step: int,
                probe: Optional[VisionProbe] = None, unk_rate: float = 0.0, keep: Set[int] = frozenset(),
                unk_insert_rate: float = 0.0):
    records = [ds.record(i) for i in idx]
    rows = [insert_unknowns(drop_words(chat_row(tok, instruction_turns(r, rng)), rng, unk_rate, tok.unk_id, keep),
                            rng, unk_insert_rate, tok.unk_id) for r in records]
    ids, mask, labels = pad_rows(rows, tok.pad_id)
    patches, cls = model.vision(ds.pixels(idx))
    visual = model.projector(patches)
    x, mask, labels = splice_batch(model, ids, mask, labels, visual)
    loss = lm_loss(model, x, mask, labels, ADAPTER_BASE)
    metrics = {"ar": loss.item()}
    if probe is not None:
        aux = probe(patches, cls, records)
        metrics["vision_aux"] = aux.item()
        loss = loss + aux
    return loss, metrics


def stage2_step(model: Glimpse, ds: WorldDataset, tok: Tokenizer, idx: List[int], rng: random.Random, step: int,
                f2b: Fwd2BotConfig, prompt_ids: torch.Tensor, probe: Optional[SceneProbe] = None,
                keep: Set[int] = frozenset()):
    budget = f2b.draw_budget(rng) if f2b.budgets == "prefix" else model.cfg.summary_tokens
    caption_batch = step % 2 == 1  # the sampler alternates instruction and caption-pair batches 1:1
    if f2b.loss == "disc":
        caption_batch = True
    records = [ds.record(i) for i in idx]
    with torch.no_grad():  # the vision tower and projector are frozen
        visual, _ = model.image_tokens(ds.pixels(idx))
    ones = torch.ones(visual.shape[:2], dtype=torch.long)
    compressed = compress(model, f2b, visual, ones, prompt_ids, budget)  # [B, K', D]
    metrics: Dict[str, float] = {"budget": budget}
    total = torch.zeros(())
    if probe is not None:
        aux = probe(compressed, records)
        total = total + aux
        metrics["scene_aux"] = aux.item()
    turns = [[caption_turn(r, rng, f2b.probe_captions, f2b.probe_caption_weights)] if caption_batch else instruction_turns(r, rng) for r in records]
    if f2b.loss in ("ar", "both"):
        rows = [chat_row(tok, t) for t in turns]
        if not caption_batch:
            rows = [insert_unknowns(drop_words(r, rng, f2b.unk_rate, tok.unk_id, keep), rng, f2b.unk_insert_rate, tok.unk_id)
                    for r in rows]
        ids, text_mask, text_labels = pad_rows(rows, tok.pad_id)
        x, mask, labels = splice_batch(model, ids, text_mask, text_labels, compressed)
        logits, targets = answer_logits(model, x, mask, labels, f2b.generate_adapter())
        ar = F.cross_entropy(logits, targets)
        total = total + ar
        metrics["ar_caption" if caption_batch else "ar_qa"] = ar.item()
        if f2b.distill_weight > 0 and not caption_batch:
            with torch.no_grad():  # the teacher: the frozen base reading all visual tokens, the same (perturbed) question
                teacher, _ = answer_logits(model, *splice_batch(model, ids, text_mask, text_labels, visual), ADAPTER_BASE)
            kd = distill_loss(logits, teacher)
            total = total + f2b.distill_weight * kd
            metrics["distill"] = kd.item()
    if caption_batch and f2b.loss in ("disc", "both"):
        texts, hard, owners, categories = contrastive_texts(records, [t[0][1] for t in turns], rng, f2b)
        ids, mask = text_rows(tok, texts + hard)
        text = Glimpse.retrieval_embedding(compress(model, f2b, model.embed(ids), mask, prompt_ids, budget))
        n = len(texts)
        image = Glimpse.retrieval_embedding(compressed)
        disc = info_nce(model, image, text[:n], text[n:] if hard else None)
        total = total + (f2b.disc_weight if f2b.loss == "both" else 1.0) * disc
        metrics["disc"] = disc.item()
        own = torch.tensor(owners, dtype=torch.long)  # each hard negative's image
        if hard and f2b.hard_pair_weight > 0:
            pair = hard_pair_loss(model, image[own], text[own], text[n:])
            total = total + f2b.hard_pair_weight * pair
            metrics["hard_pair"] = pair.item()
        pushed = torch.tensor([h for h, c in enumerate(categories) if c not in f2b.text_pair_skip], dtype=torch.long)
        if len(pushed) and f2b.text_pair_weight > 0:
            apart = text_pair_loss(text[own[pushed]], text[n:][pushed], f2b.text_pair_margin)
            total = total + f2b.text_pair_weight * apart
            metrics["text_pair"] = apart.item()
    return total, metrics


def is_fwd2bot_parameter(name: str) -> bool:
    return "lora_" in name or name in ("summary", "logit_scale") or name.startswith("query_compressor.")


def trainable(model: Glimpse, stage: int, f2b: Optional[Fwd2BotConfig] = None) -> List[nn.Parameter]:
    """Stage 1 trains the whole base model; stage 2 the adapters, summary tokens and
    temperature (and the query compressor of single forward) — or, fine-tuning in full,
    every decoder weight instead of the adapters. The vision tower and projector stay frozen."""
    full = stage == 2 and f2b is not None and f2b.adapters == "full"
    for name, p in model.named_parameters():
        if stage == 1:
            p.requires_grad = not is_fwd2bot_parameter(name)
        elif full:
            p.requires_grad = (name.startswith("decoder.") and "lora_" not in name) or name in ("summary", "logit_scale")
        else:
            p.requires_grad = is_fwd2bot_parameter(name)
    return [p for p in model.parameters() if p.requires_grad]


# ----------------------------------------------------------------------------- schedule and checkpoints

def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def save_checkpoint(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # a kill mid-save never leaves a torn checkpoint


# ----------------------------------------------------------------------------- decoding

@torch.no_grad()
def greedy(model: Glimpse, x: torch.Tensor, mask: torch.Tensor, adapter: int, eos_id: int, max_new: int) -> List[List[int]]:
    """Batched greedy decoding with an explicit KV cache; x: [B, T, D] right-padded by mask [B, T]."""
    x, mask = left_align(x, mask)
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    adapter_t = torch.tensor(adapter)
    hidden, past = model.decoder(x, mask, pos, adapter_t, None)
    token = model.logits(hidden[:, -1]).argmax(-1)
    last = pos[:, -1]
    out: List[List[int]] = [[] for _ in range(x.shape[0])]
    done = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    for _ in range(max_new):
        for b in range(x.shape[0]):
            if not done[b]:
                out[b].append(int(token[b]))
        done |= token == eos_id
        if bool(done.all()):
            break
        mask = torch.cat([mask, torch.ones(x.shape[0], 1, dtype=torch.long, device=x.device)], 1)
        last = last + 1
        hidden, past = model.decoder(model.embed(token)[:, None], mask, last[:, None], adapter_t, past)
        token = model.logits(hidden[:, -1]).argmax(-1)
    return [[t for t in seq if t != eos_id] for seq in out]
