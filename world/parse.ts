// Text -> claims about a scene, and the check of claims against a scene graph.
// Driven by the vocabulary, not by the generator's templates, so it reads
// held-out phrasings and model output alike, and serves as the independent
// judge of captions and hard negatives.
import type { SceneGraph } from './scene.ts';
import {
  COLOURS, NUMBER_WORDS, PLURAL, SCENE_WORDS, SHAPES, SIZES, SYNONYMS, relationHolds,
  type Colour, type Relation, type SceneType, type Shape, type Size,
} from './vocab.ts';
import { ABSENT_COLOUR, V2_SYNONYMS } from './v2-lexicon.ts';

export interface NounPhrase {
  count: number;
  /** null: "object", any shape. */
  shape: Shape | null;
  /** A world colour, or grey, which no object has (language 2 asks about it). */
  colour?: Colour | typeof ABSENT_COLOUR;
  size?: Size;
  digit?: number;
  row?: 0 | 1 | 2;
  col?: 0 | 1 | 2;
}

export interface Claims {
  scene: SceneType | null;
  objects: NounPhrase[];
  relations: Array<{ a: number; rel: Relation; b: number }>;
}

const SINGULAR = new Map<string, Shape>(SHAPES.flatMap((s) => [[s, s], [PLURAL[s], s]] as Array<[string, Shape]>));
const IS_PLURAL = new Set<string>([...Object.values(PLURAL), 'objects', 'things', 'shapes']);
const OBJECT_NOUNS = new Set(['object', 'objects', 'thing', 'things', 'shape', 'shapes']);
const COLOUR_SET = new Set<string>([...COLOURS, ABSENT_COLOUR]);
const SIZE_SET = new Set<string>(SIZES);
const ROW_WORDS: Record<string, 0 | 1 | 2> = { top: 0, middle: 1, bottom: 2 };
const COL_WORDS: Record<string, 0 | 1 | 2> = { left: 0, centre: 1, right: 2 };

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter((t) => t.length > 0)
    .map((t) => SYNONYMS[t] ?? V2_SYNONYMS[t] ?? t);
}

function countWord(token: string | undefined): number | null {
  if (token === undefined) return null;
  if (token === 'a' || token === 'an') return 1;
  return numberWord(token);
}

/** "7" or "seven". */
function numberWord(token: string | undefined): number | null {
  if (token === undefined) return null;
  const w = (NUMBER_WORDS as readonly string[]).indexOf(token);
  if (w >= 0) return w;
  return /^\d+$/.test(token) ? Number(token) : null;
}

/**
 * A place phrase starting at tokens[i]: "at the top left", "in the centre", "in the middle",
 * "on the left", "in the top right corner", "in the left column", "in the bottom row".
 * "on the left of" is a relation, not a place, so it is left to the relation reader.
 */
function readPlace(tokens: readonly string[], i: number): { row?: 0 | 1 | 2; col?: 0 | 1 | 2; end: number } | null {
  if (!['at', 'in', 'on'].includes(tokens[i] ?? '')) return null;
  let j = i + 1;
  if (tokens[j] === 'the') j++;
  let row: 0 | 1 | 2 | undefined;
  let col: 0 | 1 | 2 | undefined;
  const t = tokens[j];
  if (t !== undefined && t in ROW_WORDS) {
    row = ROW_WORDS[t];
    j++;
  }
  const c = tokens[j];
  if (c !== undefined && c in COL_WORDS) {
    col = COL_WORDS[c];
    j++;
  }
  if (row === undefined && col === undefined) return null;
  if (tokens[j] === 'of') return null;
  const line = tokens[j] === 'row' || tokens[j] === 'column';
  // "the centre" or "the middle" alone is the middle cell; "top centre" is the top row's middle.
  if (!line && row === 1 && col === undefined) col = 1;
  else if (!line && col === 1 && row === undefined) row = 1;
  if (line || tokens[j] === 'corner' || tokens[j] === 'side') j++;
  return { row, col, end: j };
}

/** The digit on a sign: "sign showing 7", "sign with the number 7". */
function readDigit(tokens: readonly string[], i: number): { digit: number; end: number } | null {
  let j = i;
  if (tokens[j] === 'showing' || tokens[j] === 'with' || tokens[j] === 'reading') j++;
  else return null;
  if (tokens[j] === 'the' || tokens[j] === 'a' || tokens[j] === 'an') j++;
  if (tokens[j] === 'number' || tokens[j] === 'digit') j++;
  const n = numberWord(tokens[j]);
  return n !== null && n <= 9 ? { digit: n, end: j + 1 } : null;
}

function readRelation(tokens: readonly string[], from: number, to: number): Relation | null {
  const span = tokens.slice(from, to).join(' ');
  if (/\bleft of\b/.test(span)) return 'left of';
  if (/\bright of\b/.test(span)) return 'right of';
  if (/\b(above|over)\b/.test(span)) return 'above';
  if (/\b(below|under|beneath)\b/.test(span)) return 'below';
  return null;
}

export function readScene(tokens: readonly string[]): SceneType | null {
  for (const [scene, words] of SCENE_WORDS) if (tokens.some((t) => words.includes(t))) return scene;
  return null;
}

export function parseClaims(text: string): Claims {
  const tokens = tokenize(text);
  const objects: NounPhrase[] = [];
  const spans: Array<{ start: number; end: number }> = [];
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i] as string;
    const shape = SINGULAR.get(word);
    if (shape === undefined && !OBJECT_NOUNS.has(word)) continue;
    const np: NounPhrase = { count: IS_PLURAL.has(word) ? 2 : 1, shape: shape ?? null };
    let start = i;
    // Modifiers are read back to the end of the previous phrase, so its digit ("a sign showing 6,
    // small crosses") is never taken for this one's count.
    const floor = spans.length > 0 ? (spans[spans.length - 1] as { end: number }).end : 0;
    for (let k = i - 1; k >= floor; k--) {
      const m = tokens[k] as string;
      if (COLOUR_SET.has(m) && np.colour === undefined) np.colour = m as Colour;
      else if (SIZE_SET.has(m) && np.size === undefined) np.size = m as Size;
      else {
        const n = countWord(m);
        if (n !== null) {
          np.count = n;
          start = k;
        }
        break;
      }
      start = k;
    }
    // "shape" after a colour ("the red shape") is a noun; bare "shape" in a question is not an object.
    if (shape === undefined && np.colour === undefined && np.size === undefined && start === i && !['object', 'objects', 'thing', 'things'].includes(word)) continue;
    let end = i + 1;
    if (shape === 'sign') {
      const d = readDigit(tokens, end);
      if (d !== null) {
        np.digit = d.digit;
        end = d.end;
      }
    }
    const place = readPlace(tokens, end);
    if (place !== null) {
      if (place.row !== undefined) np.row = place.row;
      if (place.col !== undefined) np.col = place.col;
      end = place.end;
    }
    objects.push(np);
    spans.push({ start, end });
    i = end - 1;
  }
  const relations: Claims['relations'] = [];
  for (let k = 0; k + 1 < spans.length; k++) {
    const rel = readRelation(tokens, (spans[k] as { end: number }).end, (spans[k + 1] as { start: number }).start);
    if (rel !== null) relations.push({ a: k, rel, b: k + 1 });
  }
  return { scene: readScene(tokens), objects, relations };
}

type GraphObject = SceneGraph['objects'][number];

export function matchesPhrase(o: GraphObject, np: NounPhrase): boolean {
  return (np.shape === null || o.shape === np.shape) && (np.colour === undefined || o.colour === np.colour)
    && (np.size === undefined || o.size === np.size) && (np.digit === undefined || o.digit === np.digit)
    && (np.row === undefined || o.row === np.row) && (np.col === undefined || o.col === np.col);
}

/**
 * True when the scene makes every claim true: the scene type, each noun phrase
 * matched by its own distinct objects (as many as it counts), and each relation
 * between the objects chosen for its two phrases.
 */
export function claimsHold(claims: Claims, graph: SceneGraph): boolean {
  if (claims.scene !== null && claims.scene !== graph.scene) return false;
  const chosen: GraphObject[][] = [];
  const used = new Set<number>();
  const relationsOk = (upTo: number) =>
    claims.relations.every((r) => {
      if (r.a >= upTo || r.b >= upTo) return true;
      const a = chosen[r.a]?.[0];
      const b = chosen[r.b]?.[0];
      // A relation to a phrase that claims no object ("no circles") cannot hold.
      return a !== undefined && b !== undefined && relationHolds(a, r.rel, b);
    });
  const pickFor = (k: number, need: number, from: number, acc: GraphObject[]): boolean => {
    if (need === 0) {
      chosen[k] = acc;
      return relationsOk(k + 1) && assign(k + 1);
    }
    const np = claims.objects[k] as NounPhrase;
    for (let j = from; j < graph.objects.length; j++) {
      const o = graph.objects[j] as GraphObject;
      if (used.has(o.id) || !matchesPhrase(o, np)) continue;
      used.add(o.id);
      const ok = pickFor(k, need - 1, j + 1, [...acc, o]);
      used.delete(o.id);
      if (ok) return true;
    }
    return false;
  };
  const assign = (k: number): boolean => {
    if (k === claims.objects.length) return true;
    const np = claims.objects[k] as NounPhrase;
    if (np.count === 0) {
      chosen[k] = [];
      return !graph.objects.some((o) => matchesPhrase(o, np)) && relationsOk(k + 1) && assign(k + 1);
    }
    return pickFor(k, np.count, 0, []);
  };
  return assign(0);
}
