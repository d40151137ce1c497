"""Training data in the formats real vision-language models train on, for stage 2 on an
imported checkpoint:

- LLaVA-665k conversations (`llava_v1_5_mix665k.json`): one JSON list of
  {id, image, conversations: [{from: "human", value: "<image>\\n…"}, {from: "gpt", …}, …]}
  with `image` relative to an image folder (records without `image` are text-only);
- caption pairs as webdataset tar shards the way img2dataset writes CC3M
  (KEY.jpg + KEY.txt [+ KEY.json] per sample, `00000.tar` …).

Both are map-style datasets (any sampler works) returning a `Sample`: the image as the
model's input tensor at a given `ImagePreprocess`, and the conversation turns or the
caption. The two presets are the real models' preprocessing, as transformers computes it:

- CLIP_336 (LLaVA-1.5): pad to square with the mean colour (LLaVA's `expand2square`), then
  CLIPImageProcessor: resize the shortest side to 336 (bicubic), centre crop 336,
  rescale 1/255, normalise with CLIP's mean/std;
- SIGLIP_384 (LLaVA-OneVision, one crop): resize to 384x384 (bicubic), rescale 1/255,
  normalise with mean 0.5 / std 0.5.

`npm run world -- llava` / `wds` write both formats with known truth (world/README.md).
"""
from __future__ import annotations

import glob
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGE_TOKEN = "<image>"
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
RESAMPLE = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
PIL_RESAMPLE_NAMES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic"}  # transformers' `resample` ints


class DataError(Exception):
    """A problem with training data, naming the file and record."""


@dataclass(frozen=True)
class ImagePreprocess:
    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    pad_to_square: bool  # LLaVA-1.5's expand2square with the mean colour, before resizing
    resize: str  # "shortest_edge": shortest side to size, then centre crop; "exact": straight to size x size
    resample: str = "bicubic"
    rescale: float = 1 / 255

    def __post_init__(self):
        if self.resize not in ("shortest_edge", "exact"):
            raise ValueError(f"resize must be shortest_edge or exact, got {self.resize!r}")
        if self.resample not in RESAMPLE:
            raise ValueError(f"resample must be one of {sorted(RESAMPLE)}, got {self.resample!r}")

    @property
    def background(self) -> tuple[int, int, int]:
        """The padding colour, exactly as LLaVA computes it: int(mean * 255) per channel."""
        return tuple(int(m * 255) for m in self.mean)  # type: ignore[return-value]


CLIP_336 = ImagePreprocess(336, CLIP_MEAN, CLIP_STD, pad_to_square=True, resize="shortest_edge")
SIGLIP_384 = ImagePreprocess(384, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), pad_to_square=False, resize="exact")


def from_preprocessor_config(config: dict, pad_to_square: bool | None = None) -> ImagePreprocess:
    """The preprocessing a checkpoint's preprocessor_config.json describes. `pad_to_square`
    defaults to the config's `do_pad` for LlavaImageProcessor and to False otherwise
    (CLIPImageProcessor crops; LLaVA-1.5 itself trained with padding: pass True)."""
    size = config.get("size", {})
    if "shortest_edge" in size:
        side, resize = int(size["shortest_edge"]), "shortest_edge"
        crop = config.get("crop_size", {"height": side, "width": side})
        if config.get("do_center_crop", True) and (crop.get("height") != side or crop.get("width") != side):
            raise DataError(f"crop_size {crop} differs from shortest_edge {side}: not supported")
    elif "height" in size and size.get("height") == size.get("width"):
        side, resize = int(size["height"]), "exact"
    else:
        raise DataError(f"preprocessor size {size} is neither shortest_edge nor a square height/width")
    if pad_to_square is None:
        pad_to_square = config.get("image_processor_type") == "LlavaImageProcessor" and bool(config.get("do_pad", False))
    return ImagePreprocess(side, tuple(config["image_mean"]), tuple(config["image_std"]), pad_to_square, resize,
                           PIL_RESAMPLE_NAMES.get(int(config.get("resample", 3)), "bicubic"),
                           float(config.get("rescale_factor", 1 / 255)))


def expand2square(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """LLaVA-1.5's padding: the image centred on a square of the background colour."""
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    result = Image.new(image.mode, (side, side), background)
    result.paste(image, ((side - width) // 2, (side - height) // 2))
    return result


def preprocess(image: Image.Image, spec: ImagePreprocess) -> torch.Tensor:
    """RGB PIL image -> float32 [3, size, size], with transformers' arithmetic
    (rescale in float64 then float32, normalise in float32)."""
    image = image.convert("RGB")
    if spec.pad_to_square:
        image = expand2square(image, spec.background)
    width, height = image.size
    if spec.resize == "exact":
        new = (spec.size, spec.size)
    elif width <= height:
        new = (spec.size, int(spec.size * height / width))
    else:
        new = (int(spec.size * width / height), spec.size)
    if new != image.size:
        image = image.resize(new, resample=RESAMPLE[spec.resample], reducing_gap=None)
    pixels = np.asarray(image)  # [H, W, 3] uint8
    top, left = (pixels.shape[0] - spec.size) // 2, (pixels.shape[1] - spec.size) // 2
    pixels = pixels[top:top + spec.size, left:left + spec.size]
    scaled = (pixels.astype(np.float64) * spec.rescale).astype(np.float32)
    normed = (scaled - np.asarray(spec.mean, dtype=np.float32)) / np.asarray(spec.std, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(normed.transpose(2, 0, 1)))


def decode_image(data: bytes, where: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as err:  # PIL raises several types for damaged files
        raise DataError(f"{where}: not a readable image ({err})") from err
    return image.convert("RGB")


@dataclass
class Turn:
    human: str
    gpt: str


@dataclass
class Sample:
    id: str
    pixel_values: torch.Tensor | None  # [3, S, S], None for a text-only record
    turns: list[Turn] = field(default_factory=list)  # conversations, "<image>" placeholder removed
    caption: str | None = None  # caption pairs


def _read_turns(record: object, where: str) -> tuple[str, str | None, list[Turn]]:
    if not isinstance(record, dict):
        raise DataError(f"{where}: a record must be an object, got {type(record).__name__}")
    rid, image, conversations = record.get("id"), record.get("image"), record.get("conversations")
    if not isinstance(rid, (str, int)):
        raise DataError(f"{where}: missing or invalid 'id'")
    where = f"{where} (id {rid})"
    if image is not None and not isinstance(image, str):
        raise DataError(f"{where}: 'image' must be a relative path")
    if not isinstance(conversations, list) or not conversations or len(conversations) % 2:
        raise DataError(f"{where}: 'conversations' must be a non-empty list of human/gpt pairs")
    turns, placeholders = [], 0
    for k, message in enumerate(conversations):
        want = "human" if k % 2 == 0 else "gpt"
        if not isinstance(message, dict) or message.get("from") != want or not isinstance(message.get("value"), str):
            raise DataError(f"{where}: conversations[{k}] must be {{from: \"{want}\", value: text}}")
        placeholders += message["value"].count(IMAGE_TOKEN)
    if placeholders != (1 if image is not None else 0):
        raise DataError(f"{where}: {placeholders} '{IMAGE_TOKEN}' placeholders, expected {1 if image is not None else 0}")
    for k in range(0, len(conversations), 2):
        human = conversations[k]["value"].replace(IMAGE_TOKEN, "").strip()
        turns.append(Turn(human, conversations[k + 1]["value"].strip()))
    return str(rid), image, turns


class LlavaConversations(torch.utils.data.Dataset):
    """A LLaVA-665k style JSON list with its image folder. Every record is checked when
    loading (one clear error naming the record); images are read when indexed."""

    def __init__(self, json_path: str | os.PathLike, image_folder: str | os.PathLike, spec: ImagePreprocess):
        self.json_path, self.image_folder, self.spec = Path(json_path), Path(image_folder), spec
        if not self.json_path.is_file():
            raise DataError(f"{self.json_path} does not exist (make one with: npm run world -- llava --count N --out DIR)")
        if not self.image_folder.is_dir():
            raise DataError(f"image folder {self.image_folder} does not exist")
        try:
            records = json.loads(self.json_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise DataError(f"{self.json_path} is not readable JSON ({err})") from err
        if not isinstance(records, list):
            raise DataError(f"{self.json_path} must hold a JSON list of records")
        self.records = [_read_turns(r, f"{self.json_path} record {i}") for i, r in enumerate(records)]
        root = self.image_folder.resolve()
        for rid, image, _ in self.records:
            if image is not None and (Path(image).is_absolute() or root not in (root / image).resolve().parents):
                raise DataError(f"{self.json_path} (id {rid}): image path {image!r} leaves the image folder")

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> Sample:
        rid, image, turns = self.records[i]
        if image is None:
            return Sample(rid, None, turns)
        path = self.image_folder / image
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DataError(f"{self.json_path} (id {rid}): image {path} cannot be read ({err.strerror})") from err
        return Sample(rid, preprocess(decode_image(data, str(path)), self.spec), turns)


def expand_shards(spec: str | os.PathLike | list) -> list[Path]:
    """Shard paths from a folder (its *.tar), a glob, a webdataset brace range
    ("dir/{00000..00009}.tar") or a list of any of these."""
    if isinstance(spec, (list, tuple)):
        return [p for s in spec for p in expand_shards(s)]
    text = str(spec)
    if os.path.isdir(text):
        found = sorted(Path(text).glob("*.tar"))
    else:
        brace = re.search(r"\{(\d+)\.\.(\d+)\}", text)
        if brace:
            lo, hi, width = int(brace[1]), int(brace[2]), len(brace[1])
            found = [Path(text[:brace.start()] + str(n).zfill(width) + text[brace.end():]) for n in range(lo, hi + 1)]
        else:
            found = sorted(Path(p) for p in glob.glob(text)) if glob.has_magic(text) else [Path(text)]
    if not found:
        raise DataError(f"no tar shards in {text}")
    for p in found:
        if not p.is_file():
            raise DataError(f"shard {p} does not exist")
    return found


class CaptionShards(torch.utils.data.Dataset):
    """Webdataset tar shards of KEY.{jpg,png,…} + KEY.txt as img2dataset writes them.
    The shards are indexed once (member offsets); samples are read by seeking, so any
    sampler works. A sample without an image or a caption is one clear error."""

    def __init__(self, shards: str | os.PathLike | list, spec: ImagePreprocess):
        self.spec = spec
        self.shards = expand_shards(shards)
        self.samples: list[tuple[int, str, tuple[int, int], tuple[int, int]]] = []
        for s, shard in enumerate(self.shards):
            try:
                with tarfile.open(shard, "r:") as tar:
                    members = [m for m in tar.getmembers() if m.isfile()]
            except (tarfile.TarError, OSError) as err:
                raise DataError(f"shard {shard} is not a readable tar file ({err})") from err
            groups: dict[str, dict[str, tuple[int, int]]] = {}
            for m in members:
                key, _, ext = m.name.partition(".")  # webdataset: the key ends at the first dot of the name
                groups.setdefault(key, {})[ext.lower()] = (m.offset_data, m.size)
            for key, parts in groups.items():
                image = next((parts[e] for e in IMAGE_EXTENSIONS if e in parts), None)
                if image is None or "txt" not in parts:
                    missing = "an image" if image is None else "a caption (.txt)"
                    raise DataError(f"shard {shard}: sample {key} has no {missing} (has {', '.join(sorted(parts))})")
                self.samples.append((s, key, image, parts["txt"]))

    def __len__(self) -> int:
        return len(self.samples)

    def _read(self, shard: int, where: tuple[int, int]) -> bytes:
        with open(self.shards[shard], "rb") as f:
            f.seek(where[0])
            return f.read(where[1])

    def __getitem__(self, i: int) -> Sample:
        s, key, image, txt = self.samples[i]
        where = f"shard {self.shards[s]} sample {key}"
        try:
            caption = self._read(s, txt).decode("utf-8").strip()
        except UnicodeDecodeError as err:
            raise DataError(f"{where}: caption is not UTF-8") from err
        return Sample(key, preprocess(decode_image(self._read(s, image), where), self.spec), caption=caption)


def collate(samples: list[Sample]) -> tuple[torch.Tensor | None, list[Sample]]:
    """Stacks the images of a batch ([B, 3, S, S]; None if any record is text-only) and keeps the samples."""
    pixels = [s.pixel_values for s in samples]
    return (torch.stack(pixels) if all(p is not None for p in pixels) else None), samples
