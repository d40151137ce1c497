// Does the library say what the pack does not know (issue #17)? Measured with the library's
// own code (main/library/understanding.ts): over fixed-seed queries made from the test
// split's texts with one word outside the pack's vocabulary (world/unknown-words.ts), the
// share whose reported unknown words include it (target 100 %); and for queries of
// gibberish only, or of English words the world lacks, the share judged "no good match"
// by judgeSearch with the best score the model gives them over the test images.
import { judgeSearch, type PackLanguage } from '../main/library/understanding.ts';
import { Rng } from '../world/rng.ts';
import { FOREIGN_WORDS, gibberishWord, queriesWithUnknownWord, UNKNOWN_KINDS, type UnknownKind, type UnknownWordQuery } from '../world/unknown-words.ts';

/** How many queries of each sort: a few hundred, fixed by the seed, so runs compare. */
export const UNKNOWN_WORD_QUERIES = 300;
export const NONSENSE_QUERIES = 100;
const SEED = 'bench-unknown-words';

export interface Share { hits: number; total: number; share: number }
const share = (hits: number, total: number): Share => ({ hits, total, share: total === 0 ? 0 : hits / total });

export interface UnknownWordReports {
  /** The inserted word is among the words reported unknown. */
  reported: Share;
  byKind: Record<UnknownKind, Share>;
  /** Exactly that word is reported: nothing of the base text was unknown (true when the pack knows the split's language). */
  onlyThatWord: Share;
  /** Up to 5 queries whose word was not reported, for reading. */
  missed: Array<{ text: string; word: string; reported: string[] }>;
}

/** How many of `queries` the pack's language reports their inserted word for. */
export function scoreUnknownWordReports(language: PackLanguage, queries: readonly UnknownWordQuery[]): UnknownWordReports {
  const byKind = Object.fromEntries(UNKNOWN_KINDS.map((k) => [k, [0, 0]])) as Record<UnknownKind, [number, number]>;
  let reported = 0;
  let only = 0;
  const missed: UnknownWordReports['missed'] = [];
  for (const q of queries) {
    const words = language.unknownWords(q.text);
    const ok = words.includes(q.word);
    reported += ok ? 1 : 0;
    only += ok && words.length === 1 ? 1 : 0;
    byKind[q.kind][0] += ok ? 1 : 0;
    byKind[q.kind][1] += 1;
    if (!ok && missed.length < 5) missed.push({ text: q.text, word: q.word, reported: words });
  }
  return {
    reported: share(reported, queries.length),
    byKind: Object.fromEntries(UNKNOWN_KINDS.map((k) => [k, share(...byKind[k])])) as Record<UnknownKind, Share>,
    onlyThatWord: share(only, queries.length),
    missed,
  };
}

export interface NonsenseScores { queries: number; noGoodMatch: Share; reported: Share; examples: string[] }

export interface UnknownWordScores extends UnknownWordReports {
  queries: number;
  /** Queries of 1-4 gibberish words: target, all "no good match". */
  gibberishOnly: NonsenseScores;
  /** Queries of 1-3 English words outside the vocabulary ("dog", "birthday party"). */
  foreignOnly: NonsenseScores;
  /** pack.json retrieval.noMatchBelow; null when the pack was not calibrated (then only the unknown-word rule judges). */
  noMatchBelow: number | null;
}

/**
 * The texts every word of which the pack knows: one unknown word put into one of them is the
 * only unknown word of the query. (A pack's vocabulary holds its training data's words, so a
 * held-out wording may hold words it does not know.)
 */
export function knownBases(language: PackLanguage, bases: readonly string[]): string[] {
  return bases.filter((b) => language.unknownWords(b).length === 0);
}

/**
 * The figures for one pack. `bases`: texts the queries are made from; `bestScores`: for texts
 * as the model reads them (the pack's aliases applied, as the library does), the best
 * search score over the photos.
 */
export async function measureUnknownWords(language: PackLanguage, bases: readonly string[], bestScores: (texts: string[]) => Promise<number[]>): Promise<UnknownWordScores> {
  const rng = new Rng(SEED);
  const isKnown = (word: string) => language.unknownWords(word).length === 0;
  const queries = queriesWithUnknownWord(knownBases(language, bases), UNKNOWN_WORD_QUERIES, isKnown, rng);
  const english = FOREIGN_WORDS.filter((w) => !isKnown(w));
  const nonsense = async (texts: string[]): Promise<NonsenseScores> => {
    const best = await bestScores(texts.map((t) => language.rewrite(t)));
    const verdicts = texts.map((t, i) => judgeSearch(language, t, best[i] as number));
    return {
      queries: texts.length,
      noGoodMatch: share(verdicts.filter((v) => !v.goodMatch).length, texts.length),
      reported: share(verdicts.filter((v) => v.unknownWords.length > 0).length, texts.length),
      examples: texts.slice(0, 3),
    };
  };
  return {
    queries: queries.length,
    ...scoreUnknownWordReports(language, queries),
    gibberishOnly: await nonsense(Array.from({ length: NONSENSE_QUERIES }, (_, k) => Array.from({ length: 1 + (k % 4) }, () => gibberishWord(rng, isKnown)).join(' '))),
    foreignOnly: await nonsense(Array.from({ length: NONSENSE_QUERIES }, (_, k) => Array.from({ length: 1 + (k % 3) }, () => rng.pick(english)).join(' '))),
    noMatchBelow: language.noMatchBelow,
  };
}
