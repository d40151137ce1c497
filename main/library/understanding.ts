// What the active pack understands, said out loud: the words of a query or question
// its tokenizer does not know, whether a search found anything that matches well
// (pack.json `retrieval.noMatchBelow`, calibrated by scripts/calibrate-no-match.ts),
// and the domain it was trained on (pack.json `domain`), so a narrow pack says it
// does not apply to the user's own photos. Read from the pack folder in-process: the
// tokenizer files are small, and no model needs to run for any of it.
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { PackError, type Pack, type PackDomain } from '../engine/pack.ts';

/** A word as the user typed it: letters and digits, with inner apostrophes (dog's, isn't). */
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

/**
 * Words that carry no meaning of their own in a question: when only these are unknown
 * the question still goes to the model ("where is my star?"), and they are still reported.
 * Besides grammar words, the words that frame a question rather than name what it is about
 * ("could you check whether…", "what is shown in this shot?"): a pack trained on few
 * wordings may not know them, and the words it does know still carry the question.
 */
const FUNCTION_WORDS = new Set(`a an the this that these those my your our their his her its i me we us you they them it
  please kindly just really actually exactly hey hi hello ok okay um uh so well now then also too very quite
  am is are was were be been being do does did can could would should will shall may might must have has had
  of in on at to for with from by about into onto over under up down out off as than if or and but not
  here there any some all both each every own same such only whose who whom when why how what which where
  oh yeah yep sure thanks thank
  tell say said show shows shown showing see sees seen look looks looking find found finding describe name called call
  know check contain contains containing hold holds holding feature features featuring depict depicts depicted
  appear appears visible notice spot give let think guess wonder mean like true false whether
  kind type sort thing things picture pic photo photograph image shot taken painted coloured colored shaped area part
  word words`.split(/\s+/));
/** Endings of contractions (what's, isn't, they're): the word is as known as its first part. */
const CONTRACTION = /^([\p{L}\p{N}]+)['’](s|re|ll|t|ve|d|m)$/u;

export class PackLanguage {
  readonly domain: PackDomain | null;
  /** The calibrated cosine below which a search's best hit is not a good match; null when the pack has none. */
  readonly noMatchBelow: number | null;
  private readonly known: (word: string) => boolean;
  private readonly aliases: ReadonlyMap<string, string>;

  /** Throws a PackError when the alias table does not fit the pack's vocabulary (its shape is checked by loadPack). */
  constructor(pack: Pack) {
    this.domain = pack.manifest.domain ?? null;
    this.noMatchBelow = pack.manifest.retrieval?.noMatchBelow ?? null;
    const inVocabulary = knownWordTest(pack, this.domain);
    this.aliases = new Map(Object.entries(this.domain?.aliases ?? {}));
    // Without a vocabulary (a BPE tokenizer and no domain.vocabulary) every word counts as known: nothing to check against.
    if (inVocabulary) {
      for (const [from, to] of this.aliases) {
        // An alias to a word the model does not know would hide an unknown word.
        if (!inVocabulary(to)) throw new PackError(pack.id, `pack.json domain.aliases maps "${from}" to "${to}", which its tokenizer does not know`);
        // An alias of a word the model knows would change what a trained word means.
        if (inVocabulary(from)) throw new PackError(pack.id, `pack.json domain.aliases maps "${from}" to "${to}", but its tokenizer knows "${from}" itself (an alias is for a word the model was not trained on)`);
      }
    }
    this.known = (word) => (inVocabulary?.(word) ?? true) || this.aliases.has(word);
  }

  /** The text as the model should read it: each aliased word replaced by the word the model was trained on. */
  rewrite(text: string): string {
    if (this.aliases.size === 0) return text;
    return text.normalize('NFKC').replace(WORD, (raw) => this.aliases.get(raw.toLowerCase().replace(/’/g, "'")) ?? raw);
  }

  /** The words of `text` the pack does not know, lower-cased, each once, in order. */
  unknownWords(text: string): string[] {
    const out: string[] = [];
    for (const [raw] of text.normalize('NFKC').matchAll(WORD)) {
      const word = raw.toLowerCase().replace(/’/g, "'");
      if (!out.includes(word) && !this.known(word)) out.push(word);
    }
    return out;
  }

  /** Whether `text` has a known word that carries meaning (not only "the", "what", "my"): something to search for. */
  hasKnownContent(text: string): boolean {
    const unknown = new Set(this.unknownWords(text));
    return [...text.normalize('NFKC').matchAll(WORD)].some(([raw]) => {
      const word = raw.toLowerCase().replace(/’/g, "'");
      return !unknown.has(word) && !FUNCTION_WORDS.has(word);
    });
  }

  /** The unknown words that carry the question's meaning (not "my", "please", "what's"). */
  keyWords(unknown: readonly string[]): string[] {
    return unknown.filter((w) => {
      const contraction = CONTRACTION.exec(w);
      if (contraction) return !this.known(contraction[1] as string) && !FUNCTION_WORDS.has(contraction[1] as string);
      return !FUNCTION_WORDS.has(w);
    });
  }

  /** A narrow domain (anything but `general`): the pack does not apply to arbitrary photos. */
  get narrow(): boolean {
    return this.domain !== null && this.domain.kind !== 'general';
  }
}

/**
 * Whether a word is in the pack's vocabulary: the declared domain vocabulary, else a word-level
 * tokenizer's own; null when the pack has neither (a BPE tokenizer knows every word).
 */
function knownWordTest(pack: Pack, domain: PackDomain | null): ((word: string) => boolean) | null {
  if (domain?.vocabulary) {
    const words = new Set(domain.vocabulary.map((w) => w.toLowerCase()));
    return (word) => words.has(word);
  }
  const unk = pack.spec.specials.unk;
  if (pack.spec.tokenizerKind !== 'word-level' || unk === null) return null;
  const read = (rel: string) => JSON.parse(fs.readFileSync(pack.file(rel), 'utf8')) as object;
  const tokenizer = new Tokenizer(read(pack.manifest.tokenizer.file), read(pack.manifest.tokenizer.config));
  // The pack's own tokenizer decides (its normaliser and pre-tokenizer), so this never disagrees with what the model is fed.
  return (word) => !tokenizer.encode(word, { add_special_tokens: false }).ids.includes(unk);
}

const languages = new WeakMap<Pack, PackLanguage>();
/** One PackLanguage per loaded pack (the tokenizer is read once). */
export function packLanguage(pack: Pack): PackLanguage {
  let language = languages.get(pack);
  if (!language) languages.set(pack, (language = new PackLanguage(pack)));
  return language;
}

const quoted = (words: readonly string[]) => {
  const q = words.map((w) => `"${w}"`);
  return q.length === 1 ? q[0] as string : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
};

/** The answer to a question whose key words the pack does not know: about the words, never about the photo. */
export function dontKnowAnswer(keyWords: readonly string[]): string {
  return `I don't know the word${keyWords.length === 1 ? '' : 's'} ${quoted(keyWords)}, so I can't answer that question.`;
}

export interface SearchVerdict {
  /** Words of the query the pack does not know (they were not part of the search). */
  unknownWords: string[];
  /** False when nothing matches well: the best score is under the pack's calibrated threshold, a key
   * word of the query is unknown (the hits cannot be about it), or no known word carries meaning
   * (gibberish, "my", "???"): the shapes pack scores such texts as high as real matches, so the
   * threshold alone cannot catch them (docs/library.md). */
  goodMatch: boolean;
  /** The threshold used; null when the pack was not calibrated. */
  noMatchBelow: number | null;
}

export function judgeSearch(language: PackLanguage, text: string, bestScore: number | null): SearchVerdict {
  const unknownWords = language.unknownWords(text);
  const threshold = language.noMatchBelow;
  const goodMatch = bestScore !== null && language.keyWords(unknownWords).length === 0 && language.hasKnownContent(text)
    && (threshold === null || bestScore >= threshold);
  return { unknownWords, goodMatch, noMatchBelow: threshold };
}

/** The shapes world's sample library (or any world samples folder): its sidecar is beside the photos. */
const SAMPLE_SIDECAR = 'glimpse-samples.scenes.json';
export function isSampleFolder(folder: string): boolean {
  return [folder, path.dirname(folder)].some((dir) => fs.existsSync(path.join(dir, SAMPLE_SIDECAR)));
}

/** Said once, when the user adds their own folder while a narrow-domain pack is active. */
export function domainNotice(pack: Pack): string | null {
  const language = packLanguage(pack);
  if (!language.narrow || !language.domain) return null;
  return `Model pack "${pack.id}" only understands ${language.domain.description}. It will not describe, answer about or find `
    + 'what is in your own photos. For real photos install a real model pack (see docs/real-models.md) and choose it in Settings or with --pack.';
}
