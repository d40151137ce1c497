"""Each ablation switch trains for a few steps and changes what it claims to change
(issue #18): single forward never runs pass 1, full fine-tuning moves the base weights,
the single adapter serves both passes, bidirectional pass 1 changes its outputs, the
loss switches pick the losses, the training-free reducers return K tokens, and the
mask leaves out exactly the masked compressed tokens."""
import json
import random

import pytest
import torch

from ablations import lora_norms
from baselines import REDUCERS, cls_attention
from conftest import TINY, tiny_model, train
from data import COMPRESS_PROMPT, WorldDataset
from evaluate import Reader
from export import export_pack
from fwd2bot import Fwd2BotConfig, attach_single_forward, compress, stage2_step, trainable
from model import ADAPTER_BASE, ADAPTER_COMPRESS
from test_model import record_adapters


def step(model, ds, tok, f2b, step_no=1):
    return stage2_step(model, ds, tok, [0, 1, 2, 3], random.Random(0), step_no, f2b, torch.tensor(tok.encode(COMPRESS_PROMPT)))


def stage2(tiny_runs, tiny_data, tmp_path, switches: dict, steps: int = 3):
    base, _ = tiny_runs
    run = tmp_path / "run"
    train(["--stage", "2", "--data", str(tiny_data), "--base", str(base), "--run", str(run), "--steps", str(steps),
           "--batch", "4", "--warmup", "1", "--fwd2bot", json.dumps(switches)])
    return torch.load(base / "final.pt", map_location="cpu")["model"], torch.load(run / "final.pt", map_location="cpu")


def test_single_forward_never_runs_pass_1(tiny_data, tok):
    m = attach_single_forward(tiny_model(tok))
    f2b = Fwd2BotConfig(forward="single")
    trainable(m, 2, f2b)
    log, _ = record_adapters(m)
    ds = WorldDataset(tiny_data)
    for step_no in (0, 1):  # an instruction batch, a caption-pair batch (text through the compressor too)
        loss, metrics = step(m, ds, tok, f2b, step_no)
        loss.backward()
    assert all(not in_pass1 for _, in_pass1 in log), "Glimpse.compress (pass 1) ran"
    assert len(log) == 2 and "disc" in metrics
    qc = m.query_compressor
    # (the MLP's first layer gets its gradient once the zero-initialised last layer has moved)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in (qc.queries, qc.q.weight, qc.k.weight, qc.o.weight, qc.mlp[2].weight))


def test_single_forward_trains_and_saves_its_compressor(tiny_runs, tiny_data, tmp_path):
    _, final = stage2(tiny_runs, tiny_data, tmp_path, {"forward": "single"})
    queries = final["model"]["query_compressor.queries"]
    assert queries.shape == (16, TINY["dim"]) and final["fwd2bot"]["forward"] == "single"
    with pytest.raises(SystemExit, match="ablation run"):  # the engine could not run it
        export_pack(tmp_path / "run", tiny_data, tmp_path / "pack", 2, "x")
    assert not (tmp_path / "pack").exists()


def test_full_finetune_updates_the_base_weights_and_no_adapter(tiny_runs, tiny_data, tmp_path):
    before, final = stage2(tiny_runs, tiny_data, tmp_path, {"adapters": "full"})
    after = final["model"]
    assert final["config"]["lora_adapters"] == 1
    for name in ("decoder.blocks.0.attn.q.base.weight", "decoder.blocks.1.mlp.down.base.weight", "decoder.embed.weight"):
        assert not torch.equal(after[name], before[name]), f"{name} did not train"
    assert torch.equal(after["vision.patch.weight"], before["vision.patch.weight"]), "the vision tower stays frozen"
    assert all(after[n].abs().sum() == 0 for n in after if n.endswith("lora_b")), "an adapter trained"


def test_full_finetune_runs_both_passes_on_the_base_weights(tiny_data, tok):
    m = tiny_model(tok)
    f2b = Fwd2BotConfig(adapters="full")
    params = trainable(m, 2, f2b)
    _, seen = record_adapters(m)
    step(m, WorldDataset(tiny_data), tok, f2b)
    assert seen == {ADAPTER_BASE}
    assert not any(p is m.decoder.blocks[0].attn.q.lora_a for p in params)


def test_single_adapter_trains_one_slot_for_both_passes(tiny_runs, tiny_data, tmp_path):
    _, final = stage2(tiny_runs, tiny_data, tmp_path, {"adapters": "single"})
    assert final["config"]["lora_adapters"] == 1
    assert final["model"]["decoder.blocks.0.attn.q.lora_b"].shape[0] == 1
    assert final["model"]["decoder.blocks.0.attn.q.lora_b"].abs().sum() > 0
    assert Fwd2BotConfig(adapters="single").generate_adapter() == Fwd2BotConfig(adapters="single").compress_adapter() == ADAPTER_COMPRESS


def test_bidirectional_pass_1_changes_the_compressed_tokens(tiny_data, tok):
    m = tiny_model(tok).eval()
    visual, _ = m.image_tokens(WorldDataset(tiny_data).pixels([0, 1]))
    ones = torch.ones(visual.shape[:2], dtype=torch.long)
    prompt = torch.tensor(tok.encode(COMPRESS_PROMPT))
    causal = compress(m, Fwd2BotConfig(), visual, ones, prompt, 4)
    bidirectional = compress(m, Fwd2BotConfig(attention="bidirectional"), visual, ones, prompt, 4)
    assert causal.shape == bidirectional.shape == (2, 4, TINY["dim"])
    assert (causal - bidirectional).abs().max() > 1e-3


@pytest.mark.parametrize("loss, expected", [("ar", {"ar_caption"}), ("disc", {"disc"}), ("both", {"ar_caption", "disc"})])
def test_loss_switch_picks_the_losses(tiny_data, tok, loss, expected):
    m = tiny_model(tok)
    f2b = Fwd2BotConfig(loss=loss)
    trainable(m, 2, f2b)
    total, metrics = step(m, WorldDataset(tiny_data), tok, f2b)
    assert set(metrics) - {"budget"} == expected
    assert all(metrics[k] > 0 for k in expected)
    weight = {"ar": 0.0, "disc": 1.0, "both": f2b.disc_weight}[loss]
    assert total.item() == pytest.approx(metrics.get("ar_caption", 0.0) + weight * metrics.get("disc", 0.0), rel=1e-5)


def test_a_bad_switch_is_refused_with_a_clear_error(tiny_runs, tiny_data, tmp_path):
    out = train(["--stage", "2", "--data", str(tiny_data), "--base", str(tiny_runs[0]), "--run", str(tmp_path / "x"),
                 "--steps", "1", "--fwd2bot", json.dumps({"adapters": "many"})], check=False)
    assert out.returncode != 0 and "adapters must be one of stage, single, full, not 'many'" in out.stderr
    with pytest.raises(ValueError, match="disc_weight"):
        Fwd2BotConfig(disc_weight=-1)


@pytest.mark.parametrize("name", sorted(REDUCERS))
def test_training_free_reducers_return_k_tokens(tiny_data, tok, name):
    m = tiny_model(tok).eval()
    pixels = WorldDataset(tiny_data).pixels([0, 1, 2])
    with torch.no_grad():
        for k in (1, 4, 16):
            assert REDUCERS[name](m, pixels, k).shape == (3, k, TINY["dim"])
        if name != "pool":  # keeping every token changes nothing: each patch is its own cluster
            assert torch.allclose(REDUCERS[name](m, pixels, 16), m.image_tokens(pixels)[0], atol=1e-5)


def test_prumerge_merges_into_the_tokens_the_cls_attends_to_most(tiny_data, tok):
    m = tiny_model(tok).eval()
    pixels = WorldDataset(tiny_data).pixels([0])
    with torch.no_grad():
        patches, attention, _ = cls_attention(m, pixels)
        assert attention.shape == (1, 16) and 0 < attention.sum() <= 1 + 1e-5  # CLS also attends to itself
        assert torch.equal(patches, m.vision(pixels)[0]), "reading the attention leaves the tower's output alone"
        merged = REDUCERS["prumerge"](m, pixels, 1)
        # one kept token: everything merges into it, weighted by CLS attention
        expected = m.projector((attention[..., None] * patches).sum(1, keepdim=True) / attention.sum())
    assert torch.allclose(merged, expected, atol=1e-5)


def test_mask_leaves_out_exactly_the_masked_compressed_tokens(tiny_data, tok):
    m = tiny_model(tok).eval()
    pixels = WorldDataset(tiny_data).pixels([0, 1])
    f2b = Fwd2BotConfig()
    full = Reader(m, tok, f2b, 16).image_tokens(pixels)
    masked = Reader(m, tok, f2b, 16, drop=range(4, 8)).image_tokens(pixels)
    assert torch.equal(masked, torch.cat([full[:, :4], full[:, 8:]], 1))
    assert Reader(m, tok, f2b, 16, drop=range(8, 16)).image_tokens(pixels).shape == (2, 8, TINY["dim"])


def test_lora_norms_per_layer_and_matrix(tok):
    m = tiny_model(tok)
    with torch.no_grad():
        m.decoder.blocks[1].mlp.up.lora_b[1].fill_(0.1)  # only the generate adapter of one matrix
    norms = lora_norms(m)
    assert len(norms) == TINY["layers"] * 7
    assert norms["layer1.mlp.up"]["delta"][0] == 0 and norms["layer1.mlp.up"]["delta"][1] > 0
    assert all(v["delta"] == [0.0, 0.0] for k, v in norms.items() if k != "layer1.mlp.up")
