// `npx tsx world/v2-stats.ts [--train N] [--test N]`: the figures behind the tokenizer
// decision in world/README.md. How many words language 2 has, how many test-split words
// train never shows, and what a word-level tokenizer makes of users' typing slips.
import { parseArgs } from 'node:util';
import { languageFor, sceneAt, SPLIT_LANGUAGE, vocabulary, type Split } from './generate.ts';
import { tokenize } from './parse.ts';
import { QUESTION_TYPES } from './questions.ts';
import { Rng } from './rng.ts';
import { SpellingCorrector } from './spelling.ts';
import { CAPTION_TEMPLATES_V2, SEARCH_TEMPLATES_V2 } from './v2-captions.ts';
import { textsOf, wordsOf, type WorldItemV2 } from './v2-language.ts';
import { QUESTION_TEMPLATES_V2, type QuestionV2 } from './v2-questions.ts';

export interface LanguageStats {
  images: { train: number; test: number };
  vocabulary: { language1: number; language2: number };
  templates: Record<string, { seen: number; heldOut: number }>;
  /** Words of the test split's texts that no train text uses, and how much of test they touch. */
  unseen: { words: string[]; testTokens: number; unseenTokens: number; heldOutQuestions: number; heldOutWithUnseen: number; seenWithUnseen: number };
  /** One random slip (drop, add, change or swap letters) in `tried` word tokens of test texts; `corrected`: to the same meaning. */
  typos: { tried: number; unknown: number; anotherWord: number; corrected: number; miscorrected: number; uncorrected: number; examples: string[] };
}

const items = (split: Split, count: number, seed: number): WorldItemV2[] =>
  Array.from({ length: count }, (_, i) => languageFor(sceneAt(seed, split, i), seed, split, i, SPLIT_LANGUAGE[split], 2) as WorldItemV2);

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** One slip of the kind people make typing: a letter dropped, doubled or added, changed, or two swapped. */
export function slip(word: string, rng: Rng): string {
  const i = rng.int(0, word.length - 1);
  switch (rng.int(0, 3)) {
    case 0: return word.slice(0, i) + word.slice(i + 1);
    case 1: return word.slice(0, i) + rng.pick([...LETTERS, word[i] as string]) + word.slice(i);
    case 2: return word.slice(0, i) + rng.pick([...LETTERS].filter((c) => c !== word[i])) + word.slice(i + 1);
    default: return i + 1 < word.length && word[i] !== word[i + 1] ? word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2) : word.slice(0, i) + word.slice(i + 1);
  }
}

export function languageStats(trainCount: number, testCount: number, typoCount: number, seed = 0): LanguageStats {
  const templates: LanguageStats['templates'] = {};
  for (const type of QUESTION_TYPES) {
    const of = QUESTION_TEMPLATES_V2.filter((t) => t.type === type);
    templates[type] = { seen: of.filter((t) => !t.heldOut).length, heldOut: of.filter((t) => t.heldOut).length };
  }
  templates.caption = { seen: CAPTION_TEMPLATES_V2.filter((t) => !t.heldOut).length, heldOut: CAPTION_TEMPLATES_V2.filter((t) => t.heldOut).length };
  templates.search = { seen: SEARCH_TEMPLATES_V2.filter((t) => !t.heldOut).length, heldOut: SEARCH_TEMPLATES_V2.filter((t) => t.heldOut).length };

  const trainWords = new Set(items('train', trainCount, seed).flatMap(textsOf).flatMap(wordsOf));
  const test = items('test', testCount, seed);
  const testTokens = test.flatMap(textsOf).flatMap(wordsOf);
  const unseenWords = [...new Set(testTokens.filter((w) => !trainWords.has(w)))].sort();
  const questions = test.flatMap((x) => x.questions as QuestionV2[]);
  const hasUnseen = (q: QuestionV2) => wordsOf(q.question).some((w) => !trainWords.has(w));

  const vocab = vocabulary(2);
  const meaning = (w: string) => tokenize(w).join(' ');
  const corrector = new SpellingCorrector(vocab, meaning);
  const rng = new Rng(seed, 'typos');
  const candidates = testTokens.filter((w) => /^[a-z]{3,}$/.test(w));
  const typos = { tried: 0, unknown: 0, anotherWord: 0, corrected: 0, miscorrected: 0, uncorrected: 0, examples: [] as string[] };
  for (let n = 0; n < typoCount && candidates.length > 0; n++) {
    const word = rng.pick(candidates);
    const typed = slip(word, rng);
    if (typed === word) continue;
    typos.tried++;
    if (corrector.has(typed)) {
      typos.anotherWord++;
      continue;
    }
    typos.unknown++;
    const fixed = corrector.correct(typed);
    if (fixed !== null && meaning(fixed) === meaning(word)) typos.corrected++;
    else if (fixed === null) typos.uncorrected++;
    else typos.miscorrected++;
    if (typos.examples.length < 8) typos.examples.push(`${typed} -> ${fixed ?? '?'} (${word})`);
  }
  return {
    images: { train: trainCount, test: testCount },
    vocabulary: { language1: vocabulary(1).length, language2: vocab.length },
    templates,
    unseen: {
      words: unseenWords, testTokens: testTokens.length, unseenTokens: testTokens.filter((w) => !trainWords.has(w)).length,
      heldOutQuestions: questions.filter((q) => q.heldOut).length,
      heldOutWithUnseen: questions.filter((q) => q.heldOut && hasUnseen(q)).length,
      seenWithUnseen: questions.filter((q) => !q.heldOut && hasUnseen(q)).length,
    },
    typos,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { train: { type: 'string' }, test: { type: 'string' }, typos: { type: 'string' } } });
  const stats = languageStats(Number(values.train ?? 20000), Number(values.test ?? 2000), Number(values.typos ?? 20000));
  process.stdout.write(`${JSON.stringify(stats, null, 1)}\n`);
}
