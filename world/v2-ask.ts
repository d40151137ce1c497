// Language version 2: what a question template is, and the helper that asks about
// one object (or about one that is not there, answered "there is no ...").
import type { NegativeKind, QuestionType } from './questions.ts';
import type { Scene, SceneObject } from './scene.ts';
import { ABSENT_COLOUR, type WordChooser } from './v2-lexicon.ts';
import { absentDescription, canonicalText, realise, uniqueDescription, type Attr, type Described } from './v2-refer.ts';
import { COLOURS, SHAPES, type Shape } from './vocab.ts';

/** `open`: the answer is a value; `yes-no`: "yes" or "no". Either may be "there is no X". */
export type QuestionForm = 'open' | 'yes-no';
/** How the sentence is built: a plain question, an indirect request, the asked part last, or a fragment. */
export type QuestionStyle = 'direct' | 'indirect' | 'inverted' | 'fragment';

export interface Made {
  question: string;
  answer: string;
  /** True when the question names something the image does not hold. */
  absent: boolean;
  negative?: NegativeKind;
}

export interface TemplateV2 {
  id: string;
  type: QuestionType;
  form: QuestionForm;
  style: QuestionStyle;
  heldOut: boolean;
  make: (s: Scene, w: WordChooser) => Made | null;
}

/** How often an attribute question asks about something that is not there. */
export const ABSENT_RATE = 0.12;

/** The answer to any question about a thing that is not there. */
export const noSuch = (d: Described): string => `there is no ${canonicalText(d)}`;

export const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** A value for a yes/no question: the true one half the time, else another (one the scene shows when it can). */
export function candidateValue<T>(truth: T, all: readonly T[], shown: readonly T[], w: WordChooser): T {
  if (w.chance(0.5)) return truth;
  const others = shown.filter((v) => v !== truth);
  const rest = all.filter((v) => v !== truth);
  return others.length > 0 && w.chance(0.7) ? w.pick(others) : w.pick(rest);
}

/** The two values a choice question offers ("Is the star red or blue?"): the true one and another, in either order. */
export function choiceOf<T>(truth: T, all: readonly T[], w: WordChooser): [T, T] {
  const other = w.pick(all.filter((v) => v !== truth));
  return w.chance(0.5) ? [truth, other] : [other, truth];
}

export interface AboutOne {
  /** Attributes the reference must not state: the asked one, and any that would give it away. */
  exclude: readonly Attr[];
  /** Which objects may be asked about. */
  filter?: (o: SceneObject) => boolean;
  /** Shapes an absent reference may name (null: never ask about an absent thing). */
  absentShapes?: readonly Shape[] | null;
  /** The sentence and the answer about object `o`, referred to as `ref` (no article). */
  ask: (ref: string, o: SceneObject, s: Scene, w: WordChooser) => { question: string; answer: string };
  /** The sentence about a thing that is not there (answered "there is no ..."). */
  askAbsent?: (ref: string, w: WordChooser) => string;
}

/** A question about one object picked out by a unique description, or now and then about an absent one. */
export function aboutOne(spec: AboutOne): (s: Scene, w: WordChooser) => Made | null {
  const allowShapeNoun = !spec.exclude.includes('shape');
  const absentShapes = spec.absentShapes === undefined ? SHAPES : spec.absentShapes;
  return (s, w) => {
    if (absentShapes !== null && w.chance(ABSENT_RATE)) {
      const d = absentDescription(s, spec.exclude, w, absentShapes, [...COLOURS, ABSENT_COLOUR]);
      if (d !== null) {
        const ref = realise(d, w, false, allowShapeNoun);
        const question = spec.askAbsent ? spec.askAbsent(ref, w) : spec.ask(ref, s.objects[0] as SceneObject, s, w).question;
        return { question, answer: noSuch(d), absent: true };
      }
    }
    for (const o of w.rng.shuffle(s.objects.filter(spec.filter ?? (() => true)))) {
      const d = uniqueDescription(o, s, spec.exclude, w);
      if (d !== null) return { ...spec.ask(realise(d, w, false, allowShapeNoun), o, s, w), absent: false };
    }
    return null;
  };
}
