// Scene -> SVG -> RGB pixels. librsvg (through sharp) rasterises; the photo-like
// nuisance that SVG cannot express (exposure, sensor noise) is added in JS with
// the image's own random stream, and JPEG artefacts by a real JPEG round trip.
import sharp, { type Sharp } from 'sharp';
import { Rng } from './rng.ts';
import type { Scene, SceneObject } from './scene.ts';
import type { Colour, SceneType } from './vocab.ts';

// The library renders many tiny images at once: parallelism comes from many
// images in flight, not from threads inside one image.
sharp.concurrency(1);
sharp.cache(false);

export const COLOUR_HEX: Record<Colour, string> = {
  red: '#d92b2b', orange: '#f28a1a', yellow: '#f2d21f', green: '#2fae3c', blue: '#2b59d9',
  purple: '#8a35c9', pink: '#f27ab8', white: '#f7f7f7', black: '#1c1c1c',
};

interface Backdrop { skyTop: string; skyBottom: string; groundTop: string; groundBottom: string }

const BACKDROPS: Record<SceneType, readonly Backdrop[]> = {
  meadow: [
    { skyTop: '#5f9fe0', skyBottom: '#cfe6fa', groundTop: '#7cbf5a', groundBottom: '#3f8a2e' },
    { skyTop: '#78b2ea', skyBottom: '#e2f0fb', groundTop: '#8fcb62', groundBottom: '#4c9636' },
  ],
  beach: [
    { skyTop: '#4aa3e8', skyBottom: '#bfe4fb', groundTop: '#f0dca6', groundBottom: '#d9bf7c' },
    { skyTop: '#63b4ee', skyBottom: '#d3edfc', groundTop: '#f3e2b3', groundBottom: '#dcc386' },
  ],
  snow: [
    { skyTop: '#a9b8c9', skyBottom: '#e3e9f0', groundTop: '#f4f8fc', groundBottom: '#d5e0ec' },
    { skyTop: '#b7c4d3', skyBottom: '#eef2f6', groundTop: '#fbfdff', groundBottom: '#dbe5ef' },
  ],
  night: [
    { skyTop: '#060b1f', skyBottom: '#1b2552', groundTop: '#26324a', groundBottom: '#121a2b' },
    { skyTop: '#0a0f28', skyBottom: '#22305e', groundTop: '#2b364d', groundBottom: '#151c2e' },
  ],
  desert: [
    { skyTop: '#e9a65a', skyBottom: '#f8dcae', groundTop: '#e3b26b', groundBottom: '#c4873e' },
    { skyTop: '#eeb06a', skyBottom: '#fae4bd', groundTop: '#e8bb78', groundBottom: '#c98f48' },
  ],
};

function shade(hex: string, factor: number): string {
  const n = parseInt(hex.slice(1), 16);
  const ch = (v: number) => Math.max(0, Math.min(255, Math.round(v * factor))).toString(16).padStart(2, '0');
  return `#${ch((n >> 16) & 255)}${ch((n >> 8) & 255)}${ch(n & 255)}`;
}

const f = (v: number) => v.toFixed(2);
const points = (pts: Array<[number, number]>) => pts.map(([x, y]) => `${f(x)},${f(y)}`).join(' ');

function backdropSvg(scene: Scene, size: number, rng: Rng): string {
  const look = BACKDROPS[scene.scene][scene.backdrop.variant % 2] as Backdrop;
  const h = scene.backdrop.horizon * size;
  let extra = '';
  if (scene.scene === 'beach') {
    // A band of sea between sky and sand.
    extra += `<rect x="0" y="${f(h - size * 0.06)}" width="${size}" height="${f(size * 0.06)}" fill="#2f7fc1"/>`;
  } else if (scene.scene === 'night') {
    for (let i = 0; i < 14; i++) {
      const r = size * rng.uniform(0.004, 0.009);
      extra += `<circle cx="${f(rng.uniform(0, size))}" cy="${f(rng.uniform(0, h * 0.9))}" r="${f(r)}" fill="#e8ecff" opacity="${f(rng.uniform(0.4, 0.9))}"/>`;
    }
  } else if (scene.scene === 'desert') {
    const y = h + size * 0.12;
    extra += `<path d="M0 ${f(y)} Q ${f(size * 0.3)} ${f(y - size * 0.1)} ${f(size * 0.6)} ${f(y)} T ${size} ${f(y)} L ${size} ${size} L 0 ${size} Z" fill="${shade(look.groundBottom, 0.95)}" opacity="0.55"/>`;
  } else if (scene.scene === 'meadow') {
    for (let i = 0; i < 10; i++) {
      const x = rng.uniform(0, size);
      const y = rng.uniform(h + size * 0.03, size);
      extra += `<path d="M${f(x)} ${f(y)} l ${f(size * 0.01)} ${f(-size * 0.03)}" stroke="#2f6e22" stroke-width="${f(size * 0.008)}" opacity="0.6"/>`;
    }
  } else {
    for (let i = 0; i < 6; i++) {
      extra += `<ellipse cx="${f(rng.uniform(0, size))}" cy="${f(rng.uniform(h + size * 0.05, size))}" rx="${f(size * 0.08)}" ry="${f(size * 0.015)}" fill="#c9d6e4" opacity="0.5"/>`;
    }
  }
  return `<defs>
<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${look.skyTop}"/><stop offset="1" stop-color="${look.skyBottom}"/></linearGradient>
<linearGradient id="ground" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${look.groundTop}"/><stop offset="1" stop-color="${look.groundBottom}"/></linearGradient>
</defs><rect width="${size}" height="${f(h)}" fill="url(#sky)"/><rect y="${f(h)}" width="${size}" height="${f(size - h)}" fill="url(#ground)"/>${extra}`;
}

/** Seven-segment digits: which of the segments a..g are lit. */
const SEGMENTS: readonly string[] = [
  'abcdef', 'bc', 'abdeg', 'abcdg', 'bcfg', 'acdfg', 'acdefg', 'abc', 'abcdefg', 'abcdfg',
];

function digitSvg(digit: number, cx: number, cy: number, h: number, ink: string): string {
  const w = h * 0.55;
  const x0 = cx - w / 2;
  const x1 = cx + w / 2;
  const y0 = cy - h / 2;
  const ym = cy;
  const y1 = cy + h / 2;
  const seg: Record<string, [number, number, number, number]> = {
    a: [x0, y0, x1, y0], b: [x1, y0, x1, ym], c: [x1, ym, x1, y1], d: [x0, y1, x1, y1],
    e: [x0, ym, x0, y1], f: [x0, y0, x0, ym], g: [x0, ym, x1, ym],
  };
  const lit = SEGMENTS[digit] ?? '';
  const d = [...lit].map((s) => {
    const [ax, ay, bx, by] = seg[s] as [number, number, number, number];
    return `M${f(ax)} ${f(ay)} L${f(bx)} ${f(by)}`;
  }).join(' ');
  return `<path d="${d}" stroke="${ink}" stroke-width="${f(h * 0.2)}" stroke-linecap="round" fill="none"/>`;
}

/**
 * Where an object is drawn: centre and half-extent in pixels. Large objects reach
 * 0.37 of a cell, small ones 0.21; with the largest jitter an object still stays
 * inside its own cell, so no object ever hides another.
 */
export function objectExtent(o: SceneObject, size: number): { cx: number; cy: number; r: number } {
  const cell = size / 3;
  return {
    cx: (o.col + 0.5 + o.jitter.dx) * cell,
    cy: (o.row + 0.5 + o.jitter.dy) * cell,
    r: cell * (o.size === 'large' ? 0.37 : 0.21) * o.jitter.scale,
  };
}

function objectSvg(o: SceneObject, size: number, index: number): string {
  const { cx, cy, r } = objectExtent(o, size);
  const base = COLOUR_HEX[o.colour];
  const fill = `url(#o${index})`;
  const outline = o.colour === 'black' ? '#8a8a8a' : shade(base, 0.55);
  const sw = f(Math.max(0.6, size / 90));
  const grad = `<defs><linearGradient id="o${index}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${shade(base, 1.18)}"/><stop offset="1" stop-color="${shade(base, 0.8)}"/></linearGradient></defs>`;
  const paint = `fill="${fill}" stroke="${outline}" stroke-width="${sw}" stroke-linejoin="round"`;
  switch (o.shape) {
    case 'circle':
      return `${grad}<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r)}" ${paint}/>`;
    case 'square': {
      const s = r * 0.86;
      return `${grad}<rect x="${f(cx - s)}" y="${f(cy - s)}" width="${f(2 * s)}" height="${f(2 * s)}" ${paint}/>`;
    }
    case 'triangle':
      return `${grad}<polygon points="${points([[cx, cy - r], [cx + r * 0.95, cy + r * 0.8], [cx - r * 0.95, cy + r * 0.8]])}" ${paint}/>`;
    case 'diamond':
      return `${grad}<polygon points="${points([[cx, cy - r], [cx + r * 0.7, cy], [cx, cy + r], [cx - r * 0.7, cy]])}" ${paint}/>`;
    case 'star': {
      const pts: Array<[number, number]> = [];
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 === 0 ? r : r * 0.45;
        pts.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a) + r * 0.08]);
      }
      return `${grad}<polygon points="${points(pts)}" ${paint}/>`;
    }
    case 'cross': {
      const a = r * 0.32;
      const b = r * 0.92;
      return `${grad}<polygon points="${points([
        [cx - a, cy - b], [cx + a, cy - b], [cx + a, cy - a], [cx + b, cy - a], [cx + b, cy + a], [cx + a, cy + a],
        [cx + a, cy + b], [cx - a, cy + b], [cx - a, cy + a], [cx - b, cy + a], [cx - b, cy - a], [cx - a, cy - a],
      ])}" ${paint}/>`;
    }
    case 'heart': {
      const top = cy - r * 0.45;
      const d = `M${f(cx)} ${f(cy + r * 0.95)} C ${f(cx - r * 1.3)} ${f(cy + r * 0.1)} ${f(cx - r * 1.0)} ${f(cy - r * 1.05)} ${f(cx)} ${f(top)} C ${f(cx + r * 1.0)} ${f(cy - r * 1.05)} ${f(cx + r * 1.3)} ${f(cy + r * 0.1)} ${f(cx)} ${f(cy + r * 0.95)} Z`;
      return `${grad}<path d="${d}" ${paint}/>`;
    }
    case 'sign': {
      // A board on a post; the digit in a contrasting ink so it reads on any colour.
      const bw = r * 0.9;
      const bh = r * 0.78;
      const by = cy - r * 0.22;
      const ink = ['white', 'yellow', 'pink', 'orange'].includes(o.colour) ? '#111111' : '#ffffff';
      return `${grad}<rect x="${f(cx - r * 0.07)}" y="${f(by)}" width="${f(r * 0.14)}" height="${f(cy + r - by)}" fill="#6b4a2b"/>`
        + `<rect x="${f(cx - bw)}" y="${f(by - bh)}" width="${f(2 * bw)}" height="${f(2 * bh)}" rx="${f(r * 0.12)}" ${paint}/>`
        + digitSvg(o.digit ?? 0, cx, by, bh * 1.35, ink);
    }
  }
}

export function sceneToSvg(scene: Scene, size: number, rng: Rng): string {
  const body = backdropSvg(scene, size, rng) + scene.objects.map((o, i) => objectSvg(o, size, i)).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">${body}</svg>`;
}

// Sensor noise is read from one fixed table of standard normals at a random offset
// per image: drawing fresh normals per pixel cost more than rasterising the SVG.
const NOISE_MASK = (1 << 20) - 1;
let noiseValues: Float32Array | null = null;
function noiseTable(): Float32Array {
  if (noiseValues === null) {
    const rng = new Rng('sensor-noise');
    noiseValues = new Float32Array(NOISE_MASK + 1);
    for (let i = 0; i < noiseValues.length; i++) noiseValues[i] = rng.normal();
  }
  return noiseValues;
}

export interface RenderOptions {
  size: number;
  /** Standard deviation of the Gaussian sensor noise, in 0..255 levels. */
  noise: number;
  /** JPEG quality of a round trip that leaves its artefacts in the pixels; null for none. */
  jpegQuality: number | null;
}

/** Renders to packed RGB, size x size x 3, uint8. */
export async function renderScene(scene: Scene, options: RenderOptions, rng: Rng): Promise<Buffer> {
  const { size } = options;
  const svg = sceneToSvg(scene, size, rng);
  const rgb = await sharp(Buffer.from(svg), { density: 72 }).removeAlpha().raw().toBuffer();
  if (rgb.length !== size * size * 3) throw new Error(`renderer produced ${rgb.length} bytes, expected ${size * size * 3}`);
  const light = scene.backdrop.light;
  const table = noiseTable();
  const offset = rng.nextUint32();
  for (let i = 0; i < rgb.length; i++) {
    const v = (rgb[i] as number) * light + (table[(offset + i) & NOISE_MASK] as number) * options.noise;
    rgb[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  if (options.jpegQuality === null) return rgb;
  const raw = { width: size, height: size, channels: 3 as const };
  const jpeg = await sharp(rgb, { raw }).jpeg({ quality: options.jpegQuality, chromaSubsampling: '4:2:0' }).toBuffer();
  return sharp(jpeg).removeAlpha().raw().toBuffer();
}

/** Encodes packed RGB as a JPEG file. */
export function encodeJpeg(rgb: Buffer, size: number, quality: number): Sharp {
  return sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality, chromaSubsampling: '4:2:0' });
}
