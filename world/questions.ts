// Questions with canonical short answers, generated from the scene graph.
import type { Rng } from './rng.ts';
import type { Scene, SceneObject } from './scene.ts';
import { RELATION_PHRASES, describe, withArticle } from './phrases.ts';
import {
  COLOURS, COLOUR_WEIGHTS, PLURAL, SHAPES, SHAPE_WEIGHTS, placeName, relationHolds, RELATIONS,
  type Colour, type Shape,
} from './vocab.ts';

export const QUESTION_TYPES = ['colour', 'shape', 'count', 'exist', 'position', 'relation', 'size', 'scene', 'digit'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export type NegativeKind = 'random' | 'popular' | 'adversarial';

export interface Question {
  type: QuestionType;
  question: string;
  answer: string;
  template: string;
  heldOut: boolean;
  /** For existence questions answered "no": how the absent object was drawn (POPE). */
  negative?: NegativeKind;
}

type Attr = 'shape' | 'colour' | 'size' | 'place';
type Description = Partial<Record<Attr, boolean>>;

const CANDIDATES: readonly Description[] = [
  { shape: true }, { colour: true, shape: true }, { size: true, shape: true }, { size: true, colour: true, shape: true },
  { shape: true, place: true }, { colour: true }, { size: true }, { size: true, colour: true }, { place: true },
];

function matches(p: SceneObject, o: SceneObject, d: Description): boolean {
  return (!d.shape || p.shape === o.shape) && (!d.colour || p.colour === o.colour)
    && (!d.size || p.size === o.size) && (!d.place || (p.row === o.row && p.col === o.col));
}

/**
 * The shortest-ish phrase that picks out `o` alone, never using the attributes in
 * `exclude` (the one being asked about). "circle", "red object", "square at the top left".
 */
export function referTo(o: SceneObject, scene: Scene, exclude: readonly Attr[], rng: Rng): string | null {
  const usable = CANDIDATES.filter((d) => exclude.every((a) => !d[a]));
  const unique = usable.filter((d) => scene.objects.filter((p) => matches(p, o, d)).length === 1);
  if (unique.length === 0) return null;
  const d = rng.chance(0.7) ? (unique[0] as Description) : rng.pick(unique);
  return describe(o, { size: d.size, colour: d.colour, place: d.place }, d.shape ? o.shape : 'object');
}

type Made = { question: string; answer: string; negative?: NegativeKind } | null;
interface QuestionTemplate { id: string; type: QuestionType; heldOut: boolean; make: (s: Scene, rng: Rng) => Made }

function aboutOne(exclude: readonly Attr[], filter: (o: SceneObject) => boolean, phrase: (ref: string) => string, answer: (o: SceneObject) => string) {
  return (s: Scene, rng: Rng): Made => {
    for (const o of rng.shuffle(s.objects.filter(filter))) {
      const ref = referTo(o, s, exclude, rng);
      if (ref !== null) return { question: phrase(ref), answer: answer(o) };
    }
    return null;
  };
}

function countQuestion(phrase: (what: string) => string) {
  return (s: Scene, rng: Rng): Made => {
    const o = rng.pick(s.objects);
    const kind = rng.int(0, 4);
    // Kind 4 asks about an absent shape, so "0" is an answer too.
    const absent = SHAPES.filter((sh) => !s.objects.some((p) => p.shape === sh));
    if (kind === 4 && absent.length > 0) return { question: phrase(PLURAL[rng.pick(absent)]), answer: '0' };
    const [what, pred] = kind === 0 ? ['objects', () => true] as const
      : kind === 1 ? [PLURAL[o.shape], (p: SceneObject) => p.shape === o.shape] as const
      : kind === 2 ? [`${o.colour} objects`, (p: SceneObject) => p.colour === o.colour] as const
      : [`${o.colour} ${PLURAL[o.shape]}`, (p: SceneObject) => p.colour === o.colour && p.shape === o.shape] as const;
    return { question: phrase(what), answer: String(s.objects.filter(pred).length) };
  };
}

const PAIRS: ReadonlyArray<{ colour: Colour; shape: Shape; weight: number }> = COLOURS.flatMap((colour) =>
  SHAPES.map((shape) => ({ colour, shape, weight: COLOUR_WEIGHTS[colour] * SHAPE_WEIGHTS[shape] })),
).sort((a, b) => b.weight - a.weight);

/** An object (colour + shape) absent from the scene, drawn the POPE way. */
export function absentObject(s: Scene, kind: NegativeKind, rng: Rng): { colour: Colour; shape: Shape } {
  const present = (c: Colour, sh: Shape) => s.objects.some((o) => o.colour === c && o.shape === sh);
  const absent = PAIRS.filter((p) => !present(p.colour, p.shape));
  if (kind === 'popular') return rng.pick(absent.slice(0, 3));
  if (kind === 'adversarial') {
    // One attribute away from an object that is there.
    const o = rng.pick(s.objects);
    const near = absent.filter((p) => p.colour === o.colour || p.shape === o.shape);
    if (near.length > 0) return rng.pick(near);
  }
  return rng.pick(absent);
}

function existQuestion(phrase: (np: string) => string) {
  return (s: Scene, rng: Rng): Made => {
    if (rng.chance(0.5)) {
      const o = rng.pick(s.objects);
      return { question: phrase(withArticle(`${o.colour} ${o.shape}`)), answer: 'yes' };
    }
    const negative = rng.pick(['random', 'popular', 'adversarial'] as const);
    const p = absentObject(s, negative, rng);
    return { question: phrase(withArticle(`${p.colour} ${p.shape}`)), answer: 'no', negative };
  };
}

function relationQuestion(phrase: (a: string, rel: string, b: string) => string) {
  return (s: Scene, rng: Rng): Made => {
    // Places are never used to refer here: they would give the answer away.
    const pairs = s.objects.flatMap((a) => s.objects.filter((b) => b !== a).map((b) => [a, b] as const));
    for (const [a, b] of rng.shuffle(pairs)) {
      const refA = referTo(a, s, ['place'], rng);
      const refB = referTo(b, s, ['place'], rng);
      if (refA === null || refB === null) continue;
      const wanted = rng.chance(0.5);
      const fitting = RELATIONS.filter((r) => relationHolds(a, r, b) === wanted);
      const rel = fitting.length > 0 ? rng.pick(fitting) : rng.pick(RELATIONS);
      return { question: phrase(refA, RELATION_PHRASES[rel], refB), answer: relationHolds(a, rel, b) ? 'yes' : 'no' };
    }
    return null;
  };
}

const isSign = (o: SceneObject) => o.shape === 'sign';
const any = () => true;

export const QUESTION_TEMPLATES: readonly QuestionTemplate[] = [
  { id: 'q-colour-what', type: 'colour', heldOut: false, make: aboutOne(['colour'], any, (r) => `What colour is the ${r}?`, (o) => o.colour) },
  { id: 'q-colour-which', type: 'colour', heldOut: false, make: aboutOne(['colour'], any, (r) => `Which colour does the ${r} have?`, (o) => o.colour) },
  { id: 'q-colour-held', type: 'colour', heldOut: true, make: aboutOne(['colour'], any, (r) => `Tell me the colour of the ${r}.`, (o) => o.colour) },
  { id: 'q-shape-what', type: 'shape', heldOut: false, make: aboutOne(['shape'], any, (r) => `What shape is the ${r}?`, (o) => o.shape) },
  { id: 'q-shape-which', type: 'shape', heldOut: false, make: aboutOne(['shape'], any, (r) => `Which shape is the ${r}?`, (o) => o.shape) },
  { id: 'q-shape-held', type: 'shape', heldOut: true, make: aboutOne(['shape'], any, (r) => `Name the shape of the ${r}.`, (o) => o.shape) },
  { id: 'q-count-how', type: 'count', heldOut: false, make: countQuestion((w) => `How many ${w} are there?`) },
  { id: 'q-count-picture', type: 'count', heldOut: false, make: countQuestion((w) => `How many ${w} are in the picture?`) },
  { id: 'q-count-held', type: 'count', heldOut: true, make: countQuestion((w) => `What is the number of ${w} in this image?`) },
  { id: 'q-exist-is', type: 'exist', heldOut: false, make: existQuestion((np) => `Is there ${np} in the picture?`) },
  { id: 'q-exist-see', type: 'exist', heldOut: false, make: existQuestion((np) => `Do you see ${np}?`) },
  { id: 'q-exist-held', type: 'exist', heldOut: true, make: existQuestion((np) => `Does the image contain ${np}?`) },
  { id: 'q-position-where', type: 'position', heldOut: false, make: aboutOne(['place'], any, (r) => `Where is the ${r}?`, (o) => placeName(o.row, o.col)) },
  { id: 'q-position-part', type: 'position', heldOut: false, make: aboutOne(['place'], any, (r) => `In which part of the picture is the ${r}?`, (o) => placeName(o.row, o.col)) },
  { id: 'q-position-held', type: 'position', heldOut: true, make: aboutOne(['place'], any, (r) => `Which area of the image holds the ${r}?`, (o) => placeName(o.row, o.col)) },
  { id: 'q-relation-is', type: 'relation', heldOut: false, make: relationQuestion((a, rel, b) => `Is the ${a} ${rel} the ${b}?`) },
  { id: 'q-relation-held', type: 'relation', heldOut: true, make: relationQuestion((a, rel, b) => `Would you say the ${a} is ${rel} the ${b}?`) },
  { id: 'q-size-which', type: 'size', heldOut: false, make: aboutOne(['size'], any, (r) => `Is the ${r} small or large?`, (o) => o.size) },
  { id: 'q-size-what', type: 'size', heldOut: false, make: aboutOne(['size'], any, (r) => `What size is the ${r}?`, (o) => o.size) },
  { id: 'q-size-held', type: 'size', heldOut: true, make: aboutOne(['size'], any, (r) => `How big is the ${r}?`, (o) => o.size) },
  { id: 'q-scene-where', type: 'scene', heldOut: false, make: (s) => ({ question: 'Where was this photo taken?', answer: s.scene }) },
  { id: 'q-scene-kind', type: 'scene', heldOut: false, make: (s) => ({ question: 'What kind of scene is this?', answer: s.scene }) },
  { id: 'q-scene-held', type: 'scene', heldOut: true, make: (s) => ({ question: 'Describe the setting in one word.', answer: s.scene }) },
  { id: 'q-digit-number', type: 'digit', heldOut: false, make: aboutOne(['size'], isSign, (r) => `What number is on the ${r}?`, (o) => String(o.digit)) },
  { id: 'q-digit-which', type: 'digit', heldOut: false, make: aboutOne(['size'], isSign, (r) => `Which digit does the ${r} show?`, (o) => String(o.digit)) },
  { id: 'q-digit-held', type: 'digit', heldOut: true, make: aboutOne(['size'], isSign, (r) => `Read the number on the ${r}.`, (o) => String(o.digit)) },
];

/** One question of each type that the scene allows, from seen templates and, if asked, one held-out question per type. */
export function makeQuestions(scene: Scene, rng: Rng, includeHeldOut: boolean): Question[] {
  const out: Question[] = [];
  for (const type of QUESTION_TYPES) {
    const templates = QUESTION_TEMPLATES.filter((t) => t.type === type);
    const groups = includeHeldOut ? [false, true] : [false];
    for (const heldOut of groups) {
      const t = rng.pick(templates.filter((x) => x.heldOut === heldOut));
      const made = t.make(scene, rng);
      if (made !== null) out.push({ type, ...made, template: t.id, heldOut });
    }
  }
  return out;
}
