"""Training on the world's language 2: growing a trained vocabulary, word dropout, hard
negatives and search texts in the contrastive loss, and a stage-1 run that continues a
language-1 model on a language-2 data set."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, TINY, train
from data import CAPTION_INSTRUCTIONS, PART_INSTRUCTION, Row, caption_turn, chat_row, instruction_turns
from data import PROMPTS, WorldDataset
from fwd2bot import (Fwd2BotConfig, contrastive_texts, drop_words, hard_pair_loss, info_nce, insert_unknowns,
                     remap_vocabulary, text_pair_loss)
from model import Glimpse, ModelConfig
from tokenizer import PUNCTUATION, SPECIALS, Tokenizer, split_words, world_lexicon


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


def test_remap_vocabulary_grows_with_synonym_seeds_and_keeps_trained_rows():
    old = Tokenizer.from_words(["red", "circle", "is"])
    new = old.extended(["crimson", "disc", "whether"])
    table = torch.randn(len(old), 8)
    state = {"decoder.embed.weight": table.clone(), "decoder.lm_head.weight": table.clone()}
    remap_vocabulary(state, old, new, {"crimson": "red", "disc": "circle"})
    for key in state:
        grown = state[key]
        assert grown.shape == (len(new), 8)
        assert torch.equal(grown[: len(old)], table)
        assert torch.equal(grown[new.vocab["crimson"]], table[old.vocab["red"]])
        assert torch.equal(grown[new.vocab["disc"]], table[old.vocab["circle"]])
        assert not torch.equal(grown[new.vocab["whether"]], table[old.vocab["red"]])
    assert torch.equal(state["decoder.embed.weight"], state["decoder.lm_head.weight"]), "a tied head grows as the embeddings"


def test_restricting_to_the_training_words_drops_the_rest_and_moves_rows_by_word():
    old = Tokenizer.from_words(["red", "circle", "is", "whether", "landscape"])
    new = old.restricted({"red", "circle", "is"})
    assert set(new.vocab) == set(SPECIALS) | set(PUNCTUATION) | {"red", "circle", "is"}
    assert sorted(new.vocab.values()) == list(range(len(new)))  # ids stay dense
    assert [w for w in sorted(new.vocab, key=new.vocab.get)] == [w for w in sorted(old.vocab, key=old.vocab.get) if w in new.vocab]
    assert new.encode("whether red") == [new.unk_id, new.vocab["red"]]
    table = torch.randn(len(old), 8)
    state = {"decoder.embed.weight": table.clone()}
    remap_vocabulary(state, old, new, {})
    assert state["decoder.embed.weight"].shape == (len(new), 8)
    for word, i in new.vocab.items():
        assert torch.equal(state["decoder.embed.weight"][i], table[old.vocab[word]]), word


def test_text_words_are_every_word_of_the_records_texts(v2_data):
    ds = WorldDataset(v2_data)
    words = ds.text_words()
    records = [ds.record(i) for i in range(len(ds))]
    for r in records:
        texts = [q["question"] for q in r["questions"]] + [q["answer"] for q in r["questions"]]
        texts += [c["text"] for c in r["captions"]] + [x["text"] for x in r["searches"]]
        texts += [p["negative"] for p in r["probes"]]
        assert set(w for t in texts for w in split_words(t)) <= words
    assert "whether" not in words and "landscape" not in words  # only the test split's held-out templates use them


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


def test_inserted_unknowns_go_only_between_question_words():
    tok = Tokenizer.from_words(["what", "colour", "is", "the", "star", "blue", "red"])
    row = chat_row(tok, [("what colour is the star ?", "blue"), ("what colour is the star ?", "red")])
    grown = insert_unknowns(row, random.Random(0), 1.0, tok.unk_id)
    words = [tok.inverse[i] for i in grown.ids]
    # every question token of both turns gets one before it, the closing ASSISTANT: too; nothing
    # before <image>, after an answer's </s> (before USER:) or inside an answer
    turn = ["<unk>", "what", "<unk>", "colour", "<unk>", "is", "<unk>", "the", "<unk>", "star", "<unk>", "?", "<unk>"]
    assert words[: row.image_at + 1] == [tok.inverse[i] for i in row.ids[: row.image_at + 1]]
    assert words.count("<unk>") == 2 * turn.count("<unk>")
    assert grown.image_at == row.image_at and len(grown.ids) == len(grown.labels)
    assert [i for i, label in zip(grown.ids, grown.labels) if label != -100] == [i for i in row.labels if i != -100]
    assert [w for w in words if w != "<unk>"] == [tok.inverse[i] for i in row.ids]
    first = words[row.image_at + 1:]
    assert first[: len(turn)] == turn and first[len(turn)] == tok.inverse[tok.assistant_id]
    assert insert_unknowns(row, random.Random(0), 0.0, tok.unk_id) is row
    with pytest.raises(ValueError, match="unk_insert_rate"):
        Fwd2BotConfig(unk_insert_rate=1.5)


def test_contrastive_texts_use_probes_and_searches_only_when_asked():
    records = [{"probes": [{"category": "replace-attribute", "positive": "a red star.", "negative": "a blue star."}],
                "searches": [{"text": "red star", "heldOut": False}, {"text": "held", "heldOut": True}]}] * 3
    rng = random.Random(1)
    state = rng.getstate()
    texts, hard, owners, categories = contrastive_texts(records, ["c0", "c1", "c2"], rng, Fwd2BotConfig())
    assert (texts, hard, owners, categories) == (["c0", "c1", "c2"], [], [], []) and rng.getstate() == state  # old runs replay
    texts, hard, owners, categories = contrastive_texts(records, ["c0", "c1", "c2"], rng, Fwd2BotConfig(hard_negatives=1.0))
    assert texts == ["a red star."] * 3 and hard == ["a blue star."] * 3 and owners == [0, 1, 2]
    assert categories == [records[0]["probes"][0]["category"]] * 3
    texts, hard, owners, categories = contrastive_texts(records, ["c0", "c1", "c2"], rng, Fwd2BotConfig(search_texts=1.0))
    assert texts == ["red star"] * 3 and hard == [] and owners == []
    with pytest.raises(ValueError, match="hard_negatives"):
        Fwd2BotConfig(hard_negatives=1.5)
    with pytest.raises(ValueError, match="hard_pair_weight"):
        Fwd2BotConfig(hard_pair_weight=-1)


def test_caption_turns_say_probe_sentences_only_when_asked():
    record = {"captions": [{"text": "a red star and a blue disc.", "heldOut": False}, {"text": "held", "heldOut": True}],
              "probes": [{"category": "replace-relation", "positive": "a red star above a blue disc.", "negative": "a red star below a blue disc."}]}
    rng, replay = random.Random(3), random.Random(3)
    replay.choice(record["captions"][:1])
    assert caption_turn(record, rng) == (replay.choice(CAPTION_INSTRUCTIONS), "a red star and a blue disc.")
    assert rng.getstate() == replay.getstate()  # off: no extra draw, old runs replay
    turns = {caption_turn(record, rng, 1.0) for _ in range(5)}
    assert turns == {(PART_INSTRUCTION, "a red star above a blue disc.")}  # the true sentence, never the negative,
    assert PART_INSTRUCTION not in CAPTION_INSTRUCTIONS                      # under its own instruction
    assert {caption_turn({**record, "probes": []}, rng, 1.0)[1] for _ in range(3)} == {"a red star and a blue disc."}
    with pytest.raises(ValueError, match="probe_captions"):
        Fwd2BotConfig(probe_captions=2)


def test_budget_weights_draw_budgets_by_weight_and_leave_old_runs_replaying():
    from fwd2bot import BUDGETS
    rng, replay = random.Random(7), random.Random(7)
    assert [Fwd2BotConfig().draw_budget(rng) for _ in range(50)] == [replay.choice(BUDGETS) for _ in range(50)]
    f2b = Fwd2BotConfig(budget_weights={"16": 4, "1": 0})  # 1 : 1 : 1 : 4 over 2, 4, 8, 16
    drawn = [f2b.draw_budget(rng) for _ in range(2000)]
    assert 1 not in drawn and set(drawn) == {2, 4, 8, 16}
    assert 0.52 < drawn.count(16) / len(drawn) < 0.62
    for bad in ({"32": 1}, {16: 1}, {"16": -1}, {"16": float("inf")}, {"16": True}, ["16"],
                {str(b): 0 for b in BUDGETS}):
        with pytest.raises(ValueError, match="budget_weights"):
            Fwd2BotConfig(budget_weights=bad)
    with pytest.raises(ValueError, match="budget_weights needs budgets"):
        Fwd2BotConfig(budgets="fixed", budget_weights={"16": 2})


def test_the_caption_instruction_is_answered_with_a_caption_of_every_object(v2_data):
    ds = WorldDataset(v2_data)
    rng = random.Random(0)
    records = [ds.record(i) for i in range(len(ds))]
    assert any(c.get("coverage") == "some" for r in records for c in r["captions"]), "no partial captions to pair"
    parts = []
    for r in records:
        seen = [c for c in r["captions"] if not c["heldOut"]]
        coverage = {c["text"]: c["coverage"] for c in seen}
        turns = [caption_turn(r, rng) for _ in range(4)]
        turns += [(q, a) for _ in range(4) for q, a in instruction_turns(r, rng, 1.0) if a in coverage]
        assert len(turns) >= 8
        for instruction, text in turns:
            assert text in coverage, text  # a seen caption, never a held-out one
            # a caption of every object answers a caption instruction; a partial one only PART_INSTRUCTION
            if coverage[text] == "all":
                assert instruction in CAPTION_INSTRUCTIONS, (instruction, text)
            else:
                assert instruction == PART_INSTRUCTION, (instruction, text)
            parts.append(instruction == PART_INSTRUCTION)
    # both kinds are taught: partial descriptions are what people type and what search re-ranks by
    assert sum(parts) > 0.1 * len(parts)
    assert len(parts) - sum(parts) > 0.4 * len(parts)


def test_probe_caption_weights_draw_sentences_by_category():
    probes = [{"category": "replace-relation", "positive": "a red star above a blue disc.", "negative": "-"},
              {"category": "add-object", "positive": "a red star.", "negative": "-"},
              {"category": "swap-attribute", "positive": "a red star and a blue disc.", "negative": "-"}]
    record = {"captions": [{"text": "caption", "heldOut": False}], "probes": probes}
    rng = random.Random(5)
    drawn = [caption_turn(record, rng, 1.0, {"replace-relation": 8, "add-object": 0})[1] for _ in range(900)]
    # relation : unnamed (weight 1) : add-object = 8 : 1 : 0
    assert drawn.count("a red star.") == 0
    assert 0.84 < drawn.count(probes[0]["positive"]) / len(drawn) < 0.93
    # an image whose probes all weigh 0 keeps its caption
    assert caption_turn({**record, "probes": probes[1:2]}, rng, 1.0, {"add-object": 0})[1] == "caption"
    for bad in ({"replace-relation": -1}, {"replace-relation": float("nan")}, ["replace-relation"], {"replace-relation": True}):
        with pytest.raises(ValueError, match="probe_caption_weights"):
            Fwd2BotConfig(probe_caption_weights=bad)


def test_hard_negatives_raise_the_loss_when_they_look_like_the_match():
    model = Glimpse(ModelConfig(vocab_size=20, **TINY))
    a = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    b = torch.nn.functional.normalize(a + 0.3 * torch.randn(4, 16), dim=-1)
    plain = info_nce(model, a, b)
    near = info_nce(model, a, b, torch.nn.functional.normalize(a + 0.01 * torch.randn(4, 16), dim=-1))
    assert near > plain


def test_hard_pair_loss_is_low_only_when_the_image_is_nearer_its_true_caption():
    model = Glimpse(ModelConfig(vocab_size=20, **TINY))
    a = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    far = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    assert hard_pair_loss(model, a, a, far) < hard_pair_loss(model, a, far, a)
    assert abs(hard_pair_loss(model, a, far, far).item() - 0.6931) < 1e-3  # a tie is chance


def test_text_pair_loss_costs_only_pairs_embedded_nearer_than_the_margin():
    caption = torch.nn.functional.normalize(torch.randn(6, 16), dim=-1)
    twin = torch.nn.functional.normalize(caption + 0.01 * torch.randn(6, 16), dim=-1)  # a swap embedded alike
    apart = torch.nn.functional.normalize(torch.randn(6, 16), dim=-1)
    assert text_pair_loss(caption, twin, 0.8) > 0.15
    assert text_pair_loss(caption, apart, 0.8) < text_pair_loss(caption, twin, 0.8)
    assert text_pair_loss(caption, -caption, 0.8).item() == 0.0
    twin.requires_grad_(True)
    text_pair_loss(caption, twin, 0.8).backward()
    assert (twin.grad * caption).sum() > 0  # descending the gradient turns the twin away from its caption
    with pytest.raises(ValueError, match="text_pair_weight"):
        Fwd2BotConfig(text_pair_weight=float("nan"))
    with pytest.raises(ValueError, match="text_pair_margin"):
        Fwd2BotConfig(text_pair_margin=2)
    with pytest.raises(ValueError, match="text_pair_skip"):
        Fwd2BotConfig(text_pair_skip="replace-relation")


def test_stage1_continues_a_language1_model_on_language2(tiny_runs, v2_data, tmp_path):
    base, donor = tiny_runs
    run = tmp_path / "base-v2"
    common = ["--data", str(v2_data), "--batch", "4", "--warmup", "1", "--log-every", "1"]
    train(["--stage", "1", "--run", str(run), "--steps", "2", "--init", str(base / "final.pt"),
           "--init-tokenizer", str(base / "tokenizer.json"), "--unk-rate", "0.05", "--unk-insert-rate", "0.05", "--model", json.dumps(TINY), *common])
    bad = train(["--stage", "1", "--run", str(tmp_path / "bad"), "--steps", "1", "--unk-insert-rate", "2", *common], check=False)
    assert bad.returncode != 0 and "--unk-insert-rate must be a probability" in bad.stderr
    bad = train(["--stage", "1", "--run", str(tmp_path / "bad"), "--steps", "1", "--unk-rate", "-0.1", *common], check=False)
    assert bad.returncode != 0 and "--unk-rate must be a probability" in bad.stderr
    assert not (tmp_path / "bad").exists(), "a refused run writes nothing"
    old, new = Tokenizer.load(base / "tokenizer.json"), Tokenizer.load(run / "tokenizer.json")
    used = WorldDataset(v2_data).text_words() | {w for p in PROMPTS for w in split_words(p)}
    assert set(new.vocab) - set(SPECIALS) - set(PUNCTUATION) <= used, "only words the training data uses"
    assert "would" in old.vocab and "would" not in new.vocab  # a language-1 held-out word
    words, synonyms = world_lexicon()
    assert "crimson" in new.vocab and synonyms["crimson"] == "red" and "crimson" in words
    final = torch.load(run / "final.pt", map_location="cpu")
    assert final["config"]["vocab_size"] == len(new)
    # Going on from that run without --init-tokenizer reads the tokenizer beside --init: the ids agree.
    again = tmp_path / "base-v2-more"
    train(["--stage", "1", "--run", str(again), "--steps", "1", "--init", str(run / "final.pt"), "--model", json.dumps(TINY), *common])
    assert Tokenizer.load(again / "tokenizer.json").vocab == new.vocab

    stage2 = tmp_path / "f2b-v2"
    train(["--stage", "2", "--run", str(stage2), "--base", str(run), "--steps", "2", *common,
           "--init-adapters", str(donor / "final.pt"),
           "--fwd2bot", json.dumps({"hard_negatives": 0.5, "search_texts": 0.5, "unk_rate": 0.05, "hard_pair_weight": 0.5,
                                   "text_pair_weight": 1.0, "text_pair_margin": 0.0, "text_pair_skip": ["replace-relation"],
                                   "probe_captions": 0.5, "probe_caption_weights": {"replace-relation": 4},
                                   "unk_insert_rate": 0.1, "budget_weights": {"16": 3, "1": 0}})])
    assert "ckpt.pt" in [p.name for p in stage2.iterdir()]
    wrong = train(["--stage", "2", "--run", str(tmp_path / "wrong"), "--base", str(run), "--steps", "1", *common,
                   "--init-adapters", str(donor / "final.pt"), "--model", json.dumps({"lora_rank": 8})], check=False)
    assert wrong.returncode != 0 and "other adapters" in wrong.stderr
    misspelt = train(["--stage", "2", "--run", str(tmp_path / "misspelt"), "--base", str(run), "--steps", "1", *common,
                      "--fwd2bot", json.dumps({"text_pair_weight": 1.0, "text_pair_skip": ["replace-relashun"]})], check=False)
    assert misspelt.returncode != 0 and "text_pair_skip names replace-relashun, which the data set's probes do not have" in misspelt.stderr
    misweighed = train(["--stage", "2", "--run", str(tmp_path / "misweighed"), "--base", str(run), "--steps", "1", *common,
                        "--fwd2bot", json.dumps({"probe_captions": 0.5, "probe_caption_weights": {"relashun": 4}})], check=False)
    assert misweighed.returncode != 0 and "probe_caption_weights names relashun" in misweighed.stderr
    log = [json.loads(line) for line in (stage2 / "log.jsonl").read_text().splitlines()]
    assert any("disc" in entry for entry in log)
    assert any("hard_pair" in entry for entry in log)
    assert any("text_pair" in entry for entry in log)

    # The pair diagnostic reads a stage-2 ckpt.pt: every probe of the images counted in its category.
    out = subprocess.run([sys.executable, "training/probe_pairs.py", "--ckpt", str(stage2 / "ckpt.pt"), "--data", str(v2_data),
                          "--images", "10", "--json"], cwd=ROOT, check=True, capture_output=True, text=True)
    stats = json.loads(out.stdout)
    ds = WorldDataset(v2_data)
    expected = {}
    for i in range(10):
        for probe in ds.record(i)["probes"]:
            expected[probe["category"]] = expected.get(probe["category"], 0) + 1
    assert {c: s["pairs"] for c, s in stats.items()} == expected
    assert all(0 <= s["accuracy"] <= 1 and -1.001 <= s["textCosine"] <= 1.001 for s in stats.values())
    base_ckpt = subprocess.run([sys.executable, "training/probe_pairs.py", "--ckpt", str(run / "final.pt"), "--data", str(v2_data)],
                               cwd=ROOT, capture_output=True, text=True)
    assert base_ckpt.returncode != 0 and "not a stage-2 checkpoint" in base_ckpt.stderr


def test_by_template_answers_every_held_out_question_of_a_stage1_and_a_stage2_run(tiny_runs, tmp_path):
    import by_template
    data = tmp_path / "test2"
    subprocess.run(["npx", "tsx", "world/cli.ts", "dataset", "--split", "test", "--count", "6", "--size", "32",
                    "--seed", "5", "--language", "2", "--out", str(data)], cwd=ROOT, check=True, capture_output=True)
    ds = WorldDataset(data)
    wanted = [(i, q["template"]) for i in range(len(ds)) for q in ds.record(i)["questions"] if q["wording"] == "new-template"]
    assert wanted and all(t.startswith("q2h-") for _, t in wanted)
    for run in tiny_runs:
        out = tmp_path / f"{run.name}.json"
        by_template.main(["--ckpt", str(run / "final.pt"), "--data", str(data), "--images", "6", "--budget", "2", "--out", str(out)])
        answers = json.loads(out.read_text())
        assert [(a["image"], a["template"]) for a in answers] == wanted
        assert all(isinstance(a["got"], str) for a in answers)
    assert by_template.normalised(" Yes.") == by_template.normalised("yes")
