"""Reads the world's packed data sets and turns records into token rows.

A data set folder (see world/README.md) holds images.u8 (N x S x S x 3 uint8),
scenes.jsonl and manifest.json. Images are memory-mapped; records are parsed on use."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import torch

from tokenizer import Tokenizer, split_words

CAPTION_INSTRUCTIONS = ["Describe the image.", "Write a short caption for this photo.", "What does this picture show?"]
COMPRESS_PROMPT = "Summarize the image in a few words."
# E5-V zero-shot embedding prompts: the base model's retrieval baseline.
E5V_IMAGE_PROMPT = "Summary above image in one word:"
E5V_TEXT_PROMPT = "Summary above sentence in one word:"
# The instruction of a caption turn that says one true thing (a probe's sentence) instead of
# the whole scene: "Describe the image." keeps its full captions, and search's second stage
# scores a query under this one (pack.json prompts.partial_caption).
PART_INSTRUCTION = "Describe one part of the image."
PROMPTS = [COMPRESS_PROMPT, E5V_IMAGE_PROMPT, E5V_TEXT_PROMPT, *CAPTION_INSTRUCTIONS, PART_INSTRUCTION]
# Normalisation of pixels in [0, 1]; written to pack.json for the engine.
PIXEL_MEAN = (0.5, 0.5, 0.5)
PIXEL_STD = (0.25, 0.25, 0.25)


class DatasetError(Exception):
    pass


class WorldDataset:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        manifest_path = self.folder / "manifest.json"
        if not self.folder.is_dir():
            raise DatasetError(f"no data set at {self.folder}: the folder does not exist "
                               f"(create one with: npm run world -- dataset --split train --count N --out {self.folder})")
        if not manifest_path.is_file():
            raise DatasetError(f"no data set at {self.folder}: manifest.json is missing")
        try:
            self.manifest = json.loads(manifest_path.read_text())
            n, s, _, c = self.manifest["images"]["shape"]
        except (ValueError, KeyError, TypeError) as err:
            raise DatasetError(f"broken data set at {self.folder}: manifest.json is unreadable ({err})") from err
        if self.manifest.get("format") != "glimpse-world-dataset" or self.manifest.get("version") != 1:
            raise DatasetError(f"{self.folder} is not a version-1 glimpse-world-dataset")
        images = self.folder / self.manifest["images"]["file"]
        if not images.is_file() or images.stat().st_size != n * s * s * c:
            size = images.stat().st_size if images.is_file() else "missing"
            raise DatasetError(f"broken data set at {self.folder}: {images.name} is {size} bytes, expected {n * s * s * c}")
        self.images = np.memmap(images, dtype=np.uint8, mode="r", shape=(n, s, s, c))
        with open(self.folder / self.manifest["scenes"]["file"], "rb") as f:
            self.lines = f.read().splitlines()
        if len(self.lines) != n:
            raise DatasetError(f"broken data set at {self.folder}: {len(self.lines)} scene records for {n} images")
        self.size = s
        # The scene graph's class lists in the world's canonical order (world/vocab.ts).
        self.vocabulary = self.manifest.get("vocabulary")
        if not isinstance(self.vocabulary, dict) or not {"shapes", "colours", "sizes", "scenes"} <= set(self.vocabulary):
            raise DatasetError(f"{self.folder}'s manifest.json has no vocabulary (written by an older world): "
                               f"regenerate it: npm run world -- dataset --split SPLIT --count N --force --out {self.folder}")

    def __len__(self) -> int:
        return len(self.lines)

    def record(self, i: int) -> dict:
        return json.loads(self.lines[i])

    def probe_categories(self) -> Set[str]:
        """The categories of the records' compositional probes (swap-attribute, replace-relation, ...)."""
        return {p["category"] for line in self.lines for p in json.loads(line).get("probes") or []}

    def text_words(self) -> Set[str]:
        """Every word the data set's texts use (questions, answers, captions, searches and
        probes, held-out ones included where the split has them), lower-cased as the
        tokenizer reads them. A vocabulary built from the train split's words leaves a word
        only the test split uses outside it: the model reads it as <unk> and the app reports
        it, instead of feeding an embedding training never updated."""
        words: Set[str] = set()
        for line in self.lines:
            r = json.loads(line)
            texts = [c["text"] for c in r.get("captions") or []] + [s["text"] for s in r.get("searches") or []]
            texts += [t for q in r.get("questions") or [] for t in (q["question"], q["answer"])]
            texts += [t for p in r.get("probes") or [] for t in (p["positive"], p["negative"])]
            for text in texts:
                words.update(split_words(text))
        return words

    def pixels(self, indices: Sequence[int]) -> torch.Tensor:
        """[B, 3, S, S] float32, normalised."""
        x = torch.from_numpy(np.stack([self.images[i] for i in indices]).astype(np.float32) / 255.0)
        x = x.permute(0, 3, 1, 2)
        mean = torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(PIXEL_STD).view(1, 3, 1, 1)
        return (x - mean) / std


# <s> USER: <image>: the image placeholder is always the third token.
IMAGE_AT = 2


@dataclass
class Row:
    ids: List[int]
    labels: List[int]
    image_at: int


def chat_row(tok: Tokenizer, turns: Sequence[Tuple[str, str]]) -> Row:
    """LLaVA-1.5 template: <s> USER: <image> q1 ASSISTANT: a1 </s> USER: q2 ASSISTANT: a2 </s> ...
    Loss on the answers and their </s> only. With a single turn and an empty answer
    this is the generation prompt."""
    ids, labels = [tok.bos_id], [-100]
    image_at = -1
    for k, (question, answer) in enumerate(turns):
        ids.append(tok.user_id)
        labels.append(-100)
        if k == 0:
            image_at = len(ids)
            ids.append(tok.image_id)
            labels.append(-100)
        q = tok.encode(question) + [tok.assistant_id]
        ids += q
        labels += [-100] * len(q)
        if answer:
            a = tok.encode(answer) + [tok.eos_id]
            ids += a
            labels += a
    return Row(ids, labels, image_at)


def pad_rows(rows: Sequence[Row], pad_id: int, image_at: int = IMAGE_AT):
    """Right-padded ids, mask, labels [B, T]; every row's placeholder at column `image_at`."""
    t = max(len(r.ids) for r in rows)
    ids = torch.full((len(rows), t), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), t), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, : len(r.ids)] = torch.tensor(r.ids)
        labels[b, : len(r.labels)] = torch.tensor(r.labels)
        mask[b, : len(r.ids)] = 1
    assert all(r.image_at == image_at for r in rows), "the template puts <image> at one fixed column"
    return ids, mask, labels


def caption_target(record: dict, rng: random.Random) -> Tuple[str, str]:
    """One of the image's seen captions and the instruction it answers. Language 2's partial
    captions (`coverage: some`, a third of them) answer PART_INSTRUCTION, never "Describe the
    image.": taught as its answers they made a round-9 pack describe fewer objects (caption
    recall 0.90 -> 0.71). Search re-ranks by PART_INSTRUCTION (pack.json prompts.partial_caption),
    and people type partial descriptions, so the partial captions are kept under it."""
    seen = [c for c in record["captions"] if not c["heldOut"]]
    pick = rng.choice(seen)
    if pick.get("coverage", "all") == "all":
        return rng.choice(CAPTION_INSTRUCTIONS), pick["text"]
    return PART_INSTRUCTION, pick["text"]


def instruction_turns(record: dict, rng: random.Random, caption_prob: float = 0.5) -> List[Tuple[str, str]]:
    """Every question of the image in random order, and sometimes a caption turn."""
    turns = [(q["question"], q["answer"]) for q in record["questions"] if not q["heldOut"]]
    if rng.random() < caption_prob:
        turns.append(caption_target(record, rng))
    rng.shuffle(turns)
    return turns


def caption_turn(record: dict, rng: random.Random, probe_sentences: float = 0.0,
                 category_weights: Optional[Dict[str, float]] = None) -> Tuple[str, str]:
    """A caption instruction and a seen caption; with chance `probe_sentences` instead
    PART_INSTRUCTION and the true sentence of one of the image's probes (no rng drawn for it at 0).
    `category_weights` draws that probe by its category's weight (1 for a category not named;
    an image whose probes all weigh 0 keeps its caption)."""
    instruction, caption = caption_target(record, rng)
    probes = record.get("probes") or []
    if probe_sentences > 0 and probes and rng.random() < probe_sentences:
        if not category_weights:
            return PART_INSTRUCTION, rng.choice(probes)["positive"]
        weights = [category_weights.get(p["category"], 1.0) for p in probes]
        if sum(weights) > 0:
            return PART_INSTRUCTION, rng.choices(probes, weights=weights)[0]["positive"]
    return instruction, caption


def text_rows(tok: Tokenizer, texts: Sequence[str]):
    """Right-padded token rows of plain texts (captions or queries) for pass 1 on text."""
    encoded = [tok.encode(t) or [tok.unk_id] for t in texts]
    t = max(len(e) for e in encoded)
    ids = torch.full((len(texts), t), tok.pad_id, dtype=torch.long)
    mask = torch.zeros((len(texts), t), dtype=torch.long)
    for b, e in enumerate(encoded):
        ids[b, : len(e)] = torch.tensor(e)
        mask[b, : len(e)] = 1
    return ids, mask
