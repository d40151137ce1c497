"""The model and the two Fwd2Bot passes: shapes, adapter routing, gradients, KV cache."""
import random

import pytest
import torch

from conftest import tiny_model
from data import COMPRESS_PROMPT, WorldDataset
from model import ADAPTER_COMPRESS, ADAPTER_GENERATE, Glimpse, LoRALinear
from fwd2bot import Fwd2BotConfig, distill_loss, stage1_step, stage2_step, trainable
from probes import SceneProbe


def test_shapes_through_both_passes(tok):
    m = tiny_model(tok)
    pixels = torch.randn(3, 3, 32, 32)
    visual, cls = m.image_tokens(pixels)
    assert visual.shape == (3, 16, 32) and cls.shape == (3, 32)
    prompt = torch.tensor(tok.encode(COMPRESS_PROMPT))
    ones = torch.ones(3, 16, dtype=torch.long)
    for budget in (1, 2, 4, 8, 16):
        comp = m.compress(visual, ones, prompt, ADAPTER_COMPRESS, budget)
        assert comp.shape == (3, budget, 32)
        assert Glimpse.retrieval_embedding(comp).norm(dim=-1).allclose(torch.ones(3))
    # a budget is a prefix: the first k of the K compressed tokens do not depend on K
    full = m.compress(visual, ones, prompt, ADAPTER_COMPRESS, 16)
    assert torch.allclose(m.compress(visual, ones, prompt, ADAPTER_COMPRESS, 4), full[:, :4], atol=1e-6)
    # pass 2 over compressed tokens plus text
    x = torch.cat([full, m.embed(torch.tensor([[5, 6, 7]] * 3))], 1)
    hidden = m.run(x, torch.ones(3, 19, dtype=torch.long), ADAPTER_GENERATE)
    assert m.logits(hidden).shape == (3, 19, len(tok))


def record_adapters(model: Glimpse):
    """Logs every pass: (adapter of Glimpse.run, whether inside compress, adapters seen by LoRA layers)."""
    log, inside, seen = [], [False], set()
    run, compress = model.run, model.compress

    def run_hook(x, mask, adapter, bidirectional=False):
        log.append((adapter, inside[0]))
        return run(x, mask, adapter, bidirectional)

    def compress_hook(*args, **kwargs):
        inside[0] = True
        try:
            return compress(*args, **kwargs)
        finally:
            inside[0] = False

    model.run, model.compress = run_hook, compress_hook
    for mod in model.modules():
        if isinstance(mod, LoRALinear):
            mod.register_forward_pre_hook(lambda _m, inputs: seen.add(int(inputs[1])))
    return log, seen


@pytest.mark.parametrize("step", [0, 1])  # an instruction batch and a caption-pair batch
def test_compress_adapter_only_in_pass1_and_generate_only_in_pass2(tiny_data, tok, step):
    ds = WorldDataset(tiny_data)
    m = tiny_model(tok)
    trainable(m, 2)
    log, seen = record_adapters(m)
    loss, metrics = stage2_step(m, ds, tok, [0, 1, 2, 3], random.Random(0), step, Fwd2BotConfig(),
                                torch.tensor(tok.encode(COMPRESS_PROMPT)))
    assert {a for a, in_pass1 in log if in_pass1} == {ADAPTER_COMPRESS}
    assert {a for a, in_pass1 in log if not in_pass1} == {ADAPTER_GENERATE}
    assert seen == {ADAPTER_COMPRESS, ADAPTER_GENERATE}
    expected = {"budget", "ar_caption", "disc"} if step == 1 else {"budget", "ar_qa"}
    assert set(metrics) == expected
    loss.backward()
    named = dict(m.named_parameters())
    for name, p in named.items():
        if "lora_" in name or name in ("summary", "logit_scale"):
            continue
        assert p.grad is None, f"frozen base parameter {name} got a gradient"
    assert named["summary"].grad.abs().sum() > 0
    b_grads = torch.stack([p.grad.abs().sum(dim=(1, 2)) for n, p in named.items() if n.endswith("lora_b")]).sum(0)
    assert b_grads[ADAPTER_COMPRESS - 1] > 0, "no gradient reached the compress adapter"
    assert b_grads[ADAPTER_GENERATE - 1] > 0, "no gradient reached the generate adapter"
    if step == 1:
        assert named["logit_scale"].grad is not None


def test_single_adapter_ablation_routes_both_passes_to_one_adapter(tiny_data, tok):
    m = tiny_model(tok, lora_adapters=1)
    trainable(m, 2)
    log, seen = record_adapters(m)
    stage2_step(m, WorldDataset(tiny_data), tok, [0, 1], random.Random(0), 1, Fwd2BotConfig(adapters="single"),
                torch.tensor(tok.encode(COMPRESS_PROMPT)))
    assert seen == {ADAPTER_COMPRESS}


def test_kv_cache_equals_full_recomputation(tok):
    m = tiny_model(tok).eval()
    x = torch.randn(2, 9, 32)
    mask = torch.ones(2, 9, dtype=torch.long)
    pos = torch.arange(9)[None].expand(2, -1)
    adapter = torch.tensor(ADAPTER_GENERATE)
    with torch.no_grad():
        full, _ = m.decoder(x, mask, pos, adapter)
        head, past = m.decoder(x[:, :6], mask[:, :6], pos[:, :6], adapter)
        tail, _ = m.decoder(x[:, 6:], mask, pos[:, 6:], adapter, past)
    assert torch.allclose(torch.cat([head, tail], 1), full, atol=1e-5)


def test_a_tiny_model_overfits_a_tiny_batch(tiny_data, tok):
    ds = WorldDataset(tiny_data)
    m = tiny_model(tok)
    params = trainable(m, 1)
    opt = torch.optim.AdamW(params, lr=3e-3)
    losses = []
    for step in range(80):
        loss, _ = stage1_step(m, ds, tok, [0, 1, 2, 3], random.Random(0), step)  # same batch, same turns
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], f"loss went from {losses[0]:.3f} to {losses[-1]:.3f}"


def test_disc_weight_scales_only_the_contrastive_loss(tiny_data, tok):
    ds, prompt = WorldDataset(tiny_data), torch.tensor(tok.encode(COMPRESS_PROMPT))
    for weight in (1.0, 0.1):
        m = tiny_model(tok)
        trainable(m, 2)
        loss, metrics = stage2_step(m, ds, tok, [0, 1, 2, 3], random.Random(0), 1, Fwd2BotConfig(disc_weight=weight), prompt)
        assert metrics["disc"] > 0.1
        assert loss.item() == pytest.approx(metrics["ar_caption"] + weight * metrics["disc"], rel=1e-5)


def test_scene_probe_reads_the_scene_graph_off_the_compressed_tokens(tiny_data, tok):
    ds, prompt = WorldDataset(tiny_data), torch.tensor(tok.encode(COMPRESS_PROMPT))
    m = tiny_model(tok)
    trainable(m, 2)
    probe = SceneProbe(m.cfg, ds.vocabulary)
    loss, metrics = stage2_step(m, ds, tok, [0, 1, 2, 3], random.Random(0), 0, Fwd2BotConfig(scene_probe=True), prompt, probe)
    assert loss.item() == pytest.approx(metrics["ar_qa"] + metrics["scene_aux"], rel=1e-5)
    loss.backward()
    assert m.summary.grad.abs().sum() > 0, "the probe's loss reaches pass 1"
    assert all(p.grad is not None for p in probe.parameters())


def test_distill_weight_adds_the_base_models_answers_on_question_turns_only(tiny_data, tok):
    ds, prompt = WorldDataset(tiny_data), torch.tensor(tok.encode(COMPRESS_PROMPT))
    m = tiny_model(tok)
    trainable(m, 2)
    f2b = Fwd2BotConfig(distill_weight=0.5)
    loss, metrics = stage2_step(m, ds, tok, [0, 1, 2, 3], random.Random(0), 0, f2b, prompt)
    assert metrics["distill"] > 0, "pass 2 reading K tokens answers unlike the base reading all of them"
    assert loss.item() == pytest.approx(metrics["ar_qa"] + 0.5 * metrics["distill"], rel=1e-5)
    loss.backward()
    assert m.summary.grad.abs().sum() > 0, "the loss reaches pass 1 through the compressed tokens"
    _, caption = stage2_step(m, ds, tok, [0, 1, 2, 3], random.Random(0), 1, f2b, prompt)
    assert "distill" not in caption, "caption turns have no teacher"
    with pytest.raises(ValueError, match="distill_weight"):
        Fwd2BotConfig(distill_weight=1.0, adapters="full")


def test_distill_loss_is_zero_only_when_the_answers_agree():
    teacher = torch.randn(6, 11)
    assert distill_loss(teacher.clone(), teacher).item() == pytest.approx(0.0, abs=1e-6)
    assert distill_loss(teacher + torch.randn(6, 11), teacher).item() > 0.01
