// The closed vocabulary of the shapes world: every attribute value, its words,
// and how often the sampler draws it. Language, rendering, parsing and scoring
// all read from here, so a new colour or shape is one edit.

export const SCENE_TYPES = ['meadow', 'beach', 'snow', 'night', 'desert'] as const;
export type SceneType = (typeof SCENE_TYPES)[number];

/** `sign` is a board on a post showing a seven-segment digit. */
export const SHAPES = ['circle', 'square', 'triangle', 'star', 'heart', 'cross', 'diamond', 'sign'] as const;
export type Shape = (typeof SHAPES)[number];

export const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'white', 'black'] as const;
export type Colour = (typeof COLOURS)[number];

export const SIZES = ['small', 'large'] as const;
export type Size = (typeof SIZES)[number];

export const ROWS = ['top', 'middle', 'bottom'] as const;
export const COLS = ['left', 'centre', 'right'] as const;
export type Row = 0 | 1 | 2;
export type Col = 0 | 1 | 2;

export const RELATIONS = ['left of', 'right of', 'above', 'below'] as const;
export type Relation = (typeof RELATIONS)[number];

/** The world's meaning of a relation: by grid column (left/right) or row (above/below). */
export function relationHolds(a: { row: number; col: number }, rel: Relation, b: { row: number; col: number }): boolean {
  switch (rel) {
    case 'left of': return a.col < b.col;
    case 'right of': return a.col > b.col;
    case 'above': return a.row < b.row;
    case 'below': return a.row > b.row;
  }
}

/**
 * Non-uniform priors, so that some objects are "popular": POPE's popular
 * negatives ask about the objects seen most often in the data set.
 */
export const SHAPE_WEIGHTS: Record<Shape, number> = {
  circle: 18, square: 16, triangle: 14, star: 12, heart: 10, cross: 8, diamond: 8, sign: 14,
};
export const COLOUR_WEIGHTS: Record<Colour, number> = {
  red: 16, blue: 15, green: 12, yellow: 12, orange: 10, purple: 9, pink: 9, white: 9, black: 8,
};

export const PLURAL: Record<Shape, string> = {
  circle: 'circles', square: 'squares', triangle: 'triangles', star: 'stars',
  heart: 'hearts', cross: 'crosses', diamond: 'diamonds', sign: 'signs',
};

export const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'] as const;

/** The canonical name of a grid cell, as used in answers and captions. */
export function placeName(row: Row, col: Col): string {
  if (row === 1 && col === 1) return 'centre';
  return `${ROWS[row]} ${COLS[col]}`;
}

/** "at the top left", "in the centre". */
export function placePhrase(row: Row, col: Col): string {
  return row === 1 && col === 1 ? 'in the centre' : `at the ${placeName(row, col)}`;
}

export const ALL_PLACES: ReadonlyArray<{ row: Row; col: Col; name: string }> = [0, 1, 2].flatMap((row) =>
  [0, 1, 2].map((col) => ({ row: row as Row, col: col as Col, name: placeName(row as Row, col as Col) })),
);

/**
 * Words that name a scene, most specific first: "sandy" alone means a beach,
 * but "sandy desert" is a desert, so desert words are tried before beach words.
 */
export const SCENE_WORDS: ReadonlyArray<readonly [SceneType, readonly string[]]> = [
  ['desert', ['desert', 'dunes', 'dune']],
  ['beach', ['beach', 'sea', 'seaside', 'shore']],
  ['snow', ['snow', 'snowy', 'winter']],
  ['night', ['night', 'dark']],
  ['meadow', ['meadow', 'grass', 'grassy']],
  ['beach', ['sand', 'sandy']],
];

/** Synonyms folded onto the canonical word before parsing or scoring. */
export const SYNONYMS: Readonly<Record<string, string>> = {
  color: 'colour', colors: 'colours', colored: 'coloured',
  center: 'centre', central: 'centre',
  gray: 'grey', big: 'large', little: 'small', tiny: 'small', huge: 'large',
  upper: 'top', lower: 'bottom', rectangle: 'square', rhombus: 'diamond', plus: 'cross',
  ball: 'circle', board: 'sign',
};
