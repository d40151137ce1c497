"""Encodes and decodes with a Hugging Face tokenizer.json in pure Python (Debian has no
`tokenizers` package), the way @huggingface/tokenizers does in the engine, for the two
BPE kinds real LLaVA checkpoints ship:

  bpe-metaspace   Llama/Vicuna (LLaVA-1.5): normalizer Prepend("▁") + Replace(" ", "▁"),
                  no pre-tokenizer, BPE with byte fallback (<0xNN> tokens)
  bpe-byte-level  Qwen2 (LLaVA-OneVision): NFC, a regex Split, ByteLevel (bytes -> printable
                  characters), BPE over those characters

Added tokens (<image>, <|im_start|>, ...) are matched in the text first, longest first,
and the text between them is encoded piece by piece, as the Rust and JS libraries do.
The tests check the ids against @huggingface/tokenizers on many strings.
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# GPT-2/Qwen2 pre-tokenizer regexes use \p{L} and \p{N}, which Python's re lacks; these
# are the same patterns spelt with re's classes (letters = [^\W\d_], numbers = \d).
_LETTER, _NOT_LN = r"[^\W\d_]", r"(?:[^\w]|_)"
KNOWN_SPLITS = {
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+":
        rf"(?i:'s|'t|'re|'ve|'m|'ll|'d)|(?:[^\r\n\w]|_)?{_LETTER}+|\d| ?(?:[^\s\w]|_)+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+":
        rf"'s|'t|'re|'ve|'m|'ll|'d| ?{_LETTER}+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+",
}


class TokenizerError(Exception):
    pass


@lru_cache(maxsize=1)
def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible map from the 256 bytes to printable characters."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = list(printable), 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


class HFTokenizer:
    def __init__(self, spec: dict):
        self.spec = spec
        model = spec["model"]
        if model.get("type") not in ("BPE", "WordLevel"):
            raise TokenizerError(f"tokenizer.json model type {model.get('type')} is not supported (BPE or WordLevel)")
        self.model_type = model["type"]
        self.vocab: Dict[str, int] = dict(model["vocab"])
        merges = model.get("merges", [])
        self.ranks: Dict[Tuple[str, str], int] = {
            (tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m)): i for i, m in enumerate(merges)}
        self.byte_fallback = bool(model.get("byte_fallback"))
        self.unk = model.get("unk_token")
        self.added = {t["content"]: t["id"] for t in spec.get("added_tokens", [])}
        self.special_ids = {t["id"] for t in spec.get("added_tokens", []) if t.get("special")}
        self.inverse = {i: t for t, i in {**self.vocab, **self.added}.items()}
        self._added_re = re.compile("|".join(re.escape(t) for t in sorted(self.added, key=len, reverse=True))) if self.added else None
        self.byte_level = _has(spec.get("pre_tokenizer"), "ByteLevel")
        self.kind = "word-level" if self.model_type == "WordLevel" else ("bpe-byte-level" if self.byte_level else "bpe-metaspace")
        self._cache: Dict[str, List[int]] = {}

    @classmethod
    def load(cls, path: Path) -> "HFTokenizer":
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def __len__(self) -> int:
        return max(self.inverse) + 1

    def token_id(self, token: str) -> int:
        if token in self.added:
            return self.added[token]
        if token in self.vocab:
            return self.vocab[token]
        raise TokenizerError(f"token {token!r} is not in the tokenizer")

    # ------------------------------------------------------------------ encode

    def encode(self, text: str) -> List[int]:
        """Ids of `text` without special tokens around it (add_special_tokens=false)."""
        ids: List[int] = []
        pos = 0
        for m in (self._added_re.finditer(text) if self._added_re else ()):
            ids += self._encode_plain(text[pos:m.start()])
            ids.append(self.added[m.group()])
            pos = m.end()
        return ids + self._encode_plain(text[pos:])

    def _encode_plain(self, text: str) -> List[int]:
        if not text:
            return []
        text = _normalize(self.spec.get("normalizer"), text)
        ids: List[int] = []
        for piece in _pre_tokenize(self.spec.get("pre_tokenizer"), text):
            if piece not in self._cache:
                self._cache[piece] = self._word(piece)
            ids += self._cache[piece]
        return ids

    def _word(self, word: str) -> List[int]:
        if self.model_type == "WordLevel":
            return [self.vocab.get(word, self.vocab.get(self.unk, 0))]
        symbols = list(word)
        while len(symbols) > 1:
            best = min(((self.ranks.get(pair, 1 << 30), i) for i, pair in enumerate(zip(symbols, symbols[1:]))))
            if best[0] == 1 << 30:
                break
            i = best[1]
            symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
        ids: List[int] = []
        for s in symbols:
            if s in self.vocab:
                ids.append(self.vocab[s])
            elif self.byte_fallback and all(f"<0x{b:02X}>" in self.vocab for b in s.encode("utf-8")):
                ids += [self.vocab[f"<0x{b:02X}>"] for b in s.encode("utf-8")]
            elif self.unk is not None and self.unk in self.vocab:
                if not (self.spec["model"].get("fuse_unk") and ids and ids[-1] == self.vocab[self.unk]):
                    ids.append(self.vocab[self.unk])
            else:
                raise TokenizerError(f"cannot encode {s!r}: not in the vocabulary and no byte fallback or unk token")
        return ids

    # ------------------------------------------------------------------ decode

    def decode(self, ids: Sequence[int], skip_special: bool = True) -> str:
        tokens = [self.inverse.get(int(i), "") for i in ids if not (skip_special and int(i) in self.special_ids)]
        if self.byte_level:
            table = {c: b for b, c in bytes_to_unicode().items()}
            return bytes(table[c] for c in "".join(tokens) if c in table).decode("utf-8", errors="replace")
        if self.model_type == "WordLevel":
            return " ".join(tokens)
        raw = bytearray()
        for t in tokens:
            m = re.fullmatch(r"<0x([0-9A-Fa-f]{2})>", t)
            raw += bytes([int(m.group(1), 16)]) if m else t.replace("▁", " ").encode("utf-8")
        text = raw.decode("utf-8", errors="replace")
        return text[1:] if text.startswith(" ") else text  # the decoder's Strip(" ", 1, 0)


def _has(node: Optional[dict], kind: str) -> bool:
    if not node:
        return False
    if node.get("type") == kind:
        return True
    return any(_has(n, kind) for n in node.get("pretokenizers", []) + node.get("normalizers", []))


def _normalize(node: Optional[dict], text: str) -> str:
    if not node:
        return text
    kind = node["type"]
    if kind == "Sequence":
        for n in node["normalizers"]:
            text = _normalize(n, text)
        return text
    if kind == "Prepend":
        return node["prepend"] + text if text else text
    if kind == "Replace":
        pattern = node["pattern"]
        if "String" in pattern:
            return text.replace(pattern["String"], node["content"])
        return re.sub(pattern["Regex"], node["content"], text)
    if kind in ("NFC", "NFD", "NFKC", "NFKD"):
        return unicodedata.normalize(kind, text)
    if kind == "Lowercase":
        return text.lower()
    raise TokenizerError(f"tokenizer.json normalizer {kind} is not supported")


def _split_regex(pattern: dict) -> "re.Pattern":
    if "String" in pattern:
        return re.compile(re.escape(pattern["String"]))
    source = pattern["Regex"]
    source = KNOWN_SPLITS.get(source, source)
    if r"\p{" in source:
        raise TokenizerError(f"tokenizer.json Split regex uses \\p{{..}} classes this reader does not know: {source}")
    return re.compile(source)


def _pre_tokenize(node: Optional[dict], text: str) -> List[str]:
    if not node:
        return [text]
    kind = node["type"]
    if kind == "Sequence":
        pieces = [text]
        for n in node["pretokenizers"]:
            pieces = [q for p in pieces for q in _pre_tokenize(n, p)]
        return pieces
    if kind == "Split":
        if node.get("behavior") != "Isolated" or node.get("invert"):
            raise TokenizerError("tokenizer.json Split pre-tokenizer: only behavior Isolated without invert is supported")
        out, pos = [], 0
        for m in _split_regex(node["pattern"]).finditer(text):
            if m.start() > pos:
                out.append(text[pos:m.start()])
            if m.group():
                out.append(m.group())
            pos = m.end()
        return out + ([text[pos:]] if pos < len(text) else [])
    if kind == "ByteLevel":
        if node.get("use_regex", True):
            pieces = [p for p in _split_regex({"Regex": list(KNOWN_SPLITS)[1]}).findall(
                (" " + text) if node.get("add_prefix_space") and not text.startswith(" ") else text)]
        else:
            pieces = [text]
        table = bytes_to_unicode()
        return ["".join(table[b] for b in p.encode("utf-8")) for p in pieces]
    if kind == "Metaspace":
        rep = node.get("replacement", "▁")
        text = text.replace(" ", rep)
        if node.get("prepend_scheme", "always") != "never" and not text.startswith(rep):
            text = rep + text
        if node.get("split", True):
            return [p for p in re.split(f"(?={re.escape(rep)})", text) if p]
        return [text]
    if kind == "Whitespace":
        return re.findall(r"\w+|[^\w\s]+", text)
    raise TokenizerError(f"tokenizer.json pre-tokenizer {kind} is not supported")
