// Language version 2's questions checked by the independent oracle in ./oracle-v2.ts,
// which answers every one from its wording alone, plus the forms the language promises.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { languageFor, sceneAt, SPLIT_LANGUAGE } from '../../world/generate.ts';
import { QUESTION_TYPES } from '../../world/questions.ts';
import type { SceneGraph } from '../../world/scene.ts';
import { SCENE_LEXICON } from '../../world/v2-lexicon.ts';
import { QUESTION_TEMPLATES_V2, type QuestionV2 } from '../../world/v2-questions.ts';
import { answerV2 } from './oracle-v2.ts';

const SCENES_PER_STREAM = 1200;
const STREAMS = ['train', 'val', 'test'] as const;

interface Asked { stream: string; index: number; graph: SceneGraph; q: QuestionV2 }

const asked: Asked[] = STREAMS.flatMap((stream) => Array.from({ length: SCENES_PER_STREAM }, (_, index) => {
  const item = languageFor(sceneAt(9, stream, index), 9, stream, index, SPLIT_LANGUAGE.test, 2);
  return item.questions.map((q) => ({ stream, index, graph: item.graph, q: q as QuestionV2 }));
}).flat());
const ofType = (type: string) => asked.filter((a) => a.q.type === type);

function show(a: Asked, got: string): string {
  const objects = a.graph.objects.map((o) => `  #${o.id} ${o.size} ${o.colour} ${o.shape} @ ${o.place}${o.digit === null ? '' : ` digit ${o.digit}`}`);
  return [`[${a.stream} #${a.index}] ${a.q.template}: ${a.q.question}`, `  generator: ${a.q.answer}   oracle: ${got}`, `  scene: ${a.graph.scene}`, ...objects].join('\n');
}

test('the v2 oracle answers every question from its wording and agrees with the generator', () => {
  assert.ok(asked.length > 80_000, `only ${asked.length} questions`);
  const mismatches: string[] = [];
  for (const a of asked) {
    let got: string;
    try {
      const r = answerV2(a.q.question, a.graph);
      got = r.type === a.q.type ? r.answer : `${r.answer} (but read as a ${r.type} question, tagged ${a.q.type})`;
    } catch (e) {
      got = `ERROR ${(e as Error).message}`;
    }
    if (got !== a.q.answer) mismatches.push(show(a, got));
  }
  assert.equal(mismatches.length, 0, `${mismatches.length} of ${asked.length} disagree; first ones:\n${mismatches.slice(0, 5).join('\n\n')}`);
});

test('every template is generated, with its type, form, style and held-out flag', () => {
  assert.equal(new Set(QUESTION_TEMPLATES_V2.map((t) => t.id)).size, QUESTION_TEMPLATES_V2.length, 'two templates share an id');
  const used = new Set(asked.map((a) => a.q.template));
  for (const t of QUESTION_TEMPLATES_V2) {
    assert.ok(used.has(t.id), `template ${t.id} never used`);
    for (const a of asked.filter((x) => x.q.template === t.id).slice(0, 30)) {
      assert.deepEqual([a.q.type, a.q.form, a.q.style], [t.type, t.form, t.style], t.id);
      assert.equal(a.q.wording === 'new-template', t.heldOut, `${t.id} question worded ${a.q.wording}`);
    }
  }
});

test('every type is asked open and yes/no, in several styles, from seen and held-out templates', () => {
  for (const type of QUESTION_TYPES) {
    const templates = QUESTION_TEMPLATES_V2.filter((t) => t.type === type);
    const seen = templates.filter((t) => !t.heldOut);
    const held = templates.filter((t) => t.heldOut);
    assert.ok(seen.length >= 6 && held.length >= 4, `${type}: ${seen.length} seen, ${held.length} held-out templates`);
    const forms = new Set(seen.map((t) => t.form));
    // Existence is yes/no by nature; every other type has both.
    assert.deepEqual([...forms].sort(), type === 'exist' ? ['yes-no'] : ['open', 'yes-no'], `${type} forms`);
    const styles = new Set(templates.map((t) => t.style));
    assert.ok(styles.size >= 3 && styles.has('fragment') || type === 'size' && styles.size >= 3, `${type} styles: ${[...styles].join(', ')}`);
    assert.ok(styles.has('indirect'), `${type} has no indirect form`);
  }
});

test('questions about absent things are answered truthfully: "there is no ...", 0, "no" or "nothing"', () => {
  for (const type of ['colour', 'shape', 'size', 'position', 'digit']) {
    const absent = ofType(type).filter((a) => a.q.absent);
    assert.ok(absent.length > 100, `${type}: only ${absent.length} absent questions`);
    assert.ok(absent.every((a) => /^there is no (?:(?:small|large) )?(?:\w+ )?\w+$/.test(a.q.answer)), `${type}: ${absent.find((a) => !a.q.answer.startsWith('there is no'))?.q.answer}`);
    // Most scenes hold no sign, so "there is no sign" is a larger share of digit questions.
    const share = absent.length / ofType(type).length;
    assert.ok(share < (type === 'digit' ? 0.35 : 0.2), `${type}: ${(share * 100).toFixed(1)} % absent`);
  }
  assert.ok(ofType('count').some((a) => a.q.answer === '0' && a.q.absent));
  assert.ok(ofType('relation').some((a) => a.q.answer === 'nothing'));
  assert.ok(ofType('exist').some((a) => a.q.answer === 'no' && /\b(grey|gray)\b/.test(a.q.question)));
});

test('yes/no answers are balanced, and existence negatives keep their POPE kind', () => {
  for (const type of ['exist', 'relation', 'colour', 'position', 'scene']) {
    const yn = ofType(type).filter((a) => a.q.form === 'yes-no' && !a.q.absent || type === 'exist');
    const yes = yn.filter((a) => a.q.answer === 'yes').length / yn.length;
    assert.ok(yes >= 0.3 && yes <= 0.7, `${type}: "yes" share ${yes.toFixed(3)} of ${yn.length}`);
  }
  const kinds = new Set(ofType('exist').filter((a) => a.q.answer === 'no').map((a) => a.q.negative));
  assert.deepEqual([...kinds].sort(), ['adversarial', 'popular', 'random']);
});

test('open scene questions never name a scene, but a choice names the true one and one other; counts and digits are asked in several ways', () => {
  const sceneOfWord = new Map(Object.entries(SCENE_LEXICON).flatMap(([scene, s]) => [...s.nouns, ...s.preps, ...s.kinds].flatMap((x) => x.split(' '))
    .filter((x) => !['in', 'on', 'a', 'at', 'the', 'among', 'under', 'sky', 'sand'].includes(x)).map((x) => [x, scene] as const)));
  const choices = ofType('scene').filter((x) => x.q.template === 'q2-scene-choice');
  assert.ok(choices.length > 20, `${choices.length} scene choices`);
  for (const a of ofType('scene').filter((x) => x.q.form === 'open')) {
    const named = new Set(a.q.question.toLowerCase().split(/[^a-z]+/).map((x) => sceneOfWord.get(x)).filter((x) => x !== undefined));
    if (a.q.template === 'q2-scene-choice') assert.ok(named.size === 2 && named.has(a.q.answer as never), a.q.question);
    else assert.equal(named.size, 0, a.q.question);
  }
  const countWays = new Set(ofType('count').map((a) => a.q.template));
  assert.ok(countWays.size >= 12, `${countWays.size} count wordings`);
  assert.ok(ofType('count').some((a) => /\b(row|column|on the (left|right))\b/.test(a.q.question)), 'no counting by row or column');
  assert.ok(ofType('count').some((a) => /\bsigns? (showing|with|reading)\b/i.test(a.q.question)), 'no counting signs by digit');
  const digits = ofType('digit').map((a) => a.q.question);
  assert.ok(digits.some((q) => /\b(zero|one|two|three|four|five|six|seven|eight|nine)\b/.test(q)), 'digits are never asked as words');
  assert.ok(ofType('exist').some((a) => /sign (showing|with|reading)/.test(a.q.question)), 'no existence question about a digit');
});

test('the v2 oracle is not vacuous: it rejects ambiguity, giveaways, bad articles and unknown wordings', () => {
  const graph: SceneGraph = { scene: 'beach', objects: [
    { id: 0, shape: 'circle', colour: 'red', size: 'small', row: 0, col: 0, place: 'top left', digit: null },
    { id: 1, shape: 'circle', colour: 'blue', size: 'small', row: 1, col: 1, place: 'centre', digit: null },
    { id: 2, shape: 'sign', colour: 'red', size: 'large', row: 2, col: 2, place: 'bottom right', digit: 7 },
  ] };
  const answer = (q: string) => answerV2(q, graph).answer;
  assert.equal(answer('What color is the disc in the center?'), 'blue');
  assert.equal(answer('Is the crimson ball on the left of the azure dot?'), 'yes');
  assert.equal(answer('Colour of the star?'), 'there is no star');
  assert.equal(answer('Are there any gray discs?'), 'no');
  assert.equal(answer('Is there exactly one placard?'), 'yes');
  assert.equal(answer('Does the signboard show an 8?'), 'no');
  assert.equal(answer('Does the board have a seven?'), 'yes');
  assert.equal(answer('What is to the right of the blue ball?'), 'sign');
  assert.equal(answer('Was this photo taken on the seashore?'), 'yes');
  assert.equal(answer('Is the sign in the lower right corner?'), 'yes');
  assert.equal(answer('Number of balls in the upper row?'), '1');
  assert.throws(() => answer('Which object is above the sign?'), /no single answer/);
  assert.throws(() => answer('Where is the ball?'), /matches 2 objects/);
  assert.throws(() => answer('Is the red disc crimson?'), /states the colour/);
  assert.throws(() => answer('Is there an one on the sign?'), /wrong article/);
  assert.throws(() => answer('How many balls are in the top row?'), /unknown question wording/);
  // Swapping two objects' colours must change some generated answers.
  let changed = 0;
  for (const a of asked.slice(0, 4000)) {
    if (a.graph.objects.length < 2) continue;
    const g = structuredClone(a.graph);
    [g.objects[0]!.colour, g.objects[1]!.colour] = [g.objects[1]!.colour, g.objects[0]!.colour];
    try { if (answerV2(a.q.question, g).answer !== a.q.answer) changed++; } catch { changed++; }
  }
  assert.ok(changed > 150, `only ${changed} answers changed under a colour swap`);
});
