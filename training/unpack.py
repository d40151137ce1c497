"""Rebuild PyTorch checkpoints from a model pack, so training can go on from a shipped pack
when its run folders are gone (they live outside git).

  python3 training/unpack.py --pack models/shapes-tiny --out training/runs/from-pack [--data data/test-v2]

Writes OUT/base (the stage-1 model: the pack's adapter 0) and OUT/fwd2bot (base, adapters
and summary tokens), each a final.pt with tokenizer.json and run.json, usable as
`train.py --stage 1 --init OUT/base/final.pt`, `--stage 2 --base OUT/base` and
`--init-adapters OUT/fwd2bot/final.pt`.

How weights are found in the graphs: torch.onnx folds some of them (a transposed
MatMul weight, the adapter stack with the base's zero slot) into initializers with
generated names. A model of the same config whose every parameter element holds its own
index, exported with the same code, says which element of which parameter each
initializer value is; the pack's initializers are then read through that map. Any
value the map cannot explain (a weight scaled during folding, another graph) is an error.

Not in a pack, so not recovered: optimizer state, stage 1's vision probe heads, and
(for packs exported before pack.json recorded it) the InfoNCE temperature, which is then
fitted on --data as the one minimising the contrastive loss, i.e. where training's
gradient on it is zero.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export import export_graphs  # noqa: E402
from fwd2bot import Fwd2BotConfig, is_fwd2bot_parameter, save_checkpoint  # noqa: E402
from model import Glimpse, ModelConfig, count_parameters  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

ID_BASE = 1 << 22  # index codes start here, clear of the small constants (1, 0.5, ...) a graph holds
ID_LIMIT = 1 << 24  # float32 holds every integer below 2^24 exactly


class UnpackError(Exception):
    pass


def pack_config(pack: dict, vision: onnx.ModelProto, llm: onnx.ModelProto) -> Tuple[ModelConfig, Fwd2BotConfig]:
    """The model config: recorded whole by newer exports; for older packs, rebuilt from
    dims, the image size, summary tokens, the stage-2 run's model overrides and the
    graphs' depth and MLP widths (the vision tower's heads taken as the decoder's). Unpacking
    checks the graphs' nodes and every initializer shape against it."""
    f2b = Fwd2BotConfig(**pack["fwd2bot"])
    training = pack.get("training", {})
    if "config" in training:
        return ModelConfig(**training["config"]), f2b
    d = pack["dims"]
    grid = int(round(math.sqrt(d["vision_tokens"])))
    overrides = {}
    for run in training.get("stage2", [])[-1:]:
        overrides = json.loads(run.get("model") or "{}")
    shapes = {t.name: list(t.dims) for t in vision.graph.initializer}
    vision_layers = len({n.split(".")[3] for n in shapes if n.startswith("model.vision.blocks.")})
    vision_mlp = shapes.get("model.vision.blocks.0.mlp.0.bias", [4 * d["vision_dim"]])[0]
    mlp = [list(t.dims) for t in llm.graph.initializer if len(t.dims) == 2 and d["hidden"] in t.dims
           and t.dims[0] != t.dims[1] and d["vocab_size"] not in t.dims]
    cfg = ModelConfig(image_size=pack["image"]["size"], patch_size=pack["image"]["size"] // grid,
                      vision_dim=d["vision_dim"], vision_layers=vision_layers, vision_heads=d["heads"],
                      vision_mlp_hidden=0 if vision_mlp == 4 * d["vision_dim"] else vision_mlp,
                      vocab_size=d["vocab_size"], dim=d["hidden"], layers=d["layers"], heads=d["heads"],
                      summary_tokens=pack["summary"]["tokens"],
                      lora_rank=training.get("lora_rank", ModelConfig.lora_rank),
                      lora_alpha=overrides.get("lora_alpha", ModelConfig.lora_alpha),
                      lora_adapters=f2b.lora_adapters(),
                      mlp_hidden=max(mlp[0]) if mlp else ModelConfig.mlp_hidden)
    return cfg, f2b


def load_graph(path: Path) -> onnx.ModelProto:
    try:
        return onnx.load(str(path))
    except FileNotFoundError:
        raise
    except Exception as err:  # protobuf's DecodeError and friends: a truncated or foreign file
        raise UnpackError(f"{path.name} is not a readable ONNX model ({type(err).__name__})")


def float_initializers(graph: onnx.ModelProto) -> Dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in graph.graph.initializer
            if t.data_type == onnx.TensorProto.FLOAT}


def stage1_config(pack: dict, cfg: ModelConfig) -> ModelConfig:
    """The base's config: the adapter fields stage 2 changed (its --model) go back to the
    last stage-1 run's --model or the defaults; its adapter slots are unused in stage 1 and
    replaced in stage 2, so only their shapes matter, for --init's config check."""
    runs = pack.get("training", {})
    stage2 = json.loads((runs.get("stage2") or [{}])[-1].get("model") or "{}")
    stage1 = json.loads((runs.get("stage1") or [{}])[-1].get("model") or "{}")
    changed = {"lora_adapters"} | set(stage2)
    return ModelConfig(**{f.name: stage1.get(f.name, f.default) if f.name in changed else getattr(cfg, f.name)
                          for f in fields(ModelConfig)})


def other_initializers(graph: onnx.ModelProto) -> Dict[str, bytes]:
    return {t.name: t.SerializeToString() for t in graph.graph.initializer if t.data_type != onnx.TensorProto.FLOAT}


def read_weights(pack_dir: Path, cfg: ModelConfig, graphs: Dict[str, onnx.ModelProto]) -> Tuple[Dict[str, torch.Tensor], set]:
    """Every parameter the pack's graphs (by file name, as loaded) and tensors hold; the names of those it does not."""
    probe = Glimpse(cfg)
    names, sizes = [], []
    total = sum(p.numel() for p in probe.parameters())
    if ID_BASE + total >= ID_LIMIT:
        raise UnpackError(f"{total} parameters are too many to index in float32; unpack works for the tiny packs")
    with torch.no_grad():
        at = ID_BASE
        for name, p in probe.named_parameters():
            p.copy_(torch.arange(at, at + p.numel(), dtype=torch.float64).view_as(p))
            names.append(name)
            sizes.append(p.numel())
            at += p.numel()
    starts = np.cumsum([ID_BASE] + sizes)
    flat = {name: np.full(n, np.nan, dtype=np.float32) for name, n in zip(names, sizes)}

    def place(ids: np.ndarray, values: np.ndarray, where: str) -> None:
        which = np.searchsorted(starts, ids, side="right") - 1
        for i in np.unique(which):
            sel = which == i
            slot, got = ids[sel] - starts[i], values[sel]
            known = flat[names[i]][slot]
            clash = ~np.isnan(known) & (known != got)
            if clash.any():
                raise UnpackError(f"{where}: {names[i]} is stored twice with different values")
            flat[names[i]][slot] = got

    with tempfile.TemporaryDirectory() as tmp:
        export_graphs(probe, Path(tmp))
        for graph in ("vision.onnx", "llm.onnx"):
            coded_graph, real_graph = load_graph(Path(tmp) / graph), graphs[graph]
            if [n.SerializeToString() for n in coded_graph.graph.node] != [n.SerializeToString() for n in real_graph.graph.node]:
                raise UnpackError(f"{graph}: its nodes are not those of a {cfg} export with this torch and code")
            coded, real = float_initializers(coded_graph), float_initializers(real_graph)
            if other_initializers(coded_graph) != other_initializers(real_graph):
                raise UnpackError(f"{graph}: its integer constants differ from a {cfg} export")
            if set(coded) != set(real):
                raise UnpackError(f"{graph}: its initializers are not those of a {cfg} export with this torch "
                                  f"({len(set(coded) ^ set(real))} names differ)")
            for name, code in coded.items():
                value = real[name]
                if value.shape != code.shape:
                    raise UnpackError(f"{graph}: {name} is {list(value.shape)}, a model of this config has {list(code.shape)}")
                c, v = code.reshape(-1).astype(np.float64), value.reshape(-1)
                is_id = c >= ID_BASE
                if is_id.any() and not (np.all(c[is_id] == np.round(c[is_id])) and np.all(c[is_id] < ID_BASE + total)):
                    raise UnpackError(f"{graph}: {name} holds weights changed while folding; it cannot be read back")
                if is_id.any():
                    place(c[is_id].astype(np.int64), v[is_id], f"{graph}: {name}")
                if not np.array_equal(c[~is_id], v[~is_id].astype(np.float64)):  # constants, the zero adapter slot
                    raise UnpackError(f"{graph}: {name} has constants that differ from this config's export")
    tensors = pack_dir / "embed_tokens.f32", pack_dir / "summary.f32"
    for name, path in zip(("decoder.embed.weight", "summary"), tensors):
        i = names.index(name)
        if path.stat().st_size != 4 * sizes[i]:
            raise UnpackError(f"{path.name} is {path.stat().st_size} bytes, not {4 * sizes[i]}")
        place(np.arange(sizes[i]) + starts[i], np.fromfile(path, dtype="<f4"), path.name)
    state, missing = {}, set()
    for name, p in probe.named_parameters():
        values = flat[name]
        if np.isnan(values).all():
            missing.add(name)
        elif np.isnan(values).any():
            raise UnpackError(f"{name}: only {int((~np.isnan(values)).sum())} of {values.size} values are in the pack")
        state[name] = torch.from_numpy(values.copy()).view_as(p)
    return state, missing


@torch.no_grad()
def fit_logit_scale(model: Glimpse, tok: Tokenizer, f2b: Fwd2BotConfig, data: Path, images: int = 256) -> float:
    """log(1/temperature) minimising the symmetric InfoNCE of images and their first caption
    on `data`, searched over the range training allows (up to the clamp at 100)."""
    from data import WorldDataset
    from evaluate import Reader
    from fwd2bot import info_nce
    ds = WorldDataset(data)
    idx = list(range(min(images, len(ds))))
    reader = Reader(model, tok, f2b, model.cfg.summary_tokens)
    a = torch.cat([reader.embed_images(ds.pixels(idx[i:i + 64])) for i in range(0, len(idx), 64)])
    b = reader.embed_texts([ds.record(i)["captions"][0]["text"] for i in idx])
    grid = torch.linspace(0.0, math.log(100), 93)
    losses = []
    for s in grid:
        model.logit_scale.fill_(float(s))
        losses.append(info_nce(model, a, b).item())
    return float(grid[int(np.argmin(losses))])


def write_run(folder: Path, payload: dict, tok: Tokenizer, note: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save_checkpoint(folder / "final.pt", payload)
    tok.save(folder / "tokenizer.json")
    (folder / "run.json").write_text(json.dumps({**note, "config": payload["config"], "fwd2bot": payload["fwd2bot"]},
                                                indent=1) + "\n")


def unpack(pack_dir: Path, out: Path, data: Optional[Path] = None, seed: int = 0) -> dict:
    pack = json.loads((pack_dir / "pack.json").read_text())
    graphs = {name: load_graph(pack_dir / name) for name in ("vision.onnx", "llm.onnx")}
    cfg, f2b = pack_config(pack, graphs["vision.onnx"], graphs["llm.onnx"])
    if f2b.forward != "double":
        raise UnpackError("only double-forward packs are exported, so only those unpack")
    state, missing = read_weights(pack_dir, cfg, graphs)
    torch.manual_seed(seed)
    model = Glimpse(cfg)
    kept = {k: v for k, v in state.items() if k not in missing}
    model.load_state_dict(kept, strict=False)
    tok = Tokenizer.load(pack_dir / "tokenizer.json")
    unexpected = missing - {"logit_scale"}
    if unexpected:
        raise UnpackError(f"the pack lacks {', '.join(sorted(unexpected))}")
    recorded = pack.get("training", {}).get("logit_scale")
    if "logit_scale" in missing:
        if recorded is not None:
            scale, how = float(recorded), "pack.json"
        elif data is not None:
            model.eval()
            scale, how = fit_logit_scale(model, tok, f2b, data), f"fitted on {data}"
        else:
            raise UnpackError("this pack does not record the InfoNCE temperature: pass --data to fit it")
        with torch.no_grad():
            model.logit_scale.fill_(scale)
    else:
        scale, how = float(model.logit_scale), "pack graphs"
    stage2 = {"model": model.state_dict(), "config": asdict(cfg), "fwd2bot": asdict(f2b), "step": None}
    base_cfg = stage1_config(pack, cfg)
    base = Glimpse(base_cfg)
    base.load_state_dict({k: v for k, v in model.state_dict().items() if not is_fwd2bot_parameter(k)}, strict=False)
    stage1 = {"model": base.state_dict(), "config": asdict(base_cfg), "fwd2bot": None, "step": None}
    note = {"unpacked_from": str(pack_dir), "pack_sha256": pack["files"]["llm.onnx"]["sha256"],
            "logit_scale": {"value": scale, "from": how}, "parameters": count_parameters(model),
            "trainable": sum(p.numel() for k, p in model.named_parameters() if is_fwd2bot_parameter(k))}
    shutil.rmtree(out / "base", ignore_errors=True)
    shutil.rmtree(out / "fwd2bot", ignore_errors=True)
    runs = pack.get("training", {})
    write_run(out / "base", stage1, tok, {**note, "stage": 1, "args": {"init": None}, "lineage": runs.get("stage1", [])})
    write_run(out / "fwd2bot", stage2, tok, {**note, "stage": 2, "args": {"base": str(out / "base"), "init": None},
                                             "language": pack.get("language", 1), "lineage": runs.get("stage2", [])})
    return note


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", required=True, help="a model pack folder, e.g. models/shapes-tiny")
    ap.add_argument("--out", required=True, help="writes OUT/base and OUT/fwd2bot")
    ap.add_argument("--data", help="a world data set to fit the InfoNCE temperature on, for packs that do not record it")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        note = unpack(Path(args.pack), Path(args.out), Path(args.data) if args.data else None)
    except KeyError as err:
        raise SystemExit(f"unpack.py: {args.pack}: pack.json lacks {err}")
    except (UnpackError, FileNotFoundError, TypeError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise SystemExit(f"unpack.py: {args.pack}: {err}")
    print(json.dumps({"out": args.out, **note}))


if __name__ == "__main__":
    main()
