// The language tells the truth about its scenes, checked by parsing the text back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { languageFor, sceneAt, SPLIT_LANGUAGE } from '../../world/generate.ts';
import { claimsHold, parseClaims } from '../../world/parse.ts';
import { PROBE_CATEGORIES } from '../../world/probes.ts';
import { objectExtent } from '../../world/render.ts';
import { MAX_OBJECTS, MIN_OBJECTS, toSceneGraph } from '../../world/scene.ts';
import { COLOURS, SCENE_TYPES, SHAPES } from '../../world/vocab.ts';

const SCENES = 2500;

test('every reference caption parses back to exactly its scene graph', () => {
  for (let i = 0; i < SCENES; i++) {
    const scene = sceneAt(3, 'test', i);
    const graph = toSceneGraph(scene);
    const item = languageFor(scene, 3, 'test', i, SPLIT_LANGUAGE.test);
    const truth = graph.objects.map((o) => `${o.size} ${o.colour} ${o.shape} ${o.digit ?? '-'}`).sort();
    for (const caption of item.captions) {
      const claims = parseClaims(caption.text);
      assert.equal(claims.scene, graph.scene, `scene of "${caption.text}"`);
      const parsed = claims.objects.flatMap((np) => Array.from({ length: np.count }, () => `${np.size} ${np.colour} ${np.shape} ${np.digit ?? '-'}`)).sort();
      assert.deepEqual(parsed, truth, `objects of "${caption.text}"`);
      assert.ok(claimsHold(claims, graph), `"${caption.text}" is not true of its image (places or counts)`);
    }
  }
});

test('every probe: the positive is true and the hard negative false for its image', () => {
  const seen = new Map<string, number>();
  for (let i = 0; i < SCENES; i++) {
    const scene = sceneAt(4, 'test', i);
    const graph = toSceneGraph(scene);
    const { probes } = languageFor(scene, 4, 'test', i, SPLIT_LANGUAGE.test);
    for (const p of probes) {
      assert.ok(claimsHold(parseClaims(p.positive), graph), `${p.category}: positive "${p.positive}" is false`);
      assert.ok(!claimsHold(parseClaims(p.negative), graph), `${p.category}: negative "${p.negative}" is true`);
      assert.notEqual(p.positive, p.negative);
      seen.set(p.category, (seen.get(p.category) ?? 0) + 1);
    }
  }
  for (const c of PROBE_CATEGORIES) assert.ok((seen.get(c) ?? 0) > SCENES / 4, `too few ${c} probes: ${seen.get(c) ?? 0}`);
});

test('the parser rejects claims that are false: wrong count, place, relation, scene or digit', () => {
  const graph = {
    scene: 'beach' as const,
    objects: [
      { id: 0, shape: 'circle' as const, colour: 'red' as const, size: 'large' as const, row: 0 as const, col: 0 as const, place: 'top left', digit: null },
      { id: 1, shape: 'sign' as const, colour: 'blue' as const, size: 'large' as const, row: 2 as const, col: 2 as const, place: 'bottom right', digit: 7 },
    ],
  };
  const holds = (text: string) => claimsHold(parseClaims(text), graph);
  assert.ok(holds('A large red circle at the top left and a blue sign showing 7 on a beach.'));
  assert.ok(holds('A red circle to the left of a blue sign.'));
  assert.ok(holds('A red circle above a blue sign.'));
  assert.ok(!holds('Two red circles on a beach.'));
  assert.ok(!holds('A red circle at the bottom left.'));
  assert.ok(!holds('A red circle to the right of a blue sign.'));
  assert.ok(!holds('A red circle in the snow.'));
  assert.ok(!holds('A blue sign showing 3.'));
  assert.ok(!holds('A small red circle.'));
});

test('scenes: every type, shape and colour occurs; 1-6 objects; one per cell; drawn inside their cells', () => {
  const types = new Set<string>();
  const shapes = new Set<string>();
  const colours = new Set<string>();
  let signs = 0;
  for (let i = 0; i < SCENES; i++) {
    const scene = sceneAt(5, 'train', i);
    types.add(scene.scene);
    assert.ok(scene.objects.length >= MIN_OBJECTS && scene.objects.length <= MAX_OBJECTS);
    const cells = new Set(scene.objects.map((o) => o.row * 3 + o.col));
    assert.equal(cells.size, scene.objects.length, 'two objects share a cell');
    for (const o of scene.objects) {
      shapes.add(o.shape);
      colours.add(o.colour);
      if (o.shape === 'sign') {
        signs++;
        assert.ok(o.digit !== null && o.digit >= 0 && o.digit <= 9);
      } else assert.equal(o.digit, null);
      const size = 64;
      const cell = size / 3;
      const { cx, cy, r } = objectExtent(o, size);
      const stroke = size / 90;
      assert.ok(cx - r - stroke > o.col * cell && cx + r + stroke < (o.col + 1) * cell, `object leaves its column: ${JSON.stringify(o)}`);
      assert.ok(cy - r - stroke > o.row * cell && cy + r + stroke < (o.row + 1) * cell, `object leaves its row: ${JSON.stringify(o)}`);
    }
  }
  assert.deepEqual([...types].sort(), [...SCENE_TYPES].sort());
  assert.deepEqual([...shapes].sort(), [...SHAPES].sort());
  assert.deepEqual([...colours].sort(), [...COLOURS].sort());
  assert.ok(signs > SCENES / 5);
});
