// Image preparation: decoding, orientation, resizing, normalisation, and every way a
// file can fail. Fixtures are made here with sharp in a temporary folder, except
// test/fixtures/images/quadrants.heic: a 64x48 HEIC (top half red, bottom-left green,
// bottom-right blue) made for this project with libheif 1.15.1's heif-enc (x265
// encoder) from a synthetic PNG; no third-party content, same licence as the project.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { ImageError, type ImageErrorCode } from '../../main/engine/diagnose.ts';
import { decodeToRgb } from '../../main/engine/media.ts';
import { prepareImage, prepareImages, type ImageSpec } from '../../main/engine/tensor.ts';
import { ROOT, tempDir } from '../helpers.ts';

const SPEC: ImageSpec = { size: 64, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: 'fill' };
const HEIC = path.join(ROOT, 'test', 'fixtures', 'images', 'quadrants.heic');

/** What training computes for one byte: float32(u8 / 255), then (x - mean) / std in float32. */
const norm = (v: number, c = 0, spec: ImageSpec = SPEC): number =>
  Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(spec.mean[c]!)) / Math.fround(spec.std[c]!));

/** Channel c at (x, y) of a CHW tensor of side `size`. */
const at = (t: Float32Array, size: number, c: number, x: number, y: number): number => t[c * size * size + y * size + x]!;

const raw = (data: Buffer, width: number, height: number, channels: 1 | 3 | 4 = 3) => sharp(data, { raw: { width, height, channels } });

function fill(width: number, height: number, colour: (x: number, y: number) => [number, number, number]): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) buf.set(colour(x, y), (y * width + x) * 3);
  return buf;
}

/** Deterministic noise bytes (no Math.random: the same fixtures every run). */
function noise(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid PNG whose header claims width x height RGB, with a few hundred bytes of deflated zeros as its data. */
function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, adaptive filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(100_000))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Rewrites the EXIF Orientation value of a JPEG (either byte order). */
function setOrientation(jpeg: Buffer, from: number, to: number): Buffer {
  const out = Buffer.from(jpeg);
  const le = out.indexOf(Buffer.from([0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, from, 0x00]));
  const be = out.indexOf(Buffer.from([0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, from]));
  assert.ok(le >= 0 || be >= 0, 'no EXIF Orientation tag in the fixture');
  if (le >= 0) out[le + 8] = to;
  else out[be + 9] = to;
  return out;
}

/** Rotates packed RGB 90 degrees clockwise. */
function rotateClockwise(data: Buffer, width: number, height: number): Buffer {
  const out = Buffer.alloc(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // (x, y) lands at column height-1-y, row x of the height-wide result.
      data.copy(out, (x * height + (height - 1 - y)) * 3, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return out;
}

async function expectError(promise: Promise<unknown>, code: ImageErrorCode, source: string): Promise<ImageError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ImageError, `expected an ImageError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.equal(e.source, source);
    if (source !== '<buffer>') assert.ok(e.message.includes(source), `message should name the file: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${code} for ${source}, but it succeeded`);
}

// fs.mkdtempSync, removed again by an after() hook.
const dir = tempDir('image');
const file = (name: string) => path.join(dir, name);
const f: Record<string, string> = {};
let truncatedJpegBytes = Buffer.alloc(0);

before(async () => {
  const write = (name: string, data: Buffer | string) => {
    fs.writeFileSync(file(name), data);
    f[name] = file(name);
  };
  // A textured photo-like JPEG and a solid PNG.
  const photo = await raw(fill(320, 240, (x, y) => [x % 256, y % 256, (x * y) % 256]), 320, 240).jpeg({ quality: 90 }).toBuffer();
  write('photo.jpg', photo);
  write('solid.png', await raw(fill(30, 20, () => [200, 100, 50]), 30, 20).png().toBuffer());
  // Three vertical bands: red 50 | green 100 | blue 50.
  write('bands.png', await raw(fill(200, 100, (x) => (x < 50 ? [255, 0, 0] : x < 150 ? [0, 255, 0] : [0, 0, 255])), 200, 100).png().toBuffer());
  // Orientation 6: stored landscape, shown rotated 90 degrees clockwise.
  const quadrants = fill(48, 32, (x, y) => (y < 16 ? (x < 24 ? [250, 20, 20] : [20, 250, 20]) : x < 24 ? [20, 20, 250] : [240, 240, 20]));
  const oriented = await raw(quadrants, 48, 32).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  write('orient6.jpg', oriented);
  write('orient1.jpg', setOrientation(oriented, 6, 1));
  // Transparent left half, opaque black right half.
  const rgba = Buffer.alloc(20 * 10 * 4);
  for (let i = 0; i < 200; i++) if (i % 20 >= 10) rgba[i * 4 + 3] = 255;
  write('alpha.png', await raw(rgba, 20, 10, 4).png().toBuffer());
  write('grey.png', await raw(Buffer.alloc(16 * 16, 77), 16, 16, 1).png().toBuffer());
  write('deep.png', await raw(fill(16, 16, () => [10, 128, 250]), 16, 16).png().toColourspace('rgb16').toBuffer());
  write('large.jpg', await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 40, g: 90, b: 160 } } })
    .composite([{ input: { create: { width: 1200, height: 900, channels: 3, background: { r: 250, g: 200, b: 0 } } }, left: 800, top: 600 }])
    .jpeg({ quality: 85 }).toBuffer());
  // Failures.
  write('empty.jpg', Buffer.alloc(0));
  write('notes.jpg', 'shopping list:\n- milk\n- eggs\n');
  write('noise.jpg', Buffer.concat([Buffer.from([0x13, 0x37]), noise(5000, 42)]));
  truncatedJpegBytes = photo.subarray(0, photo.length >> 1);
  write('truncated.jpg', truncatedJpegBytes);
  // Corrupt: every header segment up to and including the start of scan is intact;
  // the compressed image data after it is noise; the end-of-image marker is there.
  const sos = photo.indexOf(Buffer.from([0xff, 0xda]));
  const headerEnd = sos + 2 + photo.readUInt16BE(sos + 2);
  write('corrupt.jpg', Buffer.concat([photo.subarray(0, headerEnd), noise(photo.length - headerEnd - 2, 7), Buffer.from([0xff, 0xd9])]));
  const png = fs.readFileSync(f['solid.png']!);
  write('truncated.png', png.subarray(0, png.length - 20));
  // Corrupt PNG: chunk structure intact, compressed data inside IDAT flipped.
  const badPng = Buffer.from(png);
  const idat = badPng.indexOf('IDAT', 0, 'latin1');
  for (let i = idat + 4; i < idat + 4 + badPng.readUInt32BE(idat - 4); i++) badPng[i]! ^= 0x5a;
  write('corrupt.png', badPng);
  write('document.jpg', '%PDF-1.4\n%\u00e2\u00e3\n1 0 obj\n');
  // A JFIF header claiming version 2.01: libjpeg warns, the pixels are fine.
  write('jfif2.jpg', Buffer.concat([photo.subarray(0, 2), Buffer.from([0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 2, 1, 0, 0, 1, 0, 1, 0, 0]), photo.subarray(2)]));
  write('bomb.png', pngBomb(60_000, 60_000));
  write('image.jxl', Buffer.concat([Buffer.from([0xff, 0x0a, 0xfa, 0x7f]), noise(64, 3)]));
  write('layers.psd', Buffer.concat([Buffer.from('8BPS', 'latin1'), Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 10, 0, 0, 0, 10, 0, 8, 0, 3]), Buffer.alloc(64)]));
  write('truncated.heic', fs.readFileSync(HEIC).subarray(0, 400));
  fs.mkdirSync(file('folder.jpg'));
});

describe('prepareImage', () => {
  test('a solid PNG maps to exactly the normalised value per channel, CHW', async () => {
    const spec: ImageSpec = { ...SPEC, size: 16, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const t = await prepareImage(f['solid.png']!, spec);
    assert.equal(t.length, 3 * 16 * 16);
    for (let c = 0; c < 3; c++) {
      const want = norm([200, 100, 50][c]!, c, spec);
      for (let i = 0; i < 256; i++) assert.equal(t[c * 256 + i], want, `channel ${c} pixel ${i}`);
    }
  });

  test('a JPEG photo gives 3*size*size finite values in range, the same every time and from a Buffer', async () => {
    const a = await prepareImage(f['photo.jpg']!, SPEC);
    assert.equal(a.length, 3 * 64 * 64);
    assert.ok(a.every((v) => Number.isFinite(v) && v >= norm(0) && v <= norm(255)));
    const b = await prepareImage(f['photo.jpg']!, SPEC);
    const c = await prepareImage(fs.readFileSync(f['photo.jpg']!), SPEC);
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
  });

  test('a harmless decoder warning (unknown JFIF version) does not reject the photo', async () => {
    assert.deepEqual(await prepareImage(f['jfif2.jpg']!, SPEC), await prepareImage(f['photo.jpg']!, SPEC));
  });

  test('EXIF orientation 6 gives the pixels of the image rotated by hand', async () => {
    const stored = await decodeToRgb(f['orient1.jpg']!);
    assert.deepEqual([stored.width, stored.height], [48, 32]);
    const shown = await decodeToRgb(f['orient6.jpg']!);
    assert.deepEqual([shown.width, shown.height], [32, 48]);
    const byHand = rotateClockwise(stored.data, 48, 32);
    assert.ok(shown.data.equals(byHand), 'oriented pixels differ from the hand-rotated ones');
    // And through the whole preparation (no shrink-on-load at this size).
    const spec: ImageSpec = { ...SPEC, size: 32 };
    const viaExif = await prepareImage(f['orient6.jpg']!, spec);
    const viaHand = await prepareImage(await raw(byHand, 32, 48).png().toBuffer(), spec);
    assert.deepEqual(viaExif, viaHand);
    // Top-left of the shown image is the stored bottom-left quadrant (blue).
    assert.ok(at(viaExif, 32, 2, 2, 2) > 1 && at(viaExif, 32, 0, 2, 2) < -1);
  });

  test("'fill' stretches, 'cover' centre-crops, 'contain' letterboxes with the mean colour", async () => {
    const size = 20;
    const red = norm(255);
    const zero = norm(0);
    const fill = await prepareImage(f['bands.png']!, { ...SPEC, size, resize: 'fill' });
    const cover = await prepareImage(f['bands.png']!, { ...SPEC, size, resize: 'cover' });
    const contain = await prepareImage(f['bands.png']!, { ...SPEC, size, resize: 'contain' });
    // fill: all three bands, full height.
    for (const y of [0, 10, 19]) {
      assert.equal(at(fill, size, 0, 1, y), red);
      assert.equal(at(fill, size, 1, 10, y), red);
      assert.equal(at(fill, size, 2, 18, y), red);
    }
    // cover: only the middle 100x100, all green; nothing red or blue anywhere.
    for (let y = 0; y < size; y++) for (let x = 3; x < size - 3; x++) assert.equal(at(cover, size, 1, x, y), red);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) assert.ok(at(cover, size, 0, x, y) < 0 && at(cover, size, 2, x, y) < 0);
    // contain: the 20x10 image in rows 5..14, rows above and below exactly 0 (the mean).
    for (const y of [0, 4, 15, 19]) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) assert.equal(at(contain, size, c, x, y), 0);
    assert.equal(at(contain, size, 0, 1, 10), red);
    assert.equal(at(contain, size, 1, 10, 10), red);
    assert.equal(at(contain, size, 2, 18, 10), red);
    assert.equal(at(contain, size, 2, 1, 10), zero);
  });

  test('alpha is flattened onto white; greyscale and 16-bit inputs become 8-bit RGB', async () => {
    const t = await prepareImage(f['alpha.png']!, { ...SPEC, size: 10, resize: 'fill' });
    for (let c = 0; c < 3; c++) {
      assert.equal(at(t, 10, c, 1, 5), norm(255), 'transparent -> white');
      assert.equal(at(t, 10, c, 8, 5), norm(0), 'opaque black stays black');
    }
    const grey = await decodeToRgb(f['grey.png']!);
    assert.equal(grey.data.length, 16 * 16 * 3);
    assert.ok(grey.data.every((v) => v === 77));
    const deep = await prepareImage(f['deep.png']!, { ...SPEC, size: 8 });
    assert.deepEqual([at(deep, 8, 0, 3, 3), at(deep, 8, 1, 3, 3), at(deep, 8, 2, 3, 3)], [norm(10), norm(128), norm(250)]);
  });

  test('a 4000x3000 JPEG is prepared quickly (shrink-on-load), and fails when over maxPixels', async () => {
    const began = performance.now();
    const t = await prepareImage(f['large.jpg']!, SPEC);
    const ms = performance.now() - began;
    assert.equal(t.length, 3 * 64 * 64);
    assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
    // The yellow block covers x 800..2000 of 4000, y 600..1500 of 3000.
    assert.ok(Math.abs(at(t, 64, 0, 22, 20) - norm(250)) < 0.05);
    assert.ok(Math.abs(at(t, 64, 2, 60, 60) - norm(160)) < 0.05);
    const e = await expectError(prepareImage(f['large.jpg']!, SPEC, { maxPixels: 1_000_000 }), 'too-large', f['large.jpg']!);
    assert.match(e.message, /4,000 x 3,000/);
  });

  test('HEIC (iPhone) photos decode through libheif-js', async () => {
    const rgb = await decodeToRgb(HEIC);
    assert.deepEqual([rgb.width, rgb.height], [64, 48]);
    const px = (x: number, y: number) => [...rgb.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]!) <= 12);
    assert.ok(near(px(5, 5), [220, 30, 30]), `top-left ${px(5, 5)}`);
    assert.ok(near(px(5, 42), [30, 200, 40]), `bottom-left ${px(5, 42)}`);
    assert.ok(near(px(58, 42), [30, 40, 210]), `bottom-right ${px(58, 42)}`);
    const t = await prepareImage(HEIC, SPEC);
    assert.equal(t.length, 3 * 64 * 64);
    assert.deepEqual(await prepareImage(fs.readFileSync(HEIC), SPEC), t);
    await expectError(prepareImage(HEIC, SPEC, { maxPixels: 1000 }), 'too-large', HEIC);
    await expectError(prepareImage(f['truncated.heic']!, SPEC), 'truncated', f['truncated.heic']!);
  });
});

describe('failures', () => {
  const cases: Array<[string, ImageErrorCode, RegExp]> = [
    ['empty.jpg', 'empty', /is empty/],
    ['missing.jpg', 'not-found', /not found/],
    ['folder.jpg', 'unreadable', /folder/],
    ['notes.jpg', 'not-an-image', /not an image \(it is text\)/],
    ['noise.jpg', 'not-an-image', /not an image/],
    ['truncated.jpg', 'truncated', /is truncated \(the file ends before the JPEG data does\)/],
    ['truncated.png', 'truncated', /is truncated/],
    ['corrupt.jpg', 'corrupt', /is corrupt \(its JPEG data is damaged/],
    ['corrupt.png', 'corrupt', /is corrupt \(its PNG data is damaged/],
    ['document.jpg', 'not-an-image', /not an image \(it is a PDF document\)/],
    ['bomb.png', 'too-large', /60,000 x 60,000 = 3,600,000,000 pixels; the limit is 100,000,000/],
    ['image.jxl', 'unsupported', /JPEG XL/],
    ['layers.psd', 'unsupported', /Photoshop/],
  ];
  for (const [name, code, message] of cases) {
    test(`${name} -> ${code}`, async () => {
      const e = await expectError(prepareImage(file(name), SPEC), code, file(name));
      assert.match(e.message, message);
    });
  }

  test('the decompression bomb is refused from its header, without decoding', async () => {
    const began = performance.now();
    await expectError(decodeToRgb(f['bomb.png']!), 'too-large', f['bomb.png']!);
    assert.ok(performance.now() - began < 1000);
  });

  test('Buffer inputs fail the same way, with source <buffer>', async () => {
    await expectError(prepareImage(Buffer.alloc(0), SPEC), 'empty', '<buffer>');
    await expectError(prepareImage(truncatedJpegBytes, SPEC), 'truncated', '<buffer>');
    const e = await expectError(prepareImage(Buffer.from('hello'), SPEC), 'not-an-image', '<buffer>');
    assert.match(e.message, /image buffer/);
  });

  test('an invalid spec or option is a programming error, not an ImageError', async () => {
    await assert.rejects(prepareImage(f['solid.png']!, { ...SPEC, size: 0 }), RangeError);
    await assert.rejects(prepareImage(f['solid.png']!, { ...SPEC, std: [0.25, 0, 0.25] }), RangeError);
    await assert.rejects(prepareImages([f['solid.png']!], SPEC, { maxPixels: -1 }), RangeError);
  });
});

describe('prepareImages', () => {
  test('good images succeed and bad ones fail alone, in order', async () => {
    const inputs = [f['solid.png']!, file('missing.jpg'), fs.readFileSync(f['photo.jpg']!), f['notes.jpg']!, f['truncated.jpg']!, HEIC, f['bomb.png']!];
    const out = await prepareImages(inputs, SPEC, { concurrency: 2 });
    assert.deepEqual(out.map((r) => (r.ok ? 'ok' : r.error.code)), ['ok', 'not-found', 'ok', 'not-an-image', 'truncated', 'ok', 'too-large']);
    assert.deepEqual(out[0], { ok: true, pixels: await prepareImage(f['solid.png']!, SPEC) });
    assert.deepEqual(out[2], { ok: true, pixels: await prepareImage(f['photo.jpg']!, SPEC) });
    assert.deepEqual(await prepareImages([], SPEC), []);
  });
});
