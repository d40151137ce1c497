"""Export: valid ONNX, a pack.json that lists every file with its sha256, and a
tokenizer that @huggingface/tokenizers reads exactly as the Python side does."""
import hashlib
import json
import subprocess

import onnx
import pytest

from conftest import ROOT
from tokenizer import Tokenizer

SENTENCES = [
    "A small red circle at the top left and a large blue sign showing 7 on a beach.",
    "What colour is the star?",
    "How many   circles are there?",
    "Two dogs on a beach at sunset",
    "COLOUR, Shape; and size!",
    "is there a green heart in the picture? yes",
    "",
]


@pytest.fixture(scope="module")
def pack(tiny_pack):
    return tiny_pack


def test_graphs_pass_the_onnx_checker(pack):
    for name in ("vision.onnx", "llm.onnx"):
        onnx.checker.check_model(onnx.load(str(pack / name)))
    llm = onnx.load(str(pack / "llm.onnx"))
    inputs = [i.name for i in llm.graph.input]
    assert inputs[:5] == ["inputs_embeds", "attention_mask", "position_ids", "adapter", "num_logits_to_keep"]
    assert "past_key_values.1.value" in inputs and "present.1.key" in [o.name for o in llm.graph.output]


def test_pack_json_lists_every_file_with_its_sha256(pack):
    meta = json.loads((pack / "pack.json").read_text())
    on_disk = {str(p.relative_to(pack)) for p in pack.rglob("*") if p.is_file()} - {"pack.json"}
    assert set(meta["files"]) == on_disk
    for name, info in meta["files"].items():
        data = (pack / name).read_bytes()
        assert info["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert info["bytes"] == len(data)
    assert meta["summary"]["budgets"] == [1, 2, 4, 8, 16]
    assert meta["adapters"] == {"base": 0, "compress": 1, "generate": 2}
    assert set(meta["evaluation"]["scores"]) == {"base", "fwd2bot-1", "fwd2bot-2", "fwd2bot-4", "fwd2bot-8", "fwd2bot-16"}
    fixtures = json.loads((pack / "parity" / "fixtures.json").read_text())
    assert {"image_tokens", "compressed", "text_embedding", "generations"} <= set(fixtures)


def test_tokenizer_round_trip_matches_the_typescript_tokenizer(pack):
    tok = Tokenizer.load(pack / "tokenizer.json")
    out = subprocess.run(["node", "scripts/tokenize.mjs", str(pack), json.dumps(SENTENCES)], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    assert json.loads(out.stdout) == [tok.encode(s) for s in SENTENCES]
    known = SENTENCES[0]
    assert tok.decode(tok.encode(known)) == known.lower()
    assert tok.unk_id in tok.encode(SENTENCES[3]), "words outside the world map to <unk>"
