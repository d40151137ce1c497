"""Token rows of an imported checkpoint's chat template, built exactly as pack.json v2's
`chat` section tells the engine (docs/model-pack.md): pass 2 is
`[bos?] + enc(head) + VISUAL + enc(tail with the instruction)`, answers `enc(answer) + [eos]`,
later turns `enc(next_turn)`; pass 1 is `[bos if bos_in_compress] + PREFIX + enc(compress prompt) + SUMMARY`.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch

from data import Row, pad_rows
from hf_tokenizer import HFTokenizer


class ChatRows:
    def __init__(self, tok: HFTokenizer, chat: dict, special: dict, compress_prompt: str):
        self.tok, self.chat, self.special = tok, chat, special
        gen = chat["generation"]
        if gen.count("{image}") != 1 or gen.count("{instruction}") != 1 or gen.index("{image}") > gen.index("{instruction}"):
            raise ValueError("chat.generation needs one {image} before one {instruction}")
        self.head, self.tail = gen.split("{image}")
        bos = [special["bos"]] if chat["add_bos"] else []
        self.prefix = bos + tok.encode(self.head)
        self.image_at = len(self.prefix)
        self.compress_ids = tok.encode(compress_prompt)
        self.compress_head = [special["bos"]] if chat.get("bos_in_compress") else []
        self.stop_ids = list(chat["stop_ids"])

    def prompt(self, instruction: str) -> List[int]:
        """The generation prompt with the image placeholder id at `image_at`."""
        return self.prefix + [self.special["image"]] + self.tok.encode(self.tail.replace("{instruction}", instruction))

    def conversation(self, turns: Sequence[Tuple[str, str]]) -> Row:
        """Loss on the answers and their end token only."""
        ids = self.prompt(turns[0][0])
        labels = [-100] * len(ids)
        for k, (question, answer) in enumerate(turns):
            if k:
                q = self.tok.encode(self.chat["next_turn"].replace("{instruction}", question))
                ids, labels = ids + q, labels + [-100] * len(q)
            a = self.tok.encode(self.chat["answer"].replace("{answer}", answer)) + [self.special["eos"]]
            ids, labels = ids + a, labels + a
        return Row(ids, labels, self.image_at)

    def text_ids(self, text: str) -> List[int]:
        """A text as a pass-1 prefix; an empty text is the unknown (or padding) token."""
        fallback = self.special["unk"] if self.special["unk"] is not None else self.special["pad"]
        return self.tok.encode(text) or [fallback]

    def pad(self, rows: Sequence[Row], device: Optional[torch.device] = None):
        """Right-padded ids, mask, labels [B, T]."""
        return tuple(t.to(device) for t in pad_rows(rows, self.special["pad"], self.image_at))

    def texts(self, texts: Sequence[str], device: Optional[torch.device] = None):
        rows = [Row(self.text_ids(t), [], self.image_at) for t in texts]
        ids, mask, _ = self.pad(rows, device)
        return ids, mask
