// Reference captions. Every template names every object with its size and
// colour (and a sign's digit), so each caption parses back to its scene graph.
import type { Rng } from './rng.ts';
import type { Scene, SceneObject } from './scene.ts';
import { SCENE_PHRASES, capitalise, counted, describe, joinList, pluralOf, withArticle } from './phrases.ts';

export interface Caption {
  text: string;
  template: string;
  /** Held-out templates never appear in train or val; they measure new phrasings. */
  heldOut: boolean;
}

type CaptionTemplate = { id: string; heldOut: boolean; make: (s: Scene, rng: Rng) => string };

const full = (o: SceneObject) => withArticle(describe(o, { size: true, colour: true, digit: true }));
const placed = (o: SceneObject) => withArticle(describe(o, { size: true, colour: true, digit: true, place: true }));

/** Groups identical objects ("two small red circles"); signs never group since their digits differ. */
function grouped(objects: readonly SceneObject[]): string[] {
  const groups = new Map<string, SceneObject[]>();
  for (const o of objects) {
    const key = o.shape === 'sign' ? `sign#${o.id}` : `${o.size} ${o.colour} ${o.shape}`;
    const list = groups.get(key) ?? [];
    list.push(o);
    groups.set(key, list);
  }
  return [...groups.values()].map((list) => {
    const o = list[0] as SceneObject;
    if (list.length === 1) return full(o);
    return counted(list.length, '', pluralOf(o, [o.size, o.colour]));
  });
}

export const CAPTION_TEMPLATES: readonly CaptionTemplate[] = [
  { id: 'cap-intro-placed', heldOut: false, make: (s, rng) => `${capitalise(rng.pick(SCENE_PHRASES[s.scene].intro))} with ${joinList(s.objects.map(placed))}.` },
  { id: 'cap-photo-of', heldOut: false, make: (s) => `A photo of ${joinList(s.objects.map(full))} ${SCENE_PHRASES[s.scene].prep}.` },
  { id: 'cap-grouped', heldOut: false, make: (s) => `${capitalise(joinList(grouped(s.objects)))} ${SCENE_PHRASES[s.scene].prep}.` },
  { id: 'cap-there-is', heldOut: false, make: (s) => `${capitalise(SCENE_PHRASES[s.scene].prep)}, there is ${joinList(s.objects.map(placed))}.` },
  { id: 'cap-held-see', heldOut: true, make: (s) => `In this ${SCENE_PHRASES[s.scene].noun} picture you can see ${joinList(s.objects.map(full))}.` },
  { id: 'cap-held-shows', heldOut: true, make: (s) => `The image shows ${joinList(grouped(s.objects))}, ${SCENE_PHRASES[s.scene].prep}.` },
];

/** `count` captions from distinct templates; held-out templates only when asked for. */
export function makeCaptions(scene: Scene, rng: Rng, count: number, includeHeldOut: boolean): Caption[] {
  const seen = CAPTION_TEMPLATES.filter((t) => !t.heldOut);
  const chosen = rng.shuffle(seen).slice(0, count);
  if (includeHeldOut) chosen.push(...CAPTION_TEMPLATES.filter((t) => t.heldOut));
  return chosen.map((t) => ({ text: t.make(scene, rng), template: t.id, heldOut: t.heldOut }));
}
