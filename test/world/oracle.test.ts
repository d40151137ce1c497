// Checks every generated question against the independent oracle in ./oracle.ts,
// plus distribution facts the generator promises (POPE-style negatives, balance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { languageFor, sceneAt } from '../../world/generate.ts';
import { QUESTION_TEMPLATES, QUESTION_TYPES, type Question } from '../../world/questions.ts';
import type { SceneGraph } from '../../world/scene.ts';
import { answerQuestion, classify } from './oracle.ts';

const SCENES_PER_STREAM = 1600;
const STREAMS = ['train', 'test'] as const;

interface Asked { stream: string; index: number; graph: SceneGraph; q: Question }

function collect(): Asked[] {
  const out: Asked[] = [];
  for (const stream of STREAMS) {
    for (let index = 0; index < SCENES_PER_STREAM; index++) {
      const item = languageFor(sceneAt(0, stream, index), 0, stream, index, { captions: 3, heldOut: true, probes: true });
      for (const q of item.questions) out.push({ stream, index, graph: item.graph, q });
    }
  }
  return out;
}

const asked = collect();
const ofType = (type: string) => asked.filter((a) => a.q.type === type);

function show(a: Asked, got: string): string {
  const objects = a.graph.objects.map((o) => `  #${o.id} ${o.size} ${o.colour} ${o.shape} @ ${o.place} (row ${o.row}, col ${o.col})${o.digit === null ? '' : ` digit ${o.digit}`}`);
  return [`[${a.stream} #${a.index}] ${a.q.template}: ${a.q.question}`, `  generator: ${a.q.answer}   oracle: ${got}`, `  scene: ${a.graph.scene}`, ...objects].join('\n');
}

test('the oracle agrees with every generated answer', () => {
  assert.ok(asked.length > 30_000, `only ${asked.length} questions`);
  const mismatches: string[] = [];
  for (const a of asked) {
    let got: string;
    try {
      got = answerQuestion(a.q.question, a.graph);
      const type = classify(a.q.question).type;
      if (type !== a.q.type) got = `${got} (but read as a ${type} question, tagged ${a.q.type})`;
    } catch (e) {
      got = `ERROR ${(e as Error).message}`;
    }
    if (got !== a.q.answer) mismatches.push(show(a, got));
  }
  assert.equal(mismatches.length, 0, `${mismatches.length} of ${asked.length} questions disagree; first ones:\n${mismatches.slice(0, 5).join('\n\n')}`);
});

test('every question type and every template is generated, held-out ones included', () => {
  for (const type of QUESTION_TYPES) assert.ok(ofType(type).length > 0, `no ${type} question`);
  const seen = new Set(asked.map((a) => a.q.template));
  for (const t of QUESTION_TEMPLATES) {
    assert.ok(seen.has(t.id), `template ${t.id} never used`);
    for (const a of asked.filter((x) => x.q.template === t.id).slice(0, 50)) {
      assert.equal(a.q.heldOut, t.heldOut, `${t.id} question marked heldOut=${a.q.heldOut}`);
      assert.equal(a.q.type, t.type, `${t.id} question typed ${a.q.type}`);
    }
  }
});

function yesShare(type: string): number {
  const qs = ofType(type);
  for (const a of qs) assert.ok(a.q.answer === 'yes' || a.q.answer === 'no', `${type} answer "${a.q.answer}"`);
  return qs.filter((a) => a.q.answer === 'yes').length / qs.length;
}

test('existence answers are balanced between yes and no', () => {
  const share = yesShare('exist');
  assert.ok(share >= 0.35 && share <= 0.65, `existence "yes" share ${share.toFixed(3)}`);
});

test('relation answers are balanced between yes and no', () => {
  const share = yesShare('relation');
  assert.ok(share >= 0.3 && share <= 0.7, `relation "yes" share ${share.toFixed(3)}`);
});

test('existence negatives carry a POPE kind, and all three kinds occur', () => {
  const kinds = new Set<string>();
  for (const a of ofType('exist')) {
    if (a.q.answer === 'no') {
      assert.ok(a.q.negative !== undefined, `"no" without a negative kind: ${a.q.question}`);
      kinds.add(a.q.negative);
    } else {
      assert.equal(a.q.negative, undefined, `"yes" with a negative kind: ${a.q.question}`);
    }
  }
  assert.deepEqual([...kinds].sort(), ['adversarial', 'popular', 'random']);
});

test('the oracle is not vacuous: it rejects ambiguity, giveaways and wrong graphs', () => {
  const graph: SceneGraph = { scene: 'snow', objects: [
    { id: 0, shape: 'circle', colour: 'red', size: 'small', row: 0, col: 0, place: 'top left', digit: null },
    { id: 1, shape: 'circle', colour: 'blue', size: 'small', row: 1, col: 1, place: 'centre', digit: null },
    { id: 2, shape: 'sign', colour: 'red', size: 'large', row: 2, col: 2, place: 'bottom right', digit: 7 },
  ] };
  assert.equal(answerQuestion('What colour is the object in the centre?', graph), 'blue');
  assert.equal(answerQuestion('Would you say the sign is below the blue circle?', graph), 'yes');
  assert.equal(answerQuestion('Is the red circle to the right of the sign?', graph), 'no');
  assert.equal(answerQuestion('How many small circles are in the picture?', graph), '2');
  assert.equal(answerQuestion('Does the image contain an orange star?', graph), 'no');
  assert.equal(answerQuestion('Read the number on the red object at the bottom right.', graph), '7');
  assert.throws(() => answerQuestion('Where is the circle?', graph), /matches 2 objects/);
  assert.throws(() => answerQuestion('What shape is the green object?', graph), /matches 0 objects/);
  assert.throws(() => answerQuestion('What colour is the red circle?', graph), /states the colour/);
  assert.throws(() => answerQuestion('Which digit does the red circle show?', graph), /shows no digit/);
  assert.throws(() => answerQuestion('Is there a orange star in the picture?', graph), /wrong article/);
  // Swapping two objects' colours must change some generated answers.
  let changed = 0;
  for (const a of asked.slice(0, 3000)) {
    if (a.graph.objects.length < 2) continue;
    const g = structuredClone(a.graph);
    [g.objects[0]!.colour, g.objects[1]!.colour] = [g.objects[1]!.colour, g.objects[0]!.colour];
    try { if (answerQuestion(a.q.question, g) !== a.q.answer) changed++; } catch { changed++; }
  }
  assert.ok(changed > 100, `only ${changed} answers changed under a colour swap`);
});
