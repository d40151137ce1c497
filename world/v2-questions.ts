// Language version 2: every question template, and the questions of one image:
// one per type from seen wordings, and in the test split one from a held-out
// template and one that pairs seen templates with held-out word combinations.
import type { Rng } from './rng.ts';
import type { Question, QuestionType } from './questions.ts';
import { QUESTION_TYPES } from './questions.ts';
import type { Scene } from './scene.ts';
import { OBJECT_TEMPLATES } from './v2-ask-objects.ts';
import { SCENE_TEMPLATES } from './v2-ask-scene.ts';
import type { Made, QuestionForm, QuestionStyle, TemplateV2 } from './v2-ask.ts';
import { americanise, WordChooser, type WordingKind } from './v2-lexicon.ts';

export const QUESTION_TEMPLATES_V2: readonly TemplateV2[] = [...OBJECT_TEMPLATES, ...SCENE_TEMPLATES];

export interface QuestionV2 extends Question {
  form: QuestionForm;
  style: QuestionStyle;
  /** `seen`: train's wordings; `new-template`: a held-out template; `new-combination`: seen template, held-out word pairing. */
  wording: WordingKind;
  absent: boolean;
}

/** How often a sentence is written with US spelling (color, center, gray). */
export const US_SPELLING_RATE = 0.3;

function ask(type: QuestionType, scene: Scene, rng: Rng, wording: WordingKind): QuestionV2 | null {
  const pool = QUESTION_TEMPLATES_V2.filter((t) => t.type === type && t.heldOut === (wording === 'new-template'));
  // A template may find nothing to ask (no unique reference, one object for a relation): try
  // others. Without a sign, only the first try may ask about the absent one, at its usual rate.
  const tries = type === 'digit' && !scene.objects.some((o) => o.shape === 'sign') ? 1 : 8;
  for (let n = 0; n < tries; n++) {
    const t = rng.pick(pool);
    const w = new WordChooser(rng, type, wording === 'new-combination');
    const made: Made | null = t.make(scene, w);
    if (made === null || (wording === 'new-combination' && !w.usedHeldOut)) continue;
    const question = rng.chance(US_SPELLING_RATE) ? americanise(made.question) : made.question;
    return {
      type, question, answer: made.answer, template: t.id, heldOut: wording !== 'seen',
      form: t.form, style: t.style, wording, absent: made.absent, ...(made.negative ? { negative: made.negative } : {}),
    };
  }
  return null;
}

/**
 * `n` more seen-wording questions of one type, each unlike the ones in `asked` (a data set
 * that weighs a type up: `dataset --more relation=3`); fewer where the scene has no more to ask.
 */
export function moreQuestionsV2(scene: Scene, rng: Rng, type: QuestionType, n: number, asked: readonly QuestionV2[]): QuestionV2[] {
  const texts = new Set(asked.map((q) => q.question.toLowerCase()));
  const out: QuestionV2[] = [];
  for (let tries = 0; out.length < n && tries < 4 * n; tries++) {
    const q = ask(type, scene, rng, 'seen');
    if (q === null) break;
    if (texts.has(q.question.toLowerCase())) continue;
    texts.add(q.question.toLowerCase());
    out.push(q);
  }
  return out;
}

export function makeQuestionsV2(scene: Scene, rng: Rng, includeHeldOut: boolean): QuestionV2[] {
  const kinds: WordingKind[] = includeHeldOut ? ['seen', 'new-template', 'new-combination'] : ['seen'];
  return QUESTION_TYPES.flatMap((type) => kinds.map((k) => ask(type, scene, rng, k)).filter((q): q is QuestionV2 => q !== null));
}
