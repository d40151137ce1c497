// Language version 2: counting, existence, relations between objects, and the
// scene itself, each asked open and yes/no in several forms.
import { absentObject, type NegativeKind } from './questions.ts';
import type { Scene, SceneObject } from './scene.ts';
import { candidateValue, choiceOf, yesNo, type Made, type QuestionForm, type QuestionStyle, type TemplateV2 } from './v2-ask.ts';
import { ABSENT_COLOUR, SCENE_LEXICON, type WordChooser } from './v2-lexicon.ts';
import { describeObject, fitsDescription, realise, realiseRegion, uniqueDescription, withArticle, type Described, type Region } from './v2-refer.ts';
import { NUMBER_WORDS, RELATIONS, relationHolds, SCENE_TYPES, SHAPES, type Relation } from './vocab.ts';

const t = (id: string, type: TemplateV2['type'], form: QuestionForm, style: QuestionStyle, heldOut: boolean, make: TemplateV2['make']): TemplateV2 =>
  ({ id, type, form, style, heldOut, make });
const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

// Counting --------------------------------------------------------------------
interface Counted { phrase: string; count: number }

/** What to count: all objects, a shape, a colour, both, a size, signs showing a digit, a row or column, or something absent. */
function countTarget(s: Scene, w: WordChooser, plural = true): Counted {
  const o = w.pick(s.objects);
  const kind = w.rng.int(0, 7);
  let d: Described = {};
  let region: Region | undefined;
  if (kind === 1) d = { shape: o.shape };
  else if (kind === 2) d = { colour: o.colour };
  else if (kind === 3) d = { colour: o.colour, shape: o.shape };
  else if (kind === 4) d = o.shape === 'sign' ? { shape: o.shape } : { size: o.size, shape: o.shape };
  else if (kind === 5) d = o.shape === 'sign' ? { shape: 'sign', digit: o.digit as number } : { size: o.size };
  else if (kind === 6) {
    d = w.pick<Described>([{}, { shape: o.shape }, { colour: o.colour }]);
    region = w.chance(0.5) ? { row: o.row } : { col: o.col };
  } else if (kind === 7) {
    const missing = SHAPES.filter((sh) => !s.objects.some((p) => p.shape === sh));
    d = missing.length > 0 && w.chance(0.7) ? { shape: w.pick(missing) } : { colour: ABSENT_COLOUR, ...(w.chance(0.5) ? { shape: o.shape } : {}) };
  }
  const inRegion = (p: SceneObject) => region === undefined || (region.row === undefined || p.row === region.row) && (region.col === undefined || p.col === region.col);
  const where = region === undefined ? '' : ` ${realiseRegion(region, w)}`;
  return { phrase: realise(d, w, plural) + where, count: s.objects.filter((p) => fitsDescription(p, d) && inRegion(p)).length };
}

const countOpen = (f: (p: string) => string) => (s: Scene, w: WordChooser): Made => {
  const c = countTarget(s, w);
  return { question: f(c.phrase), answer: String(c.count), absent: c.count === 0 };
};
const number = (n: number, w: WordChooser) => w.word([String(n), NUMBER_WORDS[n] as string]);
/** "Are there three red circles?" for a number near the truth (two or more). */
const countYesNo = (f: (n: string, p: string) => string) => (s: Scene, w: WordChooser): Made => {
  const c = countTarget(s, w);
  const n = c.count >= 2 && w.chance(0.5) ? c.count : w.pick([Math.max(2, c.count - 1), Math.max(2, c.count + 1), 2, 3]);
  return { question: f(number(n, w), c.phrase), answer: yesNo(n === c.count), absent: c.count === 0 };
};
const countOne = (f: (sg: string) => string, holds: (count: number) => boolean) => (s: Scene, w: WordChooser): Made => {
  const c = countTarget(s, w, false);
  return { question: f(c.phrase), answer: yesNo(holds(c.count)), absent: c.count === 0 };
};

// Existence -------------------------------------------------------------------
interface Asked { d: Described; answer: 'yes' | 'no'; negative?: NegativeKind }

/** Half the time an object that is there; else one that is not, drawn the POPE way (or grey, or in the wrong place). */
function existTarget(s: Scene, w: WordChooser): Asked {
  if (w.chance(0.5)) {
    const o = w.pick(s.objects);
    const attrs = w.pick([{ colour: true }, { colour: true }, {}, { size: true, colour: true }, { place: true }, { digit: true }]);
    return { d: describeObject(o, { shape: true, ...attrs }), answer: 'yes' };
  }
  const r = w.rng.next();
  if (r < 0.12) return { d: { colour: ABSENT_COLOUR, shape: w.pick(SHAPES) }, answer: 'no', negative: 'random' };
  if (r < 0.24) {
    // A shape that is there, asked about in a cell where it is not: one attribute away.
    const o = w.pick(s.objects);
    const cells = [0, 1, 2].flatMap((row) => [0, 1, 2].map((col) => ({ row, col }))).filter((c) => !s.objects.some((p) => p.shape === o.shape && p.row === c.row && p.col === c.col));
    const cell = w.pick(cells);
    return { d: { shape: o.shape, row: cell.row as 0 | 1 | 2, col: cell.col as 0 | 1 | 2 }, answer: 'no', negative: 'adversarial' };
  }
  const negative = w.pick(['random', 'popular', 'adversarial'] as const);
  const p = absentObject(s, negative, w.rng);
  return { d: { colour: p.colour, shape: p.shape }, answer: 'no', negative };
}

const existSingular = (f: (np: string) => string) => (s: Scene, w: WordChooser): Made => {
  const a = existTarget(s, w);
  return { question: f(withArticle(realise(a.d, w))), answer: a.answer, absent: a.answer === 'no', ...(a.negative ? { negative: a.negative } : {}) };
};
const existPlural = (f: (pl: string) => string) => (s: Scene, w: WordChooser): Made => {
  const a = existTarget(s, w);
  return { question: f(realise(a.d, w, true)), answer: a.answer, absent: a.answer === 'no', ...(a.negative ? { negative: a.negative } : {}) };
};

// Relations -------------------------------------------------------------------
const RELATION_WORDS: Record<Relation, readonly string[]> = {
  'left of': ['to the left of', 'left of', 'on the left of'], 'right of': ['to the right of', 'right of', 'on the right of'],
  above: ['above', 'over'], below: ['below', 'under', 'beneath'],
};

/** "Is the A <rel> the B?": places never describe A or B, they would give the answer away. */
const relationYesNo = (f: (a: string, rel: string, b: string) => string) => (s: Scene, w: WordChooser): Made | null => {
  const pairs = s.objects.flatMap((a) => s.objects.filter((b) => b !== a).map((b) => [a, b] as const));
  for (const [a, b] of w.rng.shuffle(pairs)) {
    const da = uniqueDescription(a, s, ['place'], w);
    const db = uniqueDescription(b, s, ['place'], w);
    if (da === null || db === null) continue;
    const wanted = w.chance(0.5);
    const fitting = RELATIONS.filter((r) => relationHolds(a, r, b) === wanted);
    const rel = fitting.length > 0 ? w.pick(fitting) : w.pick(RELATIONS);
    return { question: f(realise(da, w), w.word(RELATION_WORDS[rel]), realise(db, w)), answer: yesNo(relationHolds(a, rel, b)), absent: false };
  }
  return null;
};

/** "What is to the left of the B?": asked only where at most one object fits; the answer is its shape, or "nothing". */
const relationOpen = (f: (rel: string, b: string) => string) => (s: Scene, w: WordChooser): Made | null => {
  const options = s.objects.flatMap((b) => RELATIONS.map((rel) => ({ b, rel, fit: s.objects.filter((a) => a !== b && relationHolds(a, rel, b)) })))
    .filter((x) => x.fit.length <= 1);
  const wanted = w.chance(0.8) ? options.filter((x) => x.fit.length === 1) : options.filter((x) => x.fit.length === 0);
  for (const x of w.rng.shuffle(wanted)) {
    const db = uniqueDescription(x.b, s, ['place'], w);
    if (db === null) continue;
    const answer = x.fit.length === 1 ? (x.fit[0] as SceneObject).shape : 'nothing';
    return { question: f(w.word(RELATION_WORDS[x.rel]), realise(db, w)), answer, absent: false };
  }
  return null;
};

// Scene -----------------------------------------------------------------------
const sceneOpen = (question: string) => (s: Scene): Made => ({ question, answer: s.scene, absent: false });
const sceneYesNo = (f: (s: (typeof SCENE_LEXICON)[keyof typeof SCENE_LEXICON], w: WordChooser) => string) => (s: Scene, w: WordChooser): Made => {
  const asked = candidateValue(s.scene, SCENE_TYPES, [], w);
  return { question: f(SCENE_LEXICON[asked], w), answer: yesNo(asked === s.scene), absent: false };
};

/** "Was this photo taken on a beach or in the snow?": the true scene and another, in either order. */
const sceneChoice = (f: (a: string, b: string) => string) => (s: Scene, w: WordChooser): Made => {
  const [a, b] = choiceOf(s.scene, SCENE_TYPES, w);
  return { question: f(w.word(SCENE_LEXICON[a].preps), w.word(SCENE_LEXICON[b].preps)), answer: s.scene, absent: false };
};

export const SCENE_TEMPLATES: readonly TemplateV2[] = [
  t('q2-count-how', 'count', 'open', 'direct', false, countOpen((p) => `How many ${p} are there?`)),
  t('q2-count-picture', 'count', 'open', 'direct', false, countOpen((p) => `How many ${p} are in the picture?`)),
  t('q2-count-see', 'count', 'open', 'direct', false, countOpen((p) => `How many ${p} can you see?`)),
  t('q2-count-count', 'count', 'open', 'indirect', false, countOpen((p) => `Count the ${p}.`)),
  t('q2-count-inverted', 'count', 'open', 'inverted', false, countOpen((p) => `There are how many ${p}?`)),
  t('q2-count-fragment', 'count', 'open', 'fragment', false, countOpen((p) => `Number of ${p}?`)),
  t('q2-count-yn', 'count', 'yes-no', 'direct', false, countYesNo((n, p) => `Are there ${n} ${p}?`)),
  t('q2-count-yn-one', 'count', 'yes-no', 'direct', false, countOne((sg) => `Is there exactly one ${sg}?`, (c) => c === 1)),
  t('q2-count-yn-more', 'count', 'yes-no', 'direct', false, countOne((sg) => `Is there more than one ${sg}?`, (c) => c > 1)),
  t('q2-count-in-picture', 'count', 'open', 'direct', false, countOpen((p) => `In the picture, how many ${p} are there?`)),
  t('q2-count-do-you', 'count', 'open', 'direct', false, countOpen((p) => `How many ${p} do you see?`)),
  t('q2-count-say', 'count', 'open', 'indirect', false, countOpen((p) => `Say how many ${p} the picture shows.`)),
  t('q2-count-yn-see', 'count', 'yes-no', 'direct', false, countYesNo((n, p) => `Can you see ${n} ${p}?`)),
  t('q2-count-tell-number', 'count', 'open', 'indirect', false, countOpen((p) => `Tell me the number of ${p}.`)),
  t('q2-count-say-number', 'count', 'open', 'indirect', false, countOpen((p) => `Say the number of ${p} in the picture.`)),
  t('q2-count-in-photo', 'count', 'open', 'direct', false, countOpen((p) => `How many ${p} are there in this photo?`)),
  t('q2h-count-tell', 'count', 'open', 'indirect', true, countOpen((p) => `Tell me how many ${p} there are.`)),
  t('q2h-count-fragment', 'count', 'open', 'fragment', true, countOpen((p) => `${capitalise(p)}: how many?`)),
  t('q2h-count-contain', 'count', 'open', 'direct', true, countOpen((p) => `How many ${p} does the photo contain?`)),
  t('q2h-count-number', 'count', 'open', 'direct', true, countOpen((p) => `What is the number of ${p} in this image?`)),
  t('q2h-count-yn', 'count', 'yes-no', 'indirect', true, countYesNo((n, p) => `Do you count ${n} ${p}?`)),

  t('q2-exist-picture', 'exist', 'yes-no', 'direct', false, existSingular((np) => `Is there ${np} in the picture?`)),
  t('q2-exist-see', 'exist', 'yes-no', 'direct', false, existSingular((np) => `Do you see ${np}?`)),
  t('q2-exist-is', 'exist', 'yes-no', 'direct', false, existSingular((np) => `Is there ${np}?`)),
  t('q2-exist-can', 'exist', 'yes-no', 'direct', false, existSingular((np) => `Can you see ${np}?`)),
  t('q2-exist-have', 'exist', 'yes-no', 'direct', false, existSingular((np) => `Does the picture have ${np}?`)),
  t('q2-exist-any', 'exist', 'yes-no', 'direct', false, existPlural((pl) => `Are there any ${pl}?`)),
  t('q2-exist-fragment', 'exist', 'yes-no', 'fragment', false, existPlural((pl) => `Any ${pl}?`)),
  t('q2-exist-show', 'exist', 'yes-no', 'direct', false, existSingular((np) => `Does this photo show ${np}?`)),
  t('q2-exist-in-picture', 'exist', 'yes-no', 'direct', false, existSingular((np) => `In the picture, is there ${np}?`)),
  t('q2-exist-any-see', 'exist', 'yes-no', 'direct', false, existPlural((pl) => `Do you see any ${pl}?`)),
  t('q2-exist-yes-no', 'exist', 'yes-no', 'fragment', false, existSingular((np) => `${capitalise(np)} in the picture, yes or no?`)),
  t('q2h-exist-contain', 'exist', 'yes-no', 'direct', true, existSingular((np) => `Does the image contain ${np}?`)),
  t('q2h-exist-visible', 'exist', 'yes-no', 'inverted', true, existSingular((np) => `Is ${np} visible?`)),
  t('q2h-exist-check', 'exist', 'yes-no', 'indirect', true, existSingular((np) => `Could you check whether there is ${np}?`)),
  t('q2h-exist-tell', 'exist', 'yes-no', 'indirect', true, existPlural((pl) => `Tell me if there are any ${pl}.`)),

  t('q2-relation-is', 'relation', 'yes-no', 'direct', false, relationYesNo((a, rel, b) => `Is the ${a} ${rel} the ${b}?`)),
  t('q2-relation-sit', 'relation', 'yes-no', 'direct', false, relationYesNo((a, rel, b) => `Does the ${a} sit ${rel} the ${b}?`)),
  t('q2-relation-fragment', 'relation', 'yes-no', 'fragment', false, relationYesNo((a, rel, b) => `${capitalise(a)} ${rel} the ${b}?`)),
  t('q2-relation-what', 'relation', 'open', 'direct', false, relationOpen((rel, b) => `What is ${rel} the ${b}?`)),
  t('q2-relation-which', 'relation', 'open', 'direct', false, relationOpen((rel, b) => `Which object is ${rel} the ${b}?`)),
  t('q2-relation-tell', 'relation', 'open', 'indirect', false, relationOpen((rel, b) => `Tell me what is ${rel} the ${b}.`)),
  t('q2-relation-there', 'relation', 'yes-no', 'direct', false, relationYesNo((a, rel, b) => `Is there ${withArticle(a)} ${rel} the ${b}?`)),
  t('q2-relation-yes-no', 'relation', 'yes-no', 'fragment', false, relationYesNo((a, rel, b) => `The ${a} is ${rel} the ${b}, yes or no?`)),
  t('q2-relation-see', 'relation', 'open', 'direct', false, relationOpen((rel, b) => `What do you see ${rel} the ${b}?`)),
  t('q2-relation-thing', 'relation', 'open', 'direct', false, relationOpen((rel, b) => `What thing is ${rel} the ${b}?`)),
  t('q2-relation-which-shape', 'relation', 'open', 'direct', false, relationOpen((rel, b) => `Which shape is ${rel} the ${b}?`)),
  t('q2-relation-what-shape', 'relation', 'open', 'direct', false, relationOpen((rel, b) => `What shape is ${rel} the ${b}?`)),
  t('q2-relation-say-shape', 'relation', 'open', 'indirect', false, relationOpen((rel, b) => `Say which shape is ${rel} the ${b}.`)),
  t('q2-relation-tell-yn', 'relation', 'yes-no', 'indirect', false, relationYesNo((a, rel, b) => `Tell me, is the ${a} ${rel} the ${b}?`)),
  t('q2-relation-do-you-see', 'relation', 'yes-no', 'direct', false, relationYesNo((a, rel, b) => `Do you see the ${a} ${rel} the ${b}?`)),
  t('q2-relation-say-yn', 'relation', 'yes-no', 'indirect', false, relationYesNo((a, rel, b) => `Say yes or no: is the ${a} ${rel} the ${b}?`)),
  t('q2-relation-can-see', 'relation', 'open', 'direct', false, relationOpen((rel, b) => `Which shape can you see ${rel} the ${b}?`)),
  t('q2h-relation-say', 'relation', 'yes-no', 'indirect', true, relationYesNo((a, rel, b) => `Would you say the ${a} is ${rel} the ${b}?`)),
  t('q2h-relation-true', 'relation', 'yes-no', 'indirect', true, relationYesNo((a, rel, b) => `Is it true that the ${a} is ${rel} the ${b}?`)),
  t('q2h-relation-name', 'relation', 'open', 'indirect', true, relationOpen((rel, b) => `Name the shape ${rel} the ${b}.`)),
  t('q2h-relation-seen', 'relation', 'open', 'direct', true, relationOpen((rel, b) => `Which shape can be seen ${rel} the ${b}?`)),

  t('q2-scene-where', 'scene', 'open', 'direct', false, sceneOpen('Where was this photo taken?')),
  t('q2-scene-kind', 'scene', 'open', 'direct', false, sceneOpen('What kind of scene is this?')),
  t('q2-scene-place', 'scene', 'open', 'direct', false, sceneOpen('What kind of place is this?')),
  t('q2-scene-where-is', 'scene', 'open', 'direct', false, sceneOpen('Where is this?')),
  t('q2-scene-setting', 'scene', 'open', 'direct', false, sceneOpen('What is the setting of this picture?')),
  t('q2-scene-tell', 'scene', 'open', 'indirect', false, sceneOpen('Tell me where this picture was taken.')),
  t('q2-scene-inverted', 'scene', 'open', 'inverted', false, sceneOpen('This photo was taken where?')),
  t('q2-scene-fragment', 'scene', 'open', 'fragment', false, sceneOpen('Setting?')),
  t('q2-scene-yn-taken', 'scene', 'yes-no', 'direct', false, sceneYesNo((x, w) => `Was this photo taken ${w.word(x.preps)}?`)),
  t('q2-scene-yn-kind', 'scene', 'yes-no', 'direct', false, sceneYesNo((x, w) => `Is this ${withArticle(w.word(x.kinds))} scene?`)),
  t('q2-scene-what-scene', 'scene', 'open', 'direct', false, sceneOpen('What scene is this?')),
  t('q2-scene-say', 'scene', 'open', 'indirect', false, sceneOpen('Say what kind of place this is.')),
  t('q2-scene-in-what', 'scene', 'open', 'direct', false, sceneOpen('In what kind of place was this photo taken?')),
  t('q2-scene-fragment-place', 'scene', 'open', 'fragment', false, sceneOpen('Kind of place?')),
  t('q2-scene-choice', 'scene', 'open', 'direct', false, sceneChoice((a, b) => `Was this photo taken ${a} or ${b}?`)),
  t('q2-scene-fragment-scene', 'scene', 'open', 'fragment', false, sceneOpen('Scene?')),
  t('q2-scene-kind-of-scene', 'scene', 'open', 'fragment', false, sceneOpen('Kind of scene?')),
  t('q2-scene-what-setting', 'scene', 'open', 'direct', false, sceneOpen('What setting is this?')),
  t('q2-scene-tell-setting', 'scene', 'open', 'indirect', false, sceneOpen('Tell me the setting.')),
  t('q2-scene-in-picture', 'scene', 'open', 'direct', false, sceneOpen('What is the scene in this picture?')),
  t('q2h-scene-describe', 'scene', 'open', 'indirect', true, sceneOpen('Describe the setting in one word.')),
  t('q2h-scene-landscape', 'scene', 'open', 'direct', true, sceneOpen('Which kind of landscape is shown?')),
  t('q2h-scene-might', 'scene', 'open', 'direct', true, sceneOpen('Where might this photo have been taken?')),
  t('q2h-scene-fragment', 'scene', 'open', 'fragment', true, sceneOpen('Scene type?')),
  t('q2h-scene-yn', 'scene', 'yes-no', 'indirect', true, sceneYesNo((x, w) => `Could this picture have been taken ${w.word(x.preps)}?`)),
];
