// Scorers for benchmarks and tests: QA exact match, caption object F1 and
// hallucination, retrieval recall@k both ways, compositional accuracy.
import { parseClaims, readScene, tokenize } from './parse.ts';
import type { SceneGraph } from './scene.ts';
import { NUMBER_WORDS, PLURAL, SCENE_WORDS, SHAPES } from './vocab.ts';

const ARTICLES = new Set(['a', 'an', 'the']);
const PLACE_ROWS = new Set(['top', 'middle', 'bottom']);
const PLACE_COLS = new Set(['left', 'centre', 'right']);
const YES = new Set(['yes', 'yeah', 'yep', 'yup', 'correct', 'true']);
const NO = new Set(['no', 'nope', 'false', 'incorrect']);
const SINGULAR_NOUNS = new Map<string, string>([...SHAPES.map((s) => [PLURAL[s], s] as [string, string]), ['objects', 'object'], ['things', 'object'], ['thing', 'object']]);
const NOUNS = new Set<string>([...SHAPES, 'object']);
/** Words that may surround a scene's name in an answer: "on the beach", "by the sea", "a night scene". */
const SCENE_CONTEXT = new Set(['in', 'on', 'at', 'by', 'under', 'among', 'sky', 'time', 'scene', 'landscape', 'field', ...SCENE_WORDS.flatMap(([, w]) => w)]);

/**
 * "there is no star", "there are no red stars", "there isn't any star", "no stars", "I don't
 * see a star" -> "no star"; null when the tokens say no such thing.
 */
function readAbsence(tokens: readonly string[]): string | null {
  const text = ` ${tokens.join(' ')} `;
  const m = / there (?:is|are|s) no (.+) $/.exec(text) ?? / there (?:isn t|aren t|is not|are not) (?:any )?(.+) $/.exec(text)
    ?? / i (?:don t|do not|cannot|can t) see (?:any )?(.+) $/.exec(text) ?? /^ no (.+) $/.exec(text);
  if (m === null) return null;
  const desc = (m[1] as string).split(' ').filter((t) => !['in', 'picture', 'image', 'photo', 'here', 'there'].includes(t))
    .map((t) => SINGULAR_NOUNS.get(t) ?? t);
  return desc.length > 0 && NOUNS.has(desc[desc.length - 1] as string) ? `no ${desc.join(' ')}` : null;
}

/**
 * Case, punctuation, articles, number words, synonyms and spelling variants (language 2's
 * too: "crimson disc" is "red circle"), place names and their order, scene phrasings,
 * leading yes/no, and statements of absence ("there are no stars" is "no star").
 */
export function normalizeAnswer(text: string): string {
  let tokens = tokenize(text).filter((t) => !ARTICLES.has(t));
  tokens = tokens.map((t) => {
    const n = (NUMBER_WORDS as readonly string[]).indexOf(t);
    return n >= 0 ? String(n) : t;
  });
  const absent = readAbsence(tokens);
  if (absent !== null) return absent;
  if (tokens.length > 0 && YES.has(tokens[0] as string)) return 'yes';
  if (tokens.length > 0 && NO.has(tokens[0] as string)) return 'no';
  if (tokens.length === 1 && (tokens[0] === 'none' || tokens[0] === 'nothing')) return 'nothing';
  tokens = tokens.filter((t) => t !== 'corner' && t !== 'side' && t !== 'of' && t !== 'picture' && t !== 'image');
  // "the number 7", "there are 3": the value alone.
  if (tokens.length >= 2 && /^\d+$/.test(tokens[tokens.length - 1] as string)
    && tokens.slice(0, -1).every((t) => ['number', 'digit', 'there', 'is', 'are', 's'].includes(t))) tokens = tokens.slice(-1);
  // "in the top left", "at the centre": the place alone.
  if (tokens.length >= 2 && ['at', 'in', 'on'].includes(tokens[0] as string) && tokens.slice(1).every((t) => PLACE_ROWS.has(t) || PLACE_COLS.has(t))) tokens = tokens.slice(1);
  // "left top" -> "top left"; "middle centre", "centre" -> "centre".
  if (tokens.length === 2 && PLACE_COLS.has(tokens[0] as string) && PLACE_ROWS.has(tokens[1] as string)) tokens.reverse();
  if (tokens.length <= 2 && tokens.every((t) => PLACE_ROWS.has(t) || PLACE_COLS.has(t))) {
    const joined = tokens.join(' ');
    if (joined === 'middle centre' || joined === 'middle' || joined === 'centre middle') tokens = ['centre'];
  }
  const scene = tokens.length <= 4 && tokens.every((t) => SCENE_CONTEXT.has(t)) ? readScene(tokens) : null;
  if (scene !== null) return scene;
  return tokens.join(' ');
}

/** Equal after normalisation; a yes/no answer also accepts a statement of absence as "no", a count of 0 "none". */
export function exactMatch(prediction: string, answer: string): boolean {
  const gold = normalizeAnswer(answer);
  const said = normalizeAnswer(prediction);
  if (gold === 'no' && said.startsWith('no ')) return true;
  if (gold === '0' && said === 'nothing') return true;
  return said === gold;
}

export interface Rate { correct: number; total: number; accuracy: number }
const rate = (correct: number, total: number): Rate => ({ correct, total, accuracy: total === 0 ? 0 : correct / total });

/** Overall and per-group rates of a list of right/wrong outcomes. */
function tally(outcomes: ReadonlyArray<{ group: string; ok: boolean }>): { overall: Rate; groups: Record<string, Rate> } {
  const counts = new Map<string, [number, number]>();
  let correct = 0;
  for (const { group, ok } of outcomes) {
    correct += ok ? 1 : 0;
    const c = counts.get(group) ?? [0, 0];
    counts.set(group, [c[0] + (ok ? 1 : 0), c[1] + 1]);
  }
  const groups: Record<string, Rate> = {};
  for (const [group, [c, t]] of [...counts].sort(([x], [y]) => x.localeCompare(y))) groups[group] = rate(c, t);
  return { overall: rate(correct, outcomes.length), groups };
}

export function qaAccuracy(items: ReadonlyArray<{ type: string; prediction: string; answer: string }>): { overall: Rate; byType: Record<string, Rate> } {
  const { overall, groups } = tally(items.map((i) => ({ group: i.type, ok: exactMatch(i.prediction, i.answer) })));
  return { overall, byType: groups };
}

/**
 * QA on seen wordings (`qa`) and held-out ones (`qaHeldOut`), each overall and by type, and,
 * when the items carry language 2's `wording` (seen, new-template, new-combination), overall
 * per wording kind (`qaByWording`): what training (score-cli.ts) and `npm run bench` report.
 */
export function qaReport(items: ReadonlyArray<{ type: string; prediction: string; answer: string; heldOut: boolean; wording?: string }>): {
  qa: ReturnType<typeof qaAccuracy>; qaHeldOut: ReturnType<typeof qaAccuracy>; qaByWording?: Record<string, Rate>;
} {
  const report: ReturnType<typeof qaReport> = { qa: qaAccuracy(items.filter((q) => !q.heldOut)), qaHeldOut: qaAccuracy(items.filter((q) => q.heldOut)) };
  const wordings = [...new Set(items.flatMap((q) => (q.wording === undefined ? [] : [q.wording])))].sort();
  if (wordings.length > 0) report.qaByWording = Object.fromEntries(wordings.map((w) => [w, qaAccuracy(items.filter((q) => q.wording === w)).overall]));
  return report;
}

export interface CaptionScores {
  precision: number;
  recall: number;
  f1: number;
  /** CHAIR-i: mentioned objects whose kind of shape is nowhere in the image, over all mentioned objects. */
  hallucination: number;
  mentioned: number;
  truth: number;
}

/**
 * Object-level scores, micro-averaged: each caption is parsed to objects, which
 * match the image's objects one to one on shape, colour and the attributes the
 * caption states (size, digit).
 */
export function captionScores(items: ReadonlyArray<{ caption: string; graph: SceneGraph }>): CaptionScores {
  let matched = 0;
  let mentioned = 0;
  let truth = 0;
  let hallucinated = 0;
  for (const { caption, graph } of items) {
    const claims = parseClaims(caption);
    const free = graph.objects.slice();
    truth += graph.objects.length;
    for (const np of claims.objects) {
      for (let n = 0; n < np.count; n++) {
        mentioned++;
        if (np.shape !== null && !graph.objects.some((o) => o.shape === np.shape)) hallucinated++;
        const k = free.findIndex((o) => (np.shape === null || o.shape === np.shape) && (np.colour === undefined || o.colour === np.colour)
          && (np.size === undefined || o.size === np.size) && (np.digit === undefined || o.digit === np.digit));
        if (k >= 0 && np.shape !== null && np.colour !== undefined) {
          matched++;
          free.splice(k, 1);
        }
      }
    }
  }
  const precision = mentioned === 0 ? 0 : matched / mentioned;
  const recall = truth === 0 ? 0 : matched / truth;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, hallucination: mentioned === 0 ? 0 : hallucinated / mentioned, mentioned, truth };
}

export interface Recall { r1: number; r5: number; r10: number }
export interface RetrievalScores { textToImage: Recall; imageToText: Recall }

/**
 * `similarity` is images x texts, row-major; `textImage[j]` is the image text j
 * describes. Ties count against the truth: an item ranks below every item scoring
 * the same or higher, so a constant similarity scores no better than chance.
 */
export function retrievalRecall(similarity: Float32Array | Float64Array | number[], images: number, textImage: readonly number[]): RetrievalScores {
  const texts = textImage.length;
  if (similarity.length !== images * texts) throw new Error(`similarity has ${similarity.length} entries, expected ${images} x ${texts}`);
  const sim = (i: number, j: number) => similarity[i * texts + j] as number;
  const ks = [1, 5, 10] as const;
  const t2i = [0, 0, 0];
  for (let j = 0; j < texts; j++) {
    const truth = textImage[j] as number;
    const s = sim(truth, j);
    let rank = 0;
    for (let i = 0; i < images; i++) if (i !== truth && sim(i, j) >= s) rank++;
    ks.forEach((k, n) => { if (rank < k) t2i[n] = (t2i[n] as number) + 1; });
  }
  const textsOf: number[][] = Array.from({ length: images }, () => []);
  textImage.forEach((img, j) => textsOf[img]?.push(j));
  const i2t = [0, 0, 0];
  for (let i = 0; i < images; i++) {
    const own = new Set(textsOf[i]);
    if (own.size === 0) continue;
    let best = -Infinity;
    for (const j of own) best = Math.max(best, sim(i, j));
    let rank = 0;
    for (let j = 0; j < texts; j++) if (!own.has(j) && sim(i, j) >= best) rank++;
    ks.forEach((k, n) => { if (rank < k) i2t[n] = (i2t[n] as number) + 1; });
  }
  const withTexts = textsOf.filter((t) => t.length > 0).length;
  const recall = (hits: number[], total: number): Recall => ({
    r1: total === 0 ? 0 : (hits[0] as number) / total,
    r5: total === 0 ? 0 : (hits[1] as number) / total,
    r10: total === 0 ? 0 : (hits[2] as number) / total,
  });
  return { textToImage: recall(t2i, texts), imageToText: recall(i2t, withTexts) };
}

/** A probe counts as right when the true caption scores strictly above its hard negative. */
export function compositionalAccuracy(items: ReadonlyArray<{ category: string; positive: number; negative: number }>): { overall: Rate; byCategory: Record<string, Rate> } {
  const { overall, groups } = tally(items.map((i) => ({ group: i.category, ok: i.positive > i.negative })));
  return { overall, byCategory: groups };
}
