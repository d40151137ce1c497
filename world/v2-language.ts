// Language version 2 of one image, and its vocabulary. Version 1 (questions.ts,
// captions.ts) stays the default, byte for byte; version 2 is opt-in (`--language 2`).
import { makeProbes, type Probe } from './probes.ts';
import type { Rng } from './rng.ts';
import { toSceneGraph, type Scene, type SceneGraph } from './scene.ts';
import { makeCaptionsV2, makeSearchesV2, type CaptionV2, type SearchV2 } from './v2-captions.ts';
import { ABSENT_COLOUR, americanise, COLOUR_WORDS, V2_SYNONYMS, OBJECT_NOUNS, ROW_WORDS, SCENE_LEXICON, SHAPE_NOUNS, SIZE_WORDS } from './v2-lexicon.ts';
import { makeQuestionsV2, moreQuestionsV2, type QuestionV2 } from './v2-questions.ts';
import type { LanguageOptions } from './generate.ts';
import { QUESTION_TYPES } from './questions.ts';
import { COLS, NUMBER_WORDS, ROWS, SCENE_TYPES } from './vocab.ts';

export interface WorldItemV2 {
  graph: SceneGraph;
  captions: CaptionV2[];
  searches: SearchV2[];
  questions: QuestionV2[];
  probes: Probe[];
}

/** Search texts per image from seen templates (the test split adds the held-out ones). */
export const SEARCHES_PER_IMAGE = 2;

export function languageV2(scene: Scene, rng: Rng, options: LanguageOptions): WorldItemV2 {
  const item: WorldItemV2 = {
    graph: toSceneGraph(scene),
    captions: makeCaptionsV2(scene, rng, options.captions, options.heldOut),
    searches: makeSearchesV2(scene, rng, SEARCHES_PER_IMAGE, options.heldOut),
    questions: makeQuestionsV2(scene, rng, options.heldOut),
    probes: options.probes ? makeProbes(scene, rng) : [],
  };
  // Drawn last, so every other text of the item is what it is without them.
  for (const type of QUESTION_TYPES) {
    const n = options.more?.[type] ?? 0;
    if (n > 0) item.questions.push(...moreQuestionsV2(scene, rng, type, n, item.questions));
  }
  return item;
}

/** The words of one text as the vocabulary counts them: lower case, split on anything but a-z0-9. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0);
}

/** Every text of an item: captions, searches, questions, answers and probes. */
export function textsOf(item: WorldItemV2): string[] {
  return [
    ...item.captions.map((c) => c.text), ...item.searches.map((s) => s.text),
    ...item.questions.flatMap((q) => [q.question, q.answer]), ...item.probes.flatMap((p) => [p.positive, p.negative]),
  ];
}

/** Every word of the lexicon, in both spellings; what the templates add is found by running them. */
export function lexiconWords(): string[] {
  const texts = [
    ...Object.values(SHAPE_NOUNS).flat(2), ...OBJECT_NOUNS.flat(), ...Object.values(COLOUR_WORDS).flat(), ABSENT_COLOUR,
    ...Object.values(SIZE_WORDS).flat(), ...ROW_WORDS.flat(), ...ROWS, ...COLS, ...NUMBER_WORDS, ...SCENE_TYPES, 'nothing',
    ...Object.values(SCENE_LEXICON).flatMap((s) => [...s.nouns, ...s.preps, ...s.kinds]),
  ];
  return [...new Set([...texts, ...texts.map(americanise)].flatMap(wordsOf))];
}

/**
 * What training needs of the lexicon: `words`, every word that carries meaning (shapes,
 * colours, sizes, places, scenes, numbers, in both spellings), which word dropout never
 * hides; `synonyms`, each non-canonical surface word onto its canonical word (US
 * spellings included), which seeds a new word's embedding from a known one.
 */
export function lexiconV2(): { words: string[]; synonyms: Record<string, string> } {
  const spellings = { color: 'colour', colors: 'colours', colored: 'coloured', center: 'centre', gray: 'grey' };
  const synonyms: Record<string, string> = { ...V2_SYNONYMS, ...spellings };
  const glue = new Set(['a', 'an', 'at', 'in', 'on', 'the', 'among', 'under']);
  const digits = Array.from({ length: 10 }, (_, d) => String(d));
  const words = [...lexiconWords(), ...digits, 'colour', 'colours', ...Object.keys(spellings)].filter((w) => !glue.has(w));
  return { words: [...new Set(words)].sort(), synonyms };
}
