"""A word-level tokenizer over the shapes world's closed vocabulary, written as a
Hugging Face `tokenizer.json` (WordLevel, Lowercase, Whitespace pre-tokenizer) so the
TypeScript engine loads it with @huggingface/tokenizers and both sides agree on ids."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Dict, List, Sequence, Set, Tuple

PAD, UNK, BOS, EOS, IMAGE, USER, ASSISTANT = "<pad>", "<unk>", "<s>", "</s>", "<image>", "USER:", "ASSISTANT:"
SPECIALS = [PAD, UNK, BOS, EOS, IMAGE, USER, ASSISTANT]
PUNCTUATION = [".", ",", "?", "!", ":", "'", "-"]
# The same split as the Whitespace pre-tokenizer of Hugging Face tokenizers.
_SPLIT = re.compile(r"\w+|[^\w\s]+")

ROOT = Path(__file__).resolve().parent.parent


def split_words(text: str) -> List[str]:
    """The tokenizer's pieces of `text`, lower-cased (the Whitespace pre-tokenizer's split)."""
    return _SPLIT.findall(text.lower())


def _world(*args: str):
    out = subprocess.run(["npx", "tsx", "world/cli.ts", *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def world_words(prompts: Sequence[str] = (), language: int = 1) -> List[str]:
    """Every word the world's language uses (from the TypeScript generator), plus the
    words of the model's own prompts (compression, caption instructions, E5-V)."""
    words = _world("vocab", "--language", str(language))
    return words + [w for p in prompts for w in split_words(p)]


def world_lexicon() -> Tuple[List[str], Dict[str, str]]:
    """Language 2's meaning words (never hidden by word dropout) and its synonyms onto
    their canonical words (a new word's embedding starts as its canonical word's)."""
    lexicon = _world("vocab", "--language", "2", "--lexicon")
    return lexicon["words"], lexicon["synonyms"]


class Tokenizer:
    def __init__(self, vocab: Dict[str, int]):
        self.vocab = vocab
        self.inverse = {i: w for w, i in vocab.items()}
        self.pad_id, self.unk_id, self.bos_id, self.eos_id = (vocab[t] for t in (PAD, UNK, BOS, EOS))
        self.image_id, self.user_id, self.assistant_id = (vocab[t] for t in (IMAGE, USER, ASSISTANT))

    @classmethod
    def from_words(cls, words: Sequence[str]) -> "Tokenizer":
        vocab: Dict[str, int] = {}
        for token in [*SPECIALS, *PUNCTUATION, *sorted(set(w.lower() for w in words))]:
            vocab.setdefault(token, len(vocab))
        return cls(vocab)

    def extended(self, words: Sequence[str]) -> "Tokenizer":
        """This vocabulary with the new words appended (sorted): every known word keeps its
        id, so a trained model grows its embedding table instead of starting over."""
        vocab = dict(self.vocab)
        for word in sorted(set(w.lower() for w in words) - set(vocab)):
            vocab[word] = len(vocab)
        return Tokenizer(vocab)

    def restricted(self, words: Set[str]) -> "Tokenizer":
        """This vocabulary without the words outside `words` (special tokens and punctuation
        always stay), the rest in their old order: ids shift, so the model's token tables are
        remapped by word (fwd2bot.remap_vocabulary)."""
        keep = [w for w in self.vocab if w in SPECIALS or w in PUNCTUATION or w in words]
        return Tokenizer({w: i for i, w in enumerate(sorted(keep, key=self.vocab.get))})

    @classmethod
    def load(cls, path: Path) -> "Tokenizer":
        data = json.loads(Path(path).read_text())
        return cls(dict(data["model"]["vocab"]))

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> List[int]:
        return [self.vocab.get(piece, self.unk_id) for piece in split_words(text)]

    def decode(self, ids: Sequence[int]) -> str:
        words = [self.inverse.get(int(i), UNK) for i in ids if int(i) not in (self.pad_id, self.bos_id, self.eos_id)]
        return re.sub(r" ([.,?!:])", r"\1", " ".join(words))

    def to_hf_json(self) -> dict:
        added = [{"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for t in SPECIALS]
        return {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "Lowercase"},
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": None,
            "decoder": None,
            "model": {"type": "WordLevel", "vocab": self.vocab, "unk_token": UNK},
        }

    def save(self, path: Path) -> None:
        """Writes tokenizer.json and, beside it, tokenizer_config.json: tokenizers.js reads
        the unknown/special tokens of a WordLevel model from the latter."""
        path = Path(path)
        path.write_text(json.dumps(self.to_hf_json(), indent=1, ensure_ascii=False) + "\n")
        config = {"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": UNK, "bos_token": BOS, "eos_token": EOS,
                  "pad_token": PAD, "model_max_length": 1024}
        (path.parent / "tokenizer_config.json").write_text(json.dumps(config, indent=1) + "\n")
