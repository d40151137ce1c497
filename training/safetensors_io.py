"""Reads and writes the safetensors format without the `safetensors` package (Debian has none).

A file is: an 8-byte little-endian unsigned header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the
raw little-endian tensor bytes, offsets counted from the end of the header.
Hugging Face shards a large checkpoint as model-0000X-of-0000N.safetensors with
model.safetensors.index.json ({"weight_map": {name: file}}) beside them.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Dict, Iterable, Optional

import numpy as np
import torch

# safetensors dtype -> (numpy dtype of the raw bytes, torch dtype); BF16 is read as int16 and reinterpreted.
_DTYPES = {
    "F64": (np.dtype("<f8"), torch.float64), "F32": (np.dtype("<f4"), torch.float32),
    "F16": (np.dtype("<f2"), torch.float16), "BF16": (np.dtype("<i2"), torch.bfloat16),
    "I64": (np.dtype("<i8"), torch.int64), "I32": (np.dtype("<i4"), torch.int32),
    "I16": (np.dtype("<i2"), torch.int16), "I8": (np.dtype("i1"), torch.int8),
    "U8": (np.dtype("u1"), torch.uint8), "BOOL": (np.dtype("?"), torch.bool),
}
_NAMES = {torch_dtype: name for name, (_, torch_dtype) in _DTYPES.items()}
MAX_HEADER = 100 << 20  # the format's own limit on the JSON header


class SafetensorsError(Exception):
    pass


def read_header(path: Path) -> tuple:
    """(header dict without __metadata__, metadata dict, byte offset of the data)."""
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise SafetensorsError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", raw)
        if n > MAX_HEADER:
            raise SafetensorsError(f"{path}: header length {n} is implausible (not a safetensors file?)")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise SafetensorsError(f"{path}: unreadable JSON header ({err})") from err
    metadata = header.pop("__metadata__", None) or {}
    return header, metadata, 8 + n


def load_file(path: Path, names: Optional[Iterable[str]] = None) -> Dict[str, torch.Tensor]:
    """Every tensor of one .safetensors file (or only `names`), memory-mapped then copied."""
    path = Path(path)
    header, _, start = read_header(path)
    size = path.stat().st_size
    wanted = header.keys() if names is None else names
    data = np.memmap(path, dtype=np.uint8, mode="r")
    out: Dict[str, torch.Tensor] = {}
    for name in wanted:
        if name not in header:
            raise SafetensorsError(f"{path}: tensor {name} is not in this file (the index says it is)")
        info = header[name]
        if info["dtype"] not in _DTYPES:
            raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        np_dtype, torch_dtype = _DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if end - begin != count * np_dtype.itemsize or start + end > size:
            raise SafetensorsError(f"{path}: tensor {name} ({info['dtype']} {info['shape']}) has a wrong byte range {begin}..{end}")
        arr = np.frombuffer(data[start + begin: start + end].tobytes(), dtype=np_dtype).reshape(info["shape"])
        tensor = torch.from_numpy(arr.astype(np_dtype.newbyteorder("=")))
        out[name] = tensor.view(torch.bfloat16) if torch_dtype == torch.bfloat16 else tensor
    return out


def save_file(tensors: Dict[str, torch.Tensor], path: Path, metadata: Optional[Dict[str, str]] = None) -> None:
    """Writes tensors (sorted by name, 8-byte aligned header as the reference writer pads it)."""
    header: dict = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype not in _NAMES:
            raise SafetensorsError(f"tensor {name}: dtype {t.dtype} cannot be written")
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def checkpoint_files(folder: Path) -> Dict[str, Path]:
    """{tensor name: file} for a checkpoint folder: one model.safetensors, or shards with
    model.safetensors.index.json. A tensor in two files, or an index naming a missing
    shard, is an error."""
    folder = Path(folder)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        for file in sorted(set(weight_map.values())):
            if not (folder / file).is_file():
                raise SafetensorsError(f"{folder}: shard {file} named in model.safetensors.index.json is missing")
        return {name: folder / file for name, file in weight_map.items()}
    single = folder / "model.safetensors"
    if single.is_file():
        return {name: single for name in read_header(single)[0]}
    raise SafetensorsError(f"{folder}: no model.safetensors or model.safetensors.index.json")


def load_checkpoint(folder: Path) -> Dict[str, torch.Tensor]:
    """Every tensor of a (possibly sharded) checkpoint folder."""
    by_file: Dict[Path, list] = {}
    for name, file in checkpoint_files(folder).items():
        by_file.setdefault(file, []).append(name)
    out: Dict[str, torch.Tensor] = {}
    for file, names in by_file.items():
        header = read_header(file)[0]
        absent = [n for n in names if n not in header]
        if absent:
            raise SafetensorsError(f"{file}: the index lists {absent[0]} in this shard but the shard lacks it")
        out.update(load_file(file, names))
    return out


def save_sharded(tensors: Dict[str, torch.Tensor], folder: Path, shards: int) -> None:
    """Hugging Face's sharded layout: model-0000X-of-0000N.safetensors plus the index."""
    names = sorted(tensors)
    per = -(-len(names) // shards)
    weight_map, total = {}, 0
    for s in range(shards):
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: tensors[n] for n in names[s * per:(s + 1) * per]}
        save_file(part, Path(folder) / file, {"format": "pt"})
        weight_map.update({n: file for n in part})
        total += sum(t.numel() * t.element_size() for t in part.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (Path(folder) / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
