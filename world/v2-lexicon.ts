// Language version 2: the surface words of the world's meanings (synonyms, US and UK
// spellings), the word-by-question-type pairings held out from training, and the
// chooser every v2 sentence picks its words with. Version 1 never reads this file
// except through `V2_SYNONYMS`, whose keys are no v1 word (a test checks).
import type { Rng } from './rng.ts';
import type { Colour, SceneType, Shape, Size } from './vocab.ts';

/** Surface nouns of each shape, [singular, plural]; the first is the canonical word. */
export const SHAPE_NOUNS: Record<Shape, ReadonlyArray<readonly [string, string]>> = {
  circle: [['circle', 'circles'], ['disc', 'discs'], ['disk', 'disks'], ['dot', 'dots'], ['ball', 'balls']],
  square: [['square', 'squares'], ['box', 'boxes'], ['block', 'blocks'], ['tile', 'tiles']],
  triangle: [['triangle', 'triangles'], ['wedge', 'wedges'], ['pyramid', 'pyramids']],
  star: [['star', 'stars'], ['starburst', 'starbursts'], ['pentagram', 'pentagrams']],
  heart: [['heart', 'hearts'], ['valentine', 'valentines']],
  cross: [['cross', 'crosses'], ['plus', 'pluses']],
  diamond: [['diamond', 'diamonds'], ['rhombus', 'rhombuses'], ['lozenge', 'lozenges']],
  sign: [['sign', 'signs'], ['board', 'boards'], ['signboard', 'signboards'], ['placard', 'placards'], ['signpost', 'signposts']],
};

/** Nouns for "any shape"; `shape` is left out of shape questions ("What shape is the red shape?"). */
export const OBJECT_NOUNS: ReadonlyArray<readonly [string, string]> = [
  ['object', 'objects'], ['thing', 'things'], ['item', 'items'], ['figure', 'figures'], ['shape', 'shapes'],
];

export const COLOUR_WORDS: Record<Colour, readonly string[]> = {
  red: ['red', 'crimson', 'scarlet'], orange: ['orange', 'amber', 'tangerine'], yellow: ['yellow', 'golden', 'lemon'],
  green: ['green', 'emerald', 'lime'], blue: ['blue', 'azure', 'cobalt'], purple: ['purple', 'violet', 'lilac'],
  pink: ['pink', 'rose', 'fuchsia'], white: ['white', 'ivory', 'cream'], black: ['black', 'ebony', 'jet'],
};

/** A colour no object has: asked about only where the truthful answer is "no" or 0. */
export const ABSENT_COLOUR = 'grey';

export const SIZE_WORDS: Record<Size, readonly string[]> = { small: ['small', 'little', 'tiny'], large: ['large', 'big', 'huge'] };

/** Row words (top, middle, bottom); columns use left / centre / right (US "center" by the spelling pass). */
export const ROW_WORDS: ReadonlyArray<readonly string[]> = [['top', 'upper'], ['middle'], ['bottom', 'lower']];

/** How each scene is named: canonical noun first; `preps` say "where", `kinds` fill "a ___ scene". */
export const SCENE_LEXICON: Record<SceneType, { nouns: readonly string[]; preps: readonly string[]; kinds: readonly string[] }> = {
  meadow: { nouns: ['meadow', 'grassland', 'pasture', 'lawn'], preps: ['in a meadow', 'on a lawn', 'in a pasture', 'on grassland'], kinds: ['meadow', 'grassland', 'pasture'] },
  beach: { nouns: ['beach', 'seaside', 'seashore', 'coast'], preps: ['on a beach', 'at the seaside', 'on the seashore', 'on the coast'], kinds: ['beach', 'seaside', 'coastal'] },
  snow: { nouns: ['snow', 'snowfield', 'winter'], preps: ['in the snow', 'on a snowfield', 'in winter snow'], kinds: ['snow', 'snowy', 'winter'] },
  night: { nouns: ['night', 'nighttime', 'night sky'], preps: ['at night', 'at nighttime', 'under the night sky'], kinds: ['night', 'nighttime', 'nocturnal'] },
  desert: { nouns: ['desert', 'dunes', 'sand dunes'], preps: ['in a desert', 'among the dunes', 'in the sand dunes'], kinds: ['desert', 'dune'] },
};

/**
 * Every v2 surface word onto its canonical v1 word, for the parser and the scorers
 * (a plural onto the canonical plural). Only words version 1 never writes.
 */
export const V2_SYNONYMS: Readonly<Record<string, string>> = (() => {
  const map: Record<string, string> = {};
  for (const [shape, nouns] of Object.entries(SHAPE_NOUNS)) {
    const plural = (nouns[0] as readonly [string, string])[1];
    for (const [s, p] of nouns.slice(1)) Object.assign(map, { [s]: shape, [p]: plural });
  }
  // "thing" is already an object noun of the parser, and "shape" is a v1 word.
  Object.assign(map, { item: 'object', items: 'objects', figure: 'object', figures: 'objects' });
  for (const [colour, words] of Object.entries(COLOUR_WORDS)) for (const w of words.slice(1)) map[w] = colour;
  Object.assign(map, {
    grassland: 'meadow', pasture: 'meadow', lawn: 'meadow', seashore: 'beach', coast: 'beach', coastal: 'beach',
    snowfield: 'snow', nighttime: 'night', nocturnal: 'night',
  });
  return map;
})();

/**
 * Word x question-type pairings that only the test split uses. Each word is seen in
 * training in other question types, captions or searches (a test checks), so a
 * held-out pairing is a new combination of known words, not a new word. Entries are
 * single words, never a canonical one; an option holding one ("in the sand dunes") is
 * held out with it.
 */
export const HELD_OUT_COMBINATIONS: Readonly<Record<string, readonly string[]>> = {
  colour: ['disc', 'block', 'pyramid', 'signboard', 'tiny', 'huge', 'item', 'valentine', 'lozenge', 'upper'],
  shape: ['crimson', 'amber', 'lime', 'cobalt', 'lilac', 'ivory', 'little', 'figure', 'jet', 'rose', 'lower'],
  size: ['scarlet', 'tangerine', 'emerald', 'azure', 'violet', 'cream', 'ebony', 'dot', 'box', 'starburst', 'placard', 'thing'],
  position: ['golden', 'fuchsia', 'disk', 'tile', 'wedge', 'pentagram', 'plus', 'rhombus', 'big', 'board', 'figure'],
  count: ['lemon', 'crimson', 'tiny', 'little', 'ball', 'boxes', 'disks', 'tiles', 'pentagrams', 'upper'],
  exist: ['emerald', 'ivory', 'ball', 'wedge', 'starburst', 'valentine', 'lozenge', 'signpost', 'huge', 'lilac', 'azure'],
  relation: ['jet', 'rose', 'disk', 'tile', 'pyramid', 'pentagram', 'board', 'little', 'item', 'amber', 'cobalt'],
  scene: ['pasture', 'seashore', 'snowfield', 'nighttime', 'dunes', 'coastal', 'nocturnal'],
  digit: ['placard', 'signboard', 'thing', 'three', 'upper', 'lower'],
  caption: ['lawn', 'coast', 'snowfield', 'sky', 'lemon', 'fuchsia', 'dot', 'block', 'rhombus', 'tiny'],
  search: ['grassland', 'seaside', 'winter', 'scarlet', 'tangerine', 'box', 'plus', 'placard', 'big'],
};

export type WordingKind = 'seen' | 'new-template' | 'new-combination';

/**
 * Picks surface words for one sentence of one kind (a question type, `caption` or
 * `search`). `seen` never picks a pairing held out for the kind; `forceHeldOut` picks a
 * held-out word wherever the slot has one and remembers that it did.
 */
export class WordChooser {
  private readonly held: ReadonlySet<string>;
  usedHeldOut = false;

  constructor(readonly rng: Rng, readonly kind: string, readonly forceHeldOut: boolean) {
    this.held = new Set(HELD_OUT_COMBINATIONS[kind] ?? []);
  }

  /** One of `options`, the first canonical and drawn half the time; `words` says which words an option writes. */
  choose<T>(options: readonly T[], words: (option: T) => readonly string[]): T {
    const isHeld = (o: T) => words(o).some((w) => this.held.has(w));
    if (this.forceHeldOut) {
      const held = options.filter(isHeld);
      if (held.length > 0) {
        this.usedHeldOut = true;
        return this.rng.pick(held);
      }
    }
    const allowed = options.filter((o, i) => i === 0 || !isHeld(o));
    return this.rng.chance(0.5) ? (allowed[0] as T) : this.rng.pick(allowed);
  }

  word(options: readonly string[]): string {
    return this.choose(options, (o) => o.split(' '));
  }

  /** A [singular, plural] pair, held out when the form to be written is. */
  noun(options: ReadonlyArray<readonly [string, string]>, plural: boolean): readonly [string, string] {
    return this.choose(options, (p) => [plural ? p[1] : p[0]]);
  }

  pick<T>(items: readonly T[]): T {
    return this.rng.pick(items);
  }

  chance(p: number): boolean {
    return this.rng.chance(p);
  }
}

/** US spelling for a whole sentence: colour -> color, centre -> center, grey -> gray. */
export function americanise(text: string): string {
  return text.replace(/\b([Cc])olour/g, '$1olor').replace(/\b([Cc])entre\b/g, '$1enter').replace(/\b([Gg])rey\b/g, '$1ray');
}
