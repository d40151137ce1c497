"""The real-format readers on data the world writes (`npm run world -- llava` / `wds`), and
the real models' preprocessing on images whose expected values are known."""
import io
import json
import subprocess
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT
from hf_data import (CLIP_336, SIGLIP_384, CaptionShards, DataError, ImagePreprocess, LlavaConversations, collate,
                     expand_shards, from_preprocessor_config, preprocess)

SMALL_CLIP = ImagePreprocess(32, CLIP_336.mean, CLIP_336.std, pad_to_square=True, resize="shortest_edge")


def world(*args) -> None:
    subprocess.run(["npx", "tsx", "world/cli.ts", *args], cwd=ROOT, check=True, capture_output=True)


@pytest.fixture(scope="module")
def llava_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("llava") / "data"
    world("llava", "--count", "8", "--size", "96", "--seed", "3", "--out", str(out))
    return out


@pytest.fixture(scope="module")
def wds_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("wds") / "shards"
    world("wds", "--count", "5", "--size", "48", "--shard-size", "2", "--seed", "5", "--out", str(out))
    return out


def background_value(spec: ImagePreprocess) -> torch.Tensor:
    return torch.tensor([(b / 255 - m) / s for b, m, s in zip(spec.background, spec.mean, spec.std)], dtype=torch.float32)


def test_llava_reader_gives_the_worlds_conversations(llava_dir):
    data = LlavaConversations(llava_dir / "llava_shapes.json", llava_dir / "images", SMALL_CLIP)
    raw = json.loads((llava_dir / "llava_shapes.json").read_text())
    truth = [json.loads(line) for line in (llava_dir / "scenes.jsonl").read_text().splitlines()]
    assert len(data) == len(raw) == 8
    padded = 0
    for i in range(len(data)):
        sample = data[i]
        assert sample.id == raw[i]["id"] == truth[i]["id"]
        assert sample.pixel_values.shape == (3, 32, 32) and sample.pixel_values.dtype == torch.float32
        assert len(sample.turns) * 2 == len(raw[i]["conversations"])
        assert all("<image>" not in t.human for t in sample.turns)
        answers = {t.human.split("\n")[0]: t.gpt for t in sample.turns}
        for q in truth[i]["questions"]:
            assert answers[q["question"]] == q["answer"]
        assert truth[i]["captions"][0]["text"] in answers.values()
        if truth[i]["width"] > truth[i]["height"]:
            # Landscape: pad-to-square put the mean colour above and below the photo.
            top = sample.pixel_values[:, 0, :]
            assert torch.allclose(top, background_value(SMALL_CLIP)[:, None].expand_as(top), atol=1e-6)
            padded += 1
    assert padded > 0, "the sample has landscape photos"
    pixels, batch = collate([data[0], data[1]])
    assert pixels.shape == (2, 3, 32, 32) and [s.id for s in batch] == [raw[0]["id"], raw[1]["id"]]


def test_caption_shards_give_the_worlds_captions(wds_dir):
    data = CaptionShards(wds_dir, SIGLIP_384)
    assert len(data) == 5
    with tarfile.open(wds_dir / "00001.tar") as tar:
        meta = json.load(tar.extractfile("000011.json"))
    sample = data[3]
    assert sample.id == "000011" and sample.caption == meta["caption"] == meta["glimpse"]["captions"][0]["text"]
    assert sample.pixel_values.shape == (3, 384, 384)
    assert sample.pixel_values.min() >= -1 and sample.pixel_values.max() <= 1
    # Shard lists: a folder, a brace range and a glob name the same shards.
    assert expand_shards(wds_dir) == expand_shards(f"{wds_dir}/{{00000..00002}}.tar") == expand_shards(f"{wds_dir}/*.tar")
    assert len(CaptionShards(f"{wds_dir}/{{00001..00002}}.tar", SIGLIP_384)) == 3


def test_clip_pads_to_square_with_the_mean_colour_then_resizes():
    colour = (200, 100, 50)
    image = Image.new("RGB", (300, 200), colour)  # landscape: 50 rows of padding above and below
    x = preprocess(image, CLIP_336)
    assert x.shape == (3, 336, 336)
    inside = torch.tensor([(c / 255 - m) / s for c, m, s in zip(colour, CLIP_336.mean, CLIP_336.std)])
    assert torch.allclose(x[:, 168, 168], inside, atol=1e-6)
    assert torch.allclose(x[:, 0, 0], background_value(CLIP_336), atol=1e-6)
    assert torch.allclose(x[:, 335, 200], background_value(CLIP_336), atol=1e-6)
    rows = (x[0, :, 168] - inside[0]).abs() < 1e-3
    assert 220 <= int(rows.sum()) <= 228, "the photo covers 200/300 of the rows"
    assert CLIP_336.background == (122, 116, 104)


def test_shortest_edge_crops_the_centre_and_siglip_stretches():
    image = Image.new("RGB", (400, 200), (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, 60, 200))  # a red band at the left edge
    crop = preprocess(image, ImagePreprocess(32, (0.5,) * 3, (0.5,) * 3, pad_to_square=False, resize="shortest_edge"))
    assert torch.allclose(crop, torch.ones_like(crop), atol=1e-6), "the centre crop leaves the red band out"
    stretched = preprocess(image, SIGLIP_384)
    assert stretched.shape == (3, 384, 384)
    assert torch.allclose(stretched[:, 192, 10], torch.tensor([1.0, -1.0, -1.0]), atol=1e-6), "SigLIP keeps the whole width"


def test_reference_numbers_for_a_photo(llava_dir):
    """Against a computation written out step by step, with PIL and numpy, as transformers does it."""
    path = sorted((llava_dir / "images" / "shapes").glob("*.jpg"))[0]
    image = Image.open(path).convert("RGB")
    w, h = image.size
    side = max(w, h)
    square = Image.new("RGB", (side, side), (122, 116, 104))
    square.paste(image, ((side - w) // 2, (side - h) // 2))
    arr = np.asarray(square.resize((336, 336), Image.BICUBIC)).astype(np.float64) / 255
    want = ((arr.astype(np.float32) - np.float32(CLIP_336.mean)) / np.float32(CLIP_336.std)).transpose(2, 0, 1)
    assert np.abs(preprocess(image, CLIP_336).numpy() - want).max() < 1e-5


def test_preprocessor_configs_of_the_real_checkpoints():
    llava = {"crop_size": {"height": 336, "width": 336}, "do_center_crop": True, "do_normalize": True, "do_rescale": True,
             "do_resize": True, "image_mean": list(CLIP_336.mean), "image_std": list(CLIP_336.std),
             "image_processor_type": "CLIPImageProcessor", "resample": 3, "rescale_factor": 0.00392156862745098,
             "size": {"shortest_edge": 336}}
    assert from_preprocessor_config(llava, pad_to_square=True) == CLIP_336
    assert from_preprocessor_config({**llava, "image_processor_type": "LlavaImageProcessor", "do_pad": True}) == CLIP_336
    assert not from_preprocessor_config(llava).pad_to_square
    onevision = {"image_processor_type": "LlavaOnevisionImageProcessor", "image_mean": [0.5, 0.5, 0.5],
                 "image_std": [0.5, 0.5, 0.5], "resample": 3, "size": {"height": 384, "width": 384}, "do_pad": True}
    assert from_preprocessor_config(onevision) == SIGLIP_384
    with pytest.raises(DataError, match="neither shortest_edge nor a square"):
        from_preprocessor_config({**onevision, "size": {"height": 384, "width": 512}})


def write_llava(tmp_path, records):
    (tmp_path / "images").mkdir(exist_ok=True)
    Image.new("RGB", (20, 10), (9, 9, 9)).save(tmp_path / "images" / "a.jpg")
    (tmp_path / "d.json").write_text(json.dumps(records))
    return tmp_path / "d.json", tmp_path / "images"


def turn(who, text):
    return {"from": who, "value": text}


@pytest.mark.parametrize("record, error", [
    ({"id": "x", "image": "a.jpg", "conversations": [turn("human", "<image>\n<image> hi"), turn("gpt", "yo")]}, r"id x\): 2 '<image>' placeholders, expected 1"),
    ({"id": "x", "image": "a.jpg", "conversations": [turn("gpt", "<image>"), turn("human", "yo")]}, r"conversations\[0\] must be \{from: \"human\""),
    ({"id": "x", "image": "a.jpg", "conversations": [turn("human", "<image> hi")]}, "non-empty list of human/gpt pairs"),
    ({"image": "a.jpg", "conversations": []}, "missing or invalid 'id'"),
    ({"id": "x", "image": "../../etc/passwd", "conversations": [turn("human", "<image>"), turn("gpt", "no")]}, "leaves the image folder"),
    ({"id": "x", "conversations": [turn("human", "<image> hi"), turn("gpt", "yo")]}, "1 '<image>' placeholders, expected 0"),
])
def test_bad_llava_records_are_one_clear_error(tmp_path, record, error):
    good = {"id": "ok", "image": "a.jpg", "conversations": [turn("human", "<image>\nWhat?"), turn("gpt", "This.")]}
    with pytest.raises(DataError, match=error):
        LlavaConversations(*write_llava(tmp_path, [good, record]), SMALL_CLIP)


def test_text_only_records_and_missing_images(tmp_path):
    records = [{"id": 7, "conversations": [turn("human", "Hello?"), turn("gpt", "Hi.")]},
               {"id": "gone", "image": "missing.jpg", "conversations": [turn("human", "What?\n<image>"), turn("gpt", "That.")]}]
    data = LlavaConversations(*write_llava(tmp_path, records), SMALL_CLIP)
    assert data[0].pixel_values is None and data[0].turns[0].human == "Hello?" and data[0].id == "7"
    assert collate([data[0]])[0] is None
    with pytest.raises(DataError, match=r"id gone\): image .*missing.jpg cannot be read"):
        data[1]
    (tmp_path / "images" / "missing.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(DataError, match="missing.jpg: not a readable image"):
        data[1]
    with pytest.raises(DataError, match="does not exist .*npm run world -- llava"):
        LlavaConversations(tmp_path / "nope.json", tmp_path / "images", SMALL_CLIP)


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_bad_shards_are_one_clear_error(tmp_path):
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    with tarfile.open(tmp_path / "00000.tar", "w") as tar:
        add(tar, "000000000.jpg", jpeg.getvalue())
        add(tar, "000000000.txt", b"a caption")
        add(tar, "000000001.jpg", jpeg.getvalue())
    with pytest.raises(DataError, match=r"00000.tar: sample 000000001 has no a caption \(.txt\) \(has jpg\)"):
        CaptionShards(tmp_path, SMALL_CLIP)
    with tarfile.open(tmp_path / "00000.tar", "w") as tar:
        add(tar, "000000000.jpg", b"garbage")
        add(tar, "000000000.txt", b"a caption")
    with pytest.raises(DataError, match="sample 000000000: not a readable image"):
        CaptionShards(tmp_path, SMALL_CLIP)[0]
    (tmp_path / "00001.tar").write_bytes(b"this is not a tar file" * 100)
    with pytest.raises(DataError, match="00001.tar is not a readable tar file"):
        CaptionShards(tmp_path / "00001.tar", SMALL_CLIP)
    with pytest.raises(DataError, match="shard .*00002.tar does not exist"):
        CaptionShards(f"{tmp_path}/{{00000..00009}}.tar", SMALL_CLIP)
    with pytest.raises(DataError, match="no tar shards"):
        CaptionShards(tmp_path / "empty-*.tar", SMALL_CLIP)
