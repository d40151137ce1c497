// Language version 2: noun phrases. A `Described` says which attributes a phrase
// states; `realise` writes it with words drawn from the lexicon, `canonicalText`
// writes it with the canonical words answers use ("there is no large red circle").
import type { Scene, SceneObject } from './scene.ts';
import { COLOUR_WORDS, OBJECT_NOUNS, ROW_WORDS, SHAPE_NOUNS, SIZE_WORDS, type WordChooser } from './v2-lexicon.ts';
import { COLS, NUMBER_WORDS, placePhrase, type Col, type Row, type Shape, type Size } from './vocab.ts';

export interface Described {
  size?: Size;
  /** A world colour, or the absent colour "grey". */
  colour?: string;
  shape?: Shape;
  digit?: number;
  row?: Row;
  col?: Col;
}

export type Attr = 'shape' | 'colour' | 'size' | 'place' | 'digit';

/** "an orange star", "an 8", "an eight", but "a one". */
export function article(text: string): 'a' | 'an' {
  return /^([aeiou]|8)/.test(text) && !/^one\b/.test(text) ? 'an' : 'a';
}

export function withArticle(text: string): string {
  return `${article(text)} ${text}`;
}

/** "large red circle showing 3 at the top left", in canonical words. */
export function canonicalText(d: Described): string {
  const words = [d.size, d.colour, d.shape ?? 'object'].filter((x) => x !== undefined);
  let text = words.join(' ');
  if (d.digit !== undefined) text += ` showing ${d.digit}`;
  if (d.row !== undefined && d.col !== undefined) text += ` ${placePhrase(d.row, d.col)}`;
  return text;
}

/** A cell, in one of several wordings: "at the upper-left", "in the top left corner", "in the middle". */
export function realisePlace(row: Row, col: Col, w: WordChooser): string {
  if (row === 1 && col === 1) return w.word(['in the centre', 'at the centre', 'in the middle']);
  const r = w.word(ROW_WORDS[row] as readonly string[]);
  const c = COLS[col];
  const forms = [`at the ${r} ${c}`, `in the ${r} ${c}`, `at the ${r}-${c}`];
  if (row !== 1 && col !== 1) forms.push(`in the ${r} ${c} corner`);
  return w.pick(forms);
}

/** A row or column of the grid, or a half of it, as counting questions name them. */
export interface Region { row?: Row; col?: Col }

export function realiseRegion(region: Region, w: WordChooser): string {
  if (region.row !== undefined) {
    const r = w.word(ROW_WORDS[region.row] as readonly string[]);
    return region.row === 1 ? `in the ${r} row` : w.pick([`in the ${r} row`, `at the ${r}`]);
  }
  const c = COLS[region.col ?? 0];
  return region.col === 1 ? `in the ${c} column` : w.pick([`in the ${c} column`, `on the ${c}`, `on the ${c} side`]);
}

export function realiseDigit(digit: number, w: WordChooser): string {
  const d = w.word([String(digit), NUMBER_WORDS[digit] as string]);
  return w.pick([`showing ${d}`, `with ${withArticle(d)}`, `with the number ${d}`, `reading ${d}`]);
}

/** The phrase without article; `plural` for counted and "any" phrases. */
export function realise(d: Described, w: WordChooser, plural = false, allowShapeNoun = true): string {
  const words: string[] = [];
  if (d.size !== undefined) words.push(w.word(SIZE_WORDS[d.size]));
  if (d.colour !== undefined) words.push(d.colour in COLOUR_WORDS ? w.word(COLOUR_WORDS[d.colour as keyof typeof COLOUR_WORDS]) : d.colour);
  const nouns = d.shape !== undefined ? SHAPE_NOUNS[d.shape] : OBJECT_NOUNS.filter(([s]) => allowShapeNoun || s !== 'shape');
  const noun = w.noun(nouns, plural);
  words.push(plural ? noun[1] : noun[0]);
  let text = words.join(' ');
  if (d.digit !== undefined) text += ` ${realiseDigit(d.digit, w)}`;
  if (d.row !== undefined && d.col !== undefined) text += ` ${realisePlace(d.row, d.col, w)}`;
  return text;
}

export function describeObject(o: SceneObject, attrs: Partial<Record<Attr, boolean>>): Described {
  const d: Described = {};
  if (attrs.size) d.size = o.size;
  if (attrs.colour) d.colour = o.colour;
  if (attrs.shape) d.shape = o.shape;
  if (attrs.digit && o.digit !== null) d.digit = o.digit;
  if (attrs.place) Object.assign(d, { row: o.row, col: o.col });
  return d;
}

export function fitsDescription(o: SceneObject, d: Described): boolean {
  return (d.size === undefined || o.size === d.size) && (d.colour === undefined || o.colour === d.colour)
    && (d.shape === undefined || o.shape === d.shape) && (d.digit === undefined || o.digit === d.digit)
    && (d.row === undefined || o.row === d.row) && (d.col === undefined || o.col === d.col);
}

type Choice = Partial<Record<Attr, boolean>>;
const CANDIDATES: readonly Choice[] = [
  { shape: true }, { colour: true, shape: true }, { size: true, shape: true }, { size: true, colour: true, shape: true },
  { shape: true, place: true }, { shape: true, digit: true }, { colour: true }, { size: true }, { size: true, colour: true },
  { place: true }, { colour: true, shape: true, place: true },
];

/** The object alone, described without the attributes in `exclude`; null when no description is unique. */
export function uniqueDescription(o: SceneObject, scene: Scene, exclude: readonly Attr[], w: WordChooser): Described | null {
  const usable = CANDIDATES.filter((c) => exclude.every((a) => !c[a]) && (!c.digit || o.shape === 'sign'));
  const unique = usable.map((c) => describeObject(o, c)).filter((d) => scene.objects.filter((p) => fitsDescription(p, d)).length === 1);
  if (unique.length === 0) return null;
  return w.chance(0.6) ? (unique[0] as Described) : w.pick(unique);
}

/**
 * Something the scene does not hold, described without the attributes in `exclude`:
 * a missing shape, a missing colour-and-shape, size-and-shape, or a grey object.
 */
export function absentDescription(scene: Scene, exclude: readonly Attr[], w: WordChooser, allShapes: readonly Shape[], colours: readonly string[]): Described | null {
  const options: Described[] = [];
  const none = (d: Described) => !scene.objects.some((o) => fitsDescription(o, d));
  for (const shape of allShapes) {
    if (!exclude.includes('shape')) {
      options.push({ shape });
      if (!exclude.includes('colour')) for (const colour of colours) options.push({ colour, shape });
      if (!exclude.includes('size')) for (const size of ['small', 'large'] as const) if (shape !== 'sign') options.push({ size, shape });
    }
  }
  if (exclude.includes('shape') && !exclude.includes('colour')) for (const colour of colours) options.push({ colour });
  const absent = options.filter(none);
  return absent.length === 0 ? null : w.pick(absent);
}
