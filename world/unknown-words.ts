// Words a shapes-world pack cannot know, and queries holding them: what a user types that
// is outside the world (English words, typing slips, gibberish). Shared by
// scripts/calibrate-no-match.ts (scores of queries the model cannot understand) and
// `npm run bench:quality` (does the library report the word, issue #17).
import type { Rng } from './rng.ts';
import { slip } from './v2-stats.ts';

/** English words no shapes-world pack knows, for queries the model cannot understand. */
export const FOREIGN_WORDS = ('dog cat my birthday party car tree house mountain river friend family wedding sunset beer pizza '
  + 'bicycle phone guitar kitchen garden airport horse bird flower city street baby grandma holiday paris train ocean forest '
  + 'building dinner christmas selfie puppy coffee book window').split(' ');

/** `words` random letter strings of 3 to 10 letters, space-separated. */
export function gibberish(rand: () => number, words: number): string {
  const letters = 'bcdfghjklmnpqrstvwxzaeiouy';
  return Array.from({ length: words }, () => Array.from({ length: 3 + Math.floor(rand() * 8) }, () => letters[Math.floor(rand() * letters.length)]).join('')).join(' ');
}

/** One gibberish word that `isKnown` does not accept (a random string can spell a real word: "sea"). */
export function gibberishWord(rng: Rng, isKnown: (word: string) => boolean): string {
  for (;;) {
    const word = gibberish(() => rng.next(), 1);
    if (!isKnown(word)) return word;
  }
}

export const UNKNOWN_KINDS = ['english', 'typo', 'gibberish'] as const;
export type UnknownKind = (typeof UNKNOWN_KINDS)[number];

export interface UnknownWordQuery {
  text: string;
  /** The word outside the vocabulary, lower-cased, as the query holds it. */
  word: string;
  kind: UnknownKind;
}

const WORD = /^([^a-z]*)([a-z]+)([^a-z]*)$/i;

/**
 * `count` queries, kinds in turn: a base text (one the pack should understand: a caption,
 * a search, a question) with one word the pack does not know: an English word or a
 * gibberish word inserted at a random place, or one of its words (3+ letters) mistyped by
 * a slip (a letter dropped, added, changed or two swapped) into a word `isKnown` rejects.
 * A base with no word to mistype gets a gibberish word instead, so every query holds one.
 */
export function queriesWithUnknownWord(bases: readonly string[], count: number, isKnown: (word: string) => boolean, rng: Rng): UnknownWordQuery[] {
  if (bases.length === 0) throw new Error('queriesWithUnknownWord needs at least one base text');
  const english = FOREIGN_WORDS.filter((w) => !isKnown(w));
  if (english.length === 0) throw new Error('every foreign word is known to this vocabulary');
  const out: UnknownWordQuery[] = [];
  for (let n = 0; n < count; n++) {
    const tokens = rng.pick(bases).split(/\s+/).filter((t) => t.length > 0);
    let kind = UNKNOWN_KINDS[n % UNKNOWN_KINDS.length] as UnknownKind;
    let word: string | null = null;
    if (kind === 'typo') {
      const typable = tokens.flatMap((t, i) => { const m = WORD.exec(t); return m && (m[2] as string).length >= 3 ? [i] : []; });
      for (let tries = 0; tries < 20 && word === null && typable.length > 0; tries++) {
        const at = rng.pick(typable);
        const [, before, original, after] = WORD.exec(tokens[at] as string) as RegExpExecArray;
        const typed = slip((original as string).toLowerCase(), rng);
        if (typed.length > 0 && !isKnown(typed)) {
          tokens[at] = `${before}${typed}${after}`;
          word = typed;
        }
      }
      if (word === null) kind = 'gibberish';
    }
    if (word === null) {
      word = kind === 'english' ? rng.pick(english) : gibberishWord(rng, isKnown);
      tokens.splice(rng.int(0, tokens.length), 0, word);
    }
    out.push({ text: tokens.join(' '), word, kind });
  }
  return out;
}
