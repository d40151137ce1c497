// Typed words that are one slip away from a word of a closed vocabulary ("crimsn",
// "cirlce", "squre"): the nearest vocabulary word, when exactly one is that near.
// The world's tokenizer is word-level (world/README.md, "Tokenizer"), so a typo is an
// unknown word unless something like this folds it back before tokenizing.

/** Optimal string alignment distance (insert, delete, substitute, swap two neighbours), capped at `limit + 1`. */
export function editDistance(a: string, b: string, limit = 2): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] as number) + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    prev2 = prev;
    prev = row;
  }
  return Math.min(prev[b.length] as number, limit + 1);
}

/** Words shorter than this are left alone: "red" -> "rad" is as likely another word as a slip. */
export const MIN_CORRECTABLE_LENGTH = 4;

export class SpellingCorrector {
  private readonly words: ReadonlySet<string>;
  private readonly byLength = new Map<number, string[]>();

  /** `fold` maps a word onto its meaning (a synonym or spelling onto the canonical word). */
  constructor(vocabulary: Iterable<string>, private readonly fold: (word: string) => string = (w) => w) {
    this.words = new Set(vocabulary);
    for (const w of this.words) this.byLength.set(w.length, [...(this.byLength.get(w.length) ?? []), w]);
  }

  has(word: string): boolean {
    return this.words.has(word);
  }

  /**
   * The word itself when known; else the one vocabulary word one edit away, or the meaning
   * of several that mean the same ("centee": "centre" and "center"); else null.
   */
  correct(word: string): string | null {
    if (this.words.has(word)) return word;
    if (word.length < MIN_CORRECTABLE_LENGTH || !/^[a-z]+$/.test(word)) return null;
    const near = [word.length - 1, word.length, word.length + 1]
      .flatMap((n) => this.byLength.get(n) ?? [])
      .filter((w) => w.length >= MIN_CORRECTABLE_LENGTH && editDistance(word, w, 1) <= 1);
    if (near.length === 1) return near[0] as string;
    const meanings = new Set(near.map(this.fold));
    return meanings.size === 1 ? ([...meanings][0] as string) : null;
  }
}
