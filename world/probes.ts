// SugarCrepe-style compositional probes: a true caption and a hard negative
// that differs by one edit and is false for the image.
import type { Rng } from './rng.ts';
import type { Scene, SceneObject } from './scene.ts';
import { RELATION_PHRASES, SCENE_PHRASES, capitalise, withArticle } from './phrases.ts';
import { COLOURS, RELATIONS, SHAPES, relationHolds, type Colour, type Relation, type Shape } from './vocab.ts';

export const PROBE_CATEGORIES = [
  'replace-object', 'replace-attribute', 'replace-relation', 'swap-object', 'swap-attribute', 'add-object', 'add-attribute',
] as const;
export type ProbeCategory = (typeof PROBE_CATEGORIES)[number];

export interface Probe {
  category: ProbeCategory;
  positive: string;
  negative: string;
}

const OPPOSITE: Record<Relation, Relation> = { 'left of': 'right of', 'right of': 'left of', above: 'below', below: 'above' };

interface Mention { colour: Colour | null; shape: Shape }
const np = (m: Mention) => withArticle(m.colour === null ? m.shape : `${m.colour} ${m.shape}`);
const mention = (o: SceneObject): Mention => ({ colour: o.colour, shape: o.shape });

/** Whether distinct objects of the scene fit the mentions (and the relation between the first two). */
function fits(s: Scene, mentions: readonly Mention[], rel: Relation | null): boolean {
  const ok = (m: Mention, o: SceneObject) => o.shape === m.shape && (m.colour === null || o.colour === m.colour);
  const search = (i: number, taken: SceneObject[]): boolean => {
    if (i === mentions.length) return rel === null || taken.length < 2 || relationHolds(taken[0] as SceneObject, rel, taken[1] as SceneObject);
    return s.objects.some((o) => !taken.includes(o) && ok(mentions[i] as Mention, o) && search(i + 1, [...taken, o]));
  };
  return search(0, []);
}

function sentence(s: Scene, parts: string[], rel: Relation | null): string {
  const body = rel !== null && parts.length === 2
    ? `${parts[0]} ${RELATION_PHRASES[rel]} ${parts[1]}`
    : parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `${capitalise(body)} ${SCENE_PHRASES[s.scene].prep}.`;
}

/**
 * One probe per category that the scene allows. Negatives are checked false here
 * on the structure; the tests check them again by parsing the text.
 */
export function makeProbes(s: Scene, rng: Rng): Probe[] {
  const probes: Probe[] = [];
  const objs = rng.shuffle(s.objects);
  const a = objs[0] as SceneObject;
  const b = objs.find((o) => o.colour !== a.colour && o.shape !== a.shape) ?? null;
  const rel = b === null ? null : rng.shuffle(RELATIONS).find((r) => relationHolds(a, r, b)) ?? null;
  const base = b === null ? [mention(a)] : [mention(a), mention(b)];
  const positive = sentence(s, base.map(np), rel);
  const listed = sentence(s, base.map(np), null);

  const add = (category: ProbeCategory, pos: string, candidates: Array<{ mentions: Mention[]; rel: Relation | null }>) => {
    const neg = candidates.find((c) => !fits(s, c.mentions, c.rel));
    if (neg !== undefined) probes.push({ category, positive: pos, negative: sentence(s, neg.mentions.map(np), neg.rel) });
  };
  const replaceFirst = (m: Mention) => ({ mentions: base.map((x, k) => (k === 0 ? m : x)), rel });

  add('replace-object', positive, rng.shuffle(SHAPES.filter((sh) => sh !== a.shape)).map((shape) => replaceFirst({ colour: a.colour, shape })));
  add('replace-attribute', positive, rng.shuffle(COLOURS.filter((c) => c !== a.colour)).map((colour) => replaceFirst({ colour, shape: a.shape })));
  if (rel !== null) add('replace-relation', positive, [{ mentions: base, rel: OPPOSITE[rel] }]);
  if (b !== null) {
    add('swap-object', positive, [{ mentions: [{ colour: a.colour, shape: b.shape }, { colour: b.colour, shape: a.shape }], rel }]);
    add('swap-attribute', positive, [{ mentions: [{ colour: b.colour, shape: a.shape }, { colour: a.colour, shape: b.shape }], rel }]);
  }
  // Additions use the plain list form: "A, B and C on a beach."
  const extras = rng.shuffle(COLOURS.flatMap((colour) => SHAPES.map((shape) => ({ colour, shape }))))
    .filter((m) => !s.objects.some((o) => o.colour === m.colour && o.shape === m.shape));
  add('add-object', listed, extras.map((m) => ({ mentions: [...base, m], rel: null })));
  const bare = base.map((m, k) => (k === 0 ? { colour: null, shape: m.shape } : m));
  add('add-attribute', sentence(s, bare.map(np), null),
    rng.shuffle([...COLOURS]).map((colour) => ({ mentions: bare.map((m, k) => (k === 0 ? { colour, shape: m.shape } : m)), rel: null })));
  return probes;
}
