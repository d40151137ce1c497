"""Training on the world's language 2: growing a trained vocabulary, word dropout, hard
negatives and search texts in the contrastive loss, and a stage-1 run that continues a
language-1 model on a language-2 data set."""
from __future__ import annotations

import json
import random
import subprocess

import pytest
import torch

from conftest import ROOT, TINY, train
from data import Row, chat_row
from fwd2bot import Fwd2BotConfig, contrastive_texts, drop_words, grow_vocabulary, info_nce
from model import Glimpse, ModelConfig
from tokenizer import PUNCTUATION, SPECIALS, Tokenizer, world_lexicon


@pytest.fixture(scope="module")
def v2_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("world2") / "train"
    subprocess.run(["npx", "tsx", "world/cli.ts", "dataset", "--split", "train", "--count", "40", "--size", "32",
                    "--seed", "5", "--language", "2", "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    return out


def test_extended_vocabulary_keeps_every_id_and_appends_sorted():
    old = Tokenizer.from_words(["red", "circle"])
    new = old.extended(["crimson", "red", "disc", "Azure"])
    assert all(new.vocab[w] == i for w, i in old.vocab.items())
    assert [w for w in new.vocab if w not in old.vocab] == ["azure", "crimson", "disc"]
    assert new.vocab["azure"] == len(old)


def test_grow_vocabulary_seeds_synonyms_from_their_canonical_word():
    old = Tokenizer.from_words(["red", "circle", "is"])
    new = old.extended(["crimson", "disc", "whether"])
    table = torch.randn(len(old), 8)
    state = {"decoder.embed.weight": table.clone(), "decoder.lm_head.weight": table.clone()}
    grow_vocabulary(state, old, new, {"crimson": "red", "disc": "circle"})
    for key in state:
        grown = state[key]
        assert grown.shape == (len(new), 8)
        assert torch.equal(grown[: len(old)], table)
        assert torch.equal(grown[new.vocab["crimson"]], table[old.vocab["red"]])
        assert torch.equal(grown[new.vocab["disc"]], table[old.vocab["circle"]])
        assert not torch.equal(grown[new.vocab["whether"]], table[old.vocab["red"]])
    assert torch.equal(state["decoder.embed.weight"], state["decoder.lm_head.weight"]), "a tied head grows as the embeddings"
    with pytest.raises(ValueError, match="keep every old word"):
        grow_vocabulary(dict(state), new, Tokenizer.from_words(["blue"]), {})


def test_word_dropout_hides_only_question_glue_words():
    tok = Tokenizer.from_words(["what", "colour", "is", "the", "star", "blue"])
    row = chat_row(tok, [("what colour is the star ?", "blue")])
    keep = {tok.vocab[w] for w in ("colour", "star", "blue")} | {tok.vocab[t] for t in SPECIALS + PUNCTUATION}
    dropped = drop_words(row, random.Random(0), 1.0, tok.unk_id, keep)
    words = [tok.inverse[i] for i in dropped.ids]
    assert words.count("<unk>") == 3  # what, is, the
    assert "star" in words and "colour" in words
    assert dropped.labels == row.labels
    answer = [i for i, label in zip(dropped.ids, dropped.labels) if label != -100]
    assert answer == [tok.vocab["blue"], tok.eos_id]
    assert drop_words(row, random.Random(0), 0.0, tok.unk_id, keep) is row


def test_contrastive_texts_use_probes_and_searches_only_when_asked():
    records = [{"probes": [{"positive": "a red star.", "negative": "a blue star."}],
                "searches": [{"text": "red star", "heldOut": False}, {"text": "held", "heldOut": True}]}] * 3
    rng = random.Random(1)
    state = rng.getstate()
    texts, hard = contrastive_texts(records, ["c0", "c1", "c2"], rng, Fwd2BotConfig())
    assert (texts, hard) == (["c0", "c1", "c2"], []) and rng.getstate() == state  # old runs replay
    texts, hard = contrastive_texts(records, ["c0", "c1", "c2"], rng, Fwd2BotConfig(hard_negatives=1.0))
    assert texts == ["a red star."] * 3 and hard == ["a blue star."] * 3
    texts, hard = contrastive_texts(records, ["c0", "c1", "c2"], rng, Fwd2BotConfig(search_texts=1.0))
    assert texts == ["red star"] * 3 and hard == []
    with pytest.raises(ValueError, match="hard_negatives"):
        Fwd2BotConfig(hard_negatives=1.5)


def test_hard_negatives_raise_the_loss_when_they_look_like_the_match():
    model = Glimpse(ModelConfig(vocab_size=20, **TINY))
    a = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    b = torch.nn.functional.normalize(a + 0.3 * torch.randn(4, 16), dim=-1)
    plain = info_nce(model, a, b)
    near = info_nce(model, a, b, torch.nn.functional.normalize(a + 0.01 * torch.randn(4, 16), dim=-1))
    assert near > plain


def test_stage1_continues_a_language1_model_on_language2(tiny_runs, v2_data, tmp_path):
    base, donor = tiny_runs
    run = tmp_path / "base-v2"
    common = ["--data", str(v2_data), "--batch", "4", "--warmup", "1", "--log-every", "1"]
    train(["--stage", "1", "--run", str(run), "--steps", "2", "--init", str(base / "final.pt"),
           "--init-tokenizer", str(base / "tokenizer.json"), "--unk-rate", "0.05", "--model", json.dumps(TINY), *common])
    old, new = Tokenizer.load(base / "tokenizer.json"), Tokenizer.load(run / "tokenizer.json")
    assert all(new.vocab[w] == i for w, i in old.vocab.items()) and len(new) > len(old)
    words, synonyms = world_lexicon()
    assert "crimson" in new.vocab and synonyms["crimson"] == "red" and "crimson" in words
    final = torch.load(run / "final.pt", map_location="cpu")
    assert final["config"]["vocab_size"] == len(new)
    stage2 = tmp_path / "f2b-v2"
    train(["--stage", "2", "--run", str(stage2), "--base", str(run), "--steps", "2", *common,
           "--init-adapters", str(donor / "final.pt"),
           "--fwd2bot", json.dumps({"hard_negatives": 0.5, "search_texts": 0.5, "unk_rate": 0.05})])
    assert "ckpt.pt" in [p.name for p in stage2.iterdir()]
    wrong = train(["--stage", "2", "--run", str(tmp_path / "wrong"), "--base", str(run), "--steps", "1", *common,
                   "--init-adapters", str(donor / "final.pt"), "--model", json.dumps({"lora_rank": 8})], check=False)
    assert wrong.returncode != 0 and "other adapters" in wrong.stderr
    log = [json.loads(line) for line in (stage2 / "log.jsonl").read_text().splitlines()]
    assert any("disc" in entry for entry in log)
