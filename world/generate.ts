// One image's worth of the world: scene, pixels and language, each from its own
// random stream keyed by (seed, split, index).
import { makeCaptions, type Caption } from './captions.ts';
import { makeProbes, type Probe } from './probes.ts';
import { makeQuestions, type Question, type QuestionType } from './questions.ts';
import { renderScene } from './render.ts';
import { Rng } from './rng.ts';
import { sampleScene, toSceneGraph, type Scene, type SceneGraph } from './scene.ts';
import type { SearchV2 } from './v2-captions.ts';
import { languageV2, lexiconWords, textsOf, wordsOf } from './v2-language.ts';
import { COLOURS, COLS, NUMBER_WORDS, PLURAL, ROWS, SCENE_TYPES, SHAPES, SIZES } from './vocab.ts';

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/**
 * Versions of the world's language. 1, the default, is what the bundled pack was
 * trained on and never changes; 2 adds synonyms, spellings, question forms, absent
 * objects, partial captions and search texts (world/README.md).
 */
export const LANGUAGES = [1, 2] as const;
export type LanguageVersion = (typeof LANGUAGES)[number];

export interface WorldItem {
  graph: SceneGraph;
  captions: Caption[];
  /** Language 2 only: short search texts naming some of the objects. */
  searches?: SearchV2[];
  questions: Question[];
  probes: Probe[];
}

export interface LanguageOptions {
  captions: number;
  heldOut: boolean;
  probes: boolean;
  /** Language 2: this many more seen-wording questions of a type per image, drawn after everything else. */
  more?: Partial<Record<QuestionType, number>>;
}

/** Train sees seen templates only; val adds probes; test adds held-out phrasings too. */
export const SPLIT_LANGUAGE: Record<Split, LanguageOptions> = {
  train: { captions: 3, heldOut: false, probes: false },
  val: { captions: 3, heldOut: false, probes: true },
  test: { captions: 3, heldOut: true, probes: true },
};

export function sceneAt(seed: number, stream: string, index: number): Scene {
  return sampleScene(new Rng(seed, stream, index, 'scene'));
}

export function languageFor(scene: Scene, seed: number, stream: string, index: number, options: LanguageOptions, language: LanguageVersion = 1): WorldItem {
  const rng = new Rng(seed, stream, index, 'language');
  if (language === 2) return languageV2(scene, rng, options);
  return {
    graph: toSceneGraph(scene),
    captions: makeCaptions(scene, rng, options.captions, options.heldOut),
    questions: makeQuestions(scene, rng, options.heldOut),
    probes: options.probes ? makeProbes(scene, rng) : [],
  };
}

export interface NuisanceOptions {
  /** Probability that an image goes through a JPEG round trip. */
  jpegProbability: number;
}

export async function pixelsFor(scene: Scene, seed: number, stream: string, index: number, size: number, nuisance: NuisanceOptions): Promise<Buffer> {
  const rng = new Rng(seed, stream, index, 'render');
  const noise = rng.uniform(1.5, 6);
  const jpegQuality = rng.chance(nuisance.jpegProbability) ? rng.int(50, 95) : null;
  return renderScene(scene, { size, noise, jpegQuality }, rng);
}

/**
 * Every word the language can produce, lower-cased, sorted: the seed of a word-level
 * tokenizer. Found by running all templates over enough scenes to reach every branch,
 * then adding every attribute value in case a rare one was missed.
 */
export function vocabulary(language: LanguageVersion = 1): string[] {
  if (language === 2) return vocabularyV2();
  const words = new Set<string>();
  const addText = (text: string) => text.toLowerCase().split(/[^a-z0-9]+/).forEach((w) => w && words.add(w));
  for (let i = 0; i < 4000; i++) {
    const scene = sceneAt(0, 'vocabulary', i);
    const item = languageFor(scene, 0, 'vocabulary', i, { captions: 4, heldOut: true, probes: true });
    item.captions.forEach((c) => addText(c.text));
    item.questions.forEach((q) => { addText(q.question); addText(q.answer); });
    item.probes.forEach((p) => { addText(p.positive); addText(p.negative); });
  }
  [...SCENE_TYPES, ...SHAPES, ...Object.values(PLURAL), ...COLOURS, ...SIZES, ...NUMBER_WORDS, ...ROWS, ...COLS].forEach(addText);
  for (let d = 0; d <= 9; d++) words.add(String(d));
  return [...words].sort();
}

/** Language 2's words: the lexicon, plus what the templates write over many scenes of every split's options. */
function vocabularyV2(): string[] {
  const words = new Set<string>(lexiconWords());
  for (let i = 0; i < 6000; i++) {
    const scene = sceneAt(0, 'vocabulary', i);
    const item = languageV2(scene, new Rng(0, 'vocabulary', i, 'language'), { captions: 7, heldOut: true, probes: true });
    for (const text of textsOf(item)) wordsOf(text).forEach((w) => words.add(w));
  }
  for (let d = 0; d <= 9; d++) words.add(String(d));
  return [...words].sort();
}
