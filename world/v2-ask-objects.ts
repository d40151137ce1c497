// Language version 2: questions about one object's colour, shape, size, place or
// digit, open and yes/no, in direct, indirect, inverted and fragment forms.
import type { Scene, SceneObject } from './scene.ts';
import { aboutOne, candidateValue, choiceOf, yesNo, type QuestionForm, type QuestionStyle, type TemplateV2 } from './v2-ask.ts';
import { COLOUR_WORDS, SHAPE_NOUNS, SIZE_WORDS, type WordChooser } from './v2-lexicon.ts';
import { realiseDigit, realisePlace, realiseRegion, withArticle } from './v2-refer.ts';
import { ALL_PLACES, COLOURS, NUMBER_WORDS, placeName, SHAPES, SIZES, type Col, type Row } from './vocab.ts';

type Ask = (ref: string, o: SceneObject, s: Scene, w: WordChooser) => { question: string; answer: string };
const t = (id: string, type: TemplateV2['type'], form: QuestionForm, style: QuestionStyle, heldOut: boolean, make: TemplateV2['make']): TemplateV2 =>
  ({ id, type, form, style, heldOut, make });

// Language 1's held-out templates ("Tell me the colour of", "How big is", "What is the
// number of", ...) are held out here too, so a pack trained on language 2 can still be
// measured on language 1's held-out wordings.

// Colour --------------------------------------------------------------------
const colourOpen = (f: (r: string) => string) => aboutOne({ exclude: ['colour'], ask: (r, o) => ({ question: f(r), answer: o.colour }) });
const colourYesNo = (f: (r: string, c: string) => string) => aboutOne({
  exclude: ['colour'],
  ask: (r, o, s, w) => {
    const c = candidateValue(o.colour, COLOURS, s.objects.map((x) => x.colour), w);
    return { question: f(r, w.word(COLOUR_WORDS[c])), answer: yesNo(c === o.colour) };
  },
});

const colourChoice = (f: (r: string, a: string, b: string) => string) => aboutOne({
  exclude: ['colour'],
  ask: (r, o, _s, w) => {
    const [a, b] = choiceOf(o.colour, COLOURS, w);
    return { question: f(r, w.word(COLOUR_WORDS[a]), w.word(COLOUR_WORDS[b])), answer: o.colour };
  },
});

// Shape ---------------------------------------------------------------------
const shapeOpen = (f: (r: string) => string) => aboutOne({ exclude: ['shape', 'digit'], ask: (r, o) => ({ question: f(r), answer: o.shape }) });
const shapeYesNo = (f: (r: string, np: string) => string) => aboutOne({
  exclude: ['shape', 'digit'],
  ask: (r, o, s, w) => {
    const sh = candidateValue(o.shape, SHAPES, s.objects.map((x) => x.shape), w);
    return { question: f(r, withArticle(w.noun(SHAPE_NOUNS[sh], false)[0])), answer: yesNo(sh === o.shape) };
  },
});

const shapeChoice = (f: (r: string, a: string, b: string) => string) => aboutOne({
  exclude: ['shape', 'digit'],
  ask: (r, o, _s, w) => {
    const [a, b] = choiceOf(o.shape, SHAPES, w);
    return { question: f(r, withArticle(w.noun(SHAPE_NOUNS[a], false)[0]), withArticle(w.noun(SHAPE_NOUNS[b], false)[0])), answer: o.shape };
  },
});

// Size ----------------------------------------------------------------------
const SIZE_CHOICES = ['small or large', 'large or small', 'big or small', 'small or big'];
const sizeOpen = (f: (r: string, w: WordChooser) => string) => aboutOne({ exclude: ['size'], ask: (r, o, _s, w) => ({ question: f(r, w), answer: o.size }) });
const sizeYesNo = (f: (r: string, size: string) => string) => aboutOne({
  exclude: ['size'],
  ask: (r, o, _s, w) => {
    const size = w.pick(SIZES);
    return { question: f(r, w.word(SIZE_WORDS[size])), answer: yesNo(size === o.size) };
  },
});

// Position ------------------------------------------------------------------
const positionOpen = (f: (r: string) => string) => aboutOne({ exclude: ['place'], ask: (r, o) => ({ question: f(r), answer: placeName(o.row, o.col) }) });
const positionYesNo = (f: (r: string, place: string) => string) => aboutOne({
  exclude: ['place'],
  ask: (r, o, s, w) => {
    const cells = ALL_PLACES.map((p) => p.name);
    const name = candidateValue(placeName(o.row, o.col), cells, s.objects.map((x) => placeName(x.row, x.col)), w);
    const cell = ALL_PLACES.find((p) => p.name === name) as (typeof ALL_PLACES)[number];
    return { question: f(r, realisePlace(cell.row, cell.col, w)), answer: yesNo(cell.row === o.row && cell.col === o.col) };
  },
});
/** "Is the star on the left?": a half of the picture (an outer row or column). */
const positionSide: Ask = (r, o, _s, w) => {
  const edge = w.pick([0, 2] as const);
  const byRow = w.chance(0.5);
  const where = realiseRegion(byRow ? { row: edge as Row } : { col: edge as Col }, w);
  return { question: `Is the ${r} ${where}?`, answer: yesNo(byRow ? o.row === edge : o.col === edge) };
};

// Digit ---------------------------------------------------------------------
const isSign = (o: SceneObject) => o.shape === 'sign';
const digitOpen = (f: (r: string) => string) => aboutOne({ exclude: ['digit', 'size'], filter: isSign, absentShapes: ['sign'], ask: (r, o) => ({ question: f(r), answer: String(o.digit) }) });
const digitYesNo = (f: (r: string, d: number, w: WordChooser) => string) => aboutOne({
  exclude: ['digit', 'size'],
  filter: isSign,
  absentShapes: ['sign'],
  ask: (r, o, s, w) => {
    // Asked about an absent sign, `o` is some other object: any digit will do.
    const truth = o.digit ?? w.rng.int(0, 9);
    const d = candidateValue(truth, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], s.objects.filter(isSign).map((x) => x.digit as number), w);
    return { question: f(r, d, w), answer: yesNo(d === o.digit) };
  },
});
const digitWord = (d: number, w: WordChooser) => w.word([String(d), NUMBER_WORDS[d] as string]);

export const OBJECT_TEMPLATES: readonly TemplateV2[] = [
  t('q2-colour-what', 'colour', 'open', 'direct', false, colourOpen((r) => `What colour is the ${r}?`)),
  t('q2-colour-which', 'colour', 'open', 'direct', false, colourOpen((r) => `Which colour does the ${r} have?`)),
  t('q2-colour-is-of', 'colour', 'open', 'direct', false, colourOpen((r) => `What is the colour of the ${r}?`)),
  t('q2-colour-say', 'colour', 'open', 'indirect', false, colourOpen((r) => `Say which colour the ${r} is.`)),
  t('q2-colour-inverted', 'colour', 'open', 'inverted', false, colourOpen((r) => `The ${r} is what colour?`)),
  t('q2-colour-fragment', 'colour', 'open', 'fragment', false, colourOpen((r) => `Colour of the ${r}?`)),
  t('q2-colour-yn', 'colour', 'yes-no', 'direct', false, colourYesNo((r, c) => `Is the ${r} ${c}?`)),
  t('q2-colour-which-is', 'colour', 'open', 'direct', false, colourOpen((r) => `Which colour is the ${r}?`)),
  t('q2-colour-choice', 'colour', 'open', 'direct', false, colourChoice((r, a, b) => `Is the ${r} ${a} or ${b}?`)),
  t('q2-colour-in-picture', 'colour', 'open', 'direct', false, colourOpen((r) => `In the picture, what colour is the ${r}?`)),
  t('q2-colour-yn-tell', 'colour', 'yes-no', 'indirect', false, colourYesNo((r, c) => `Tell me, is the ${r} ${c}?`)),
  t('q2h-colour-tell', 'colour', 'open', 'indirect', true, colourOpen((r) => `Tell me the colour of the ${r}.`)),
  t('q2h-colour-know', 'colour', 'open', 'indirect', true, colourOpen((r) => `Do you know what colour the ${r} is?`)),
  t('q2h-colour-fragment', 'colour', 'open', 'fragment', true, colourOpen((r) => `The ${r}: which colour?`)),
  t('q2h-colour-painted', 'colour', 'open', 'direct', true, colourOpen((r) => `In what colour is the ${r} painted?`)),
  t('q2h-colour-yn', 'colour', 'yes-no', 'indirect', true, colourYesNo((r, c) => `Would you call the ${r} ${c}?`)),

  t('q2-shape-what', 'shape', 'open', 'direct', false, shapeOpen((r) => `What shape is the ${r}?`)),
  t('q2-shape-which', 'shape', 'open', 'direct', false, shapeOpen((r) => `Which shape is the ${r}?`)),
  t('q2-shape-kind', 'shape', 'open', 'direct', false, shapeOpen((r) => `What kind of shape is the ${r}?`)),
  t('q2-shape-tell', 'shape', 'open', 'indirect', false, shapeOpen((r) => `Tell me the shape of the ${r}.`)),
  t('q2-shape-inverted', 'shape', 'open', 'inverted', false, shapeOpen((r) => `The ${r} is what shape?`)),
  t('q2-shape-fragment', 'shape', 'open', 'fragment', false, shapeOpen((r) => `Shape of the ${r}?`)),
  t('q2-shape-yn', 'shape', 'yes-no', 'direct', false, shapeYesNo((r, np) => `Is the ${r} ${np}?`)),
  t('q2-shape-choice', 'shape', 'open', 'direct', false, shapeChoice((r, a, b) => `Is the ${r} ${a} or ${b}?`)),
  t('q2-shape-say', 'shape', 'open', 'indirect', false, shapeOpen((r) => `Say which shape the ${r} is.`)),
  t('q2-shape-kind-of', 'shape', 'open', 'direct', false, shapeOpen((r) => `What kind of thing is the ${r}?`)),
  t('q2-shape-have', 'shape', 'open', 'direct', false, shapeOpen((r) => `What shape does the ${r} have?`)),
  t('q2-shape-which-have', 'shape', 'open', 'direct', false, shapeOpen((r) => `Which shape does the ${r} have?`)),
  t('q2-shape-say-what', 'shape', 'open', 'indirect', false, shapeOpen((r) => `Say what shape the ${r} is.`)),
  t('q2h-shape-name', 'shape', 'open', 'indirect', true, shapeOpen((r) => `Name the shape of the ${r}.`)),
  t('q2h-shape-can', 'shape', 'open', 'indirect', true, shapeOpen((r) => `Can you tell me what shape the ${r} is?`)),
  t('q2h-shape-like', 'shape', 'open', 'direct', true, shapeOpen((r) => `What is the ${r} shaped like?`)),
  t('q2h-shape-yn', 'shape', 'yes-no', 'direct', true, shapeYesNo((r, np) => `Does the ${r} look like ${np}?`)),

  t('q2-size-choice', 'size', 'open', 'direct', false, sizeOpen((r, w) => `Is the ${r} ${w.pick(SIZE_CHOICES)}?`)),
  t('q2-size-what', 'size', 'open', 'direct', false, sizeOpen((r) => `What size is the ${r}?`)),
  t('q2-size-tell', 'size', 'open', 'indirect', false, sizeOpen((r) => `Tell me the size of the ${r}.`)),
  t('q2-size-inverted', 'size', 'open', 'inverted', false, sizeOpen((r) => `The ${r} is what size?`)),
  t('q2-size-fragment', 'size', 'open', 'fragment', false, sizeOpen((r) => `Size of the ${r}?`)),
  t('q2-size-yn', 'size', 'yes-no', 'direct', false, sizeYesNo((r, size) => `Is the ${r} ${size}?`)),
  t('q2-size-which', 'size', 'open', 'direct', false, sizeOpen((r) => `Which size is the ${r}?`)),
  t('q2-size-say', 'size', 'open', 'indirect', false, sizeOpen((r) => `Say which size the ${r} is.`)),
  t('q2-size-in-picture', 'size', 'open', 'direct', false, sizeOpen((r) => `In the picture, what size is the ${r}?`)),
  t('q2-size-is-of', 'size', 'open', 'direct', false, sizeOpen((r) => `What is the size of the ${r}?`)),
  t('q2-size-have', 'size', 'open', 'direct', false, sizeOpen((r) => `Which size does the ${r} have?`)),
  t('q2-size-yn-tell', 'size', 'yes-no', 'indirect', false, sizeYesNo((r, size) => `Tell me, is the ${r} ${size}?`)),
  t('q2-size-yn-say', 'size', 'yes-no', 'indirect', false, sizeYesNo((r, size) => `Say yes or no: is the ${r} ${size}?`)),
  t('q2h-size-whether', 'size', 'open', 'indirect', true, sizeOpen((r, w) => `Tell me whether the ${r} is ${w.pick(SIZE_CHOICES)}.`)),
  t('q2h-size-big', 'size', 'open', 'direct', true, sizeOpen((r) => `How big is the ${r}?`)),
  t('q2h-size-large', 'size', 'open', 'direct', true, sizeOpen((r) => `How large is the ${r}?`)),
  t('q2h-size-fragment', 'size', 'open', 'fragment', true, sizeOpen((r) => `The ${r}: big or little?`)),
  t('q2h-size-yn', 'size', 'yes-no', 'indirect', true, sizeYesNo((r, size) => `Would you say the ${r} is ${size}?`)),

  t('q2-position-where', 'position', 'open', 'direct', false, positionOpen((r) => `Where is the ${r}?`)),
  t('q2-position-part', 'position', 'open', 'direct', false, positionOpen((r) => `In which part of the picture is the ${r}?`)),
  t('q2-position-where-in', 'position', 'open', 'direct', false, positionOpen((r) => `Where in the image is the ${r}?`)),
  t('q2-position-tell', 'position', 'open', 'indirect', false, positionOpen((r) => `Tell me where the ${r} is.`)),
  t('q2-position-inverted', 'position', 'open', 'inverted', false, positionOpen((r) => `The ${r} is where?`)),
  t('q2-position-fragment', 'position', 'open', 'fragment', false, positionOpen((r) => `Location of the ${r}?`)),
  t('q2-position-yn', 'position', 'yes-no', 'direct', false, positionYesNo((r, p) => `Is the ${r} ${p}?`)),
  t('q2-position-side', 'position', 'yes-no', 'direct', false, aboutOne({ exclude: ['place'], ask: positionSide })),
  t('q2-position-which-part', 'position', 'open', 'direct', false, positionOpen((r) => `Which part of the picture is the ${r} in?`)),
  t('q2-position-location', 'position', 'open', 'direct', false, positionOpen((r) => `What is the location of the ${r}?`)),
  t('q2-position-say', 'position', 'open', 'indirect', false, positionOpen((r) => `Say where the ${r} is.`)),
  t('q2h-position-area', 'position', 'open', 'direct', true, positionOpen((r) => `Which area of the image holds the ${r}?`)),
  t('q2h-position-can', 'position', 'open', 'indirect', true, positionOpen((r) => `Can you tell me where the ${r} is?`)),
  t('q2h-position-found', 'position', 'open', 'direct', true, positionOpen((r) => `In what part of the photo can the ${r} be found?`)),
  t('q2h-position-yn', 'position', 'yes-no', 'indirect', true, positionYesNo((r, p) => `Would I find the ${r} ${p}?`)),

  t('q2-digit-number', 'digit', 'open', 'direct', false, digitOpen((r) => `What number is on the ${r}?`)),
  t('q2-digit-which', 'digit', 'open', 'direct', false, digitOpen((r) => `Which digit does the ${r} show?`)),
  t('q2-digit-say', 'digit', 'open', 'direct', false, digitOpen((r) => `What does the ${r} say?`)),
  t('q2-digit-written', 'digit', 'open', 'direct', false, digitOpen((r) => `What digit is written on the ${r}?`)),
  t('q2-digit-tell', 'digit', 'open', 'indirect', false, digitOpen((r) => `Tell me the number on the ${r}.`)),
  t('q2-digit-inverted', 'digit', 'open', 'inverted', false, digitOpen((r) => `The ${r} shows which number?`)),
  t('q2-digit-fragment', 'digit', 'open', 'fragment', false, digitOpen((r) => `Number on the ${r}?`)),
  t('q2-digit-yn-show', 'digit', 'yes-no', 'direct', false, digitYesNo((r, d, w) => `Does the ${r} ${realiseDigit(d, w).replace(/^showing/, 'show').replace(/^with/, 'have').replace(/^reading/, 'read')}?`)),
  t('q2-digit-yn-is', 'digit', 'yes-no', 'direct', false, digitYesNo((r, d, w) => `Is the number on the ${r} ${digitWord(d, w)}?`)),
  t('q2-digit-what-written', 'digit', 'open', 'direct', false, digitOpen((r) => `What is written on the ${r}?`)),
  t('q2-digit-say-number', 'digit', 'open', 'indirect', false, digitOpen((r) => `Say the number on the ${r}.`)),
  t('q2-digit-which-show', 'digit', 'open', 'direct', false, digitOpen((r) => `Which number does the ${r} show?`)),
  t('q2-digit-can-see', 'digit', 'open', 'direct', false, digitOpen((r) => `What number can you see on the ${r}?`)),
  t('q2-digit-read-what', 'digit', 'open', 'indirect', false, digitOpen((r) => `Read what is written on the ${r}.`)),
  t('q2-digit-can-say', 'digit', 'open', 'indirect', false, digitOpen((r) => `Can you say what the ${r} shows?`)),
  t('q2h-digit-read', 'digit', 'open', 'indirect', true, digitOpen((r) => `Read the number on the ${r}.`)),
  t('q2h-digit-can', 'digit', 'open', 'indirect', true, digitOpen((r) => `Can you read the ${r}?`)),
  t('q2h-digit-which', 'digit', 'open', 'direct', true, digitOpen((r) => `Which number can you read on the ${r}?`)),
  t('q2h-digit-yn', 'digit', 'yes-no', 'direct', true, digitYesNo((r, d, w) => `Is there ${withArticle(digitWord(d, w))} on the ${r}?`)),
];
