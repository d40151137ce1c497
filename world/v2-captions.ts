// Language version 2: captions that name every object or only some of them, in
// reading order or not, and short search texts of one or two objects.
import type { Rng } from './rng.ts';
import type { Scene, SceneObject } from './scene.ts';
import { SCENE_PHRASES } from './phrases.ts';
import { americanise, SCENE_LEXICON, WordChooser, type WordingKind } from './v2-lexicon.ts';
import { describeObject, realise, withArticle, type Attr } from './v2-refer.ts';
import { NUMBER_WORDS } from './vocab.ts';

export interface CaptionV2 {
  text: string;
  template: string;
  heldOut: boolean;
  wording: WordingKind;
  /** `all`: every object is named; `some`: only some are. */
  coverage: 'all' | 'some';
  /** Objects in reading order (row, then column) or shuffled. */
  order: 'reading' | 'shuffled';
  objects: number;
}

export interface SearchV2 {
  text: string;
  template: string;
  heldOut: boolean;
  wording: WordingKind;
  objects: number;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const joinList = (items: readonly string[]) => (items.length <= 1 ? items[0] ?? '' : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

interface Ctx { s: Scene; w: WordChooser; objects: readonly SceneObject[]; places: boolean }

/** "a large crimson disc at the top left": size and colour always, so captions score on them. */
function item(o: SceneObject, c: Ctx): string {
  const attrs: Partial<Record<Attr, boolean>> = { size: true, colour: true, shape: true, digit: true, place: c.places };
  return withArticle(realise(describeObject(o, attrs), c.w));
}

/** Identical objects grouped: "two small red discs"; signs never group, their digits differ. */
function grouped(c: Ctx): string[] {
  const groups = new Map<string, SceneObject[]>();
  for (const o of c.objects) {
    const key = o.shape === 'sign' ? `sign#${o.id}` : `${o.size} ${o.colour} ${o.shape}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  return [...groups.values()].map((list) => {
    const o = list[0] as SceneObject;
    if (list.length === 1) return item(o, { ...c, places: false });
    return `${NUMBER_WORDS[list.length]} ${realise(describeObject(o, { size: true, colour: true, shape: true }), c.w, true)}`;
  });
}

const list = (c: Ctx) => joinList(c.objects.map((o) => item(o, c)));
const prep = (c: Ctx) => c.w.word(SCENE_LEXICON[c.s.scene].preps);
const kind = (c: Ctx) => c.w.word(SCENE_LEXICON[c.s.scene].kinds);
const noun = (c: Ctx) => c.w.word(SCENE_LEXICON[c.s.scene].nouns);

interface TextTemplate { id: string; heldOut: boolean; coverage: 'all' | 'some'; places: boolean; make: (c: Ctx) => string }
const cap = (id: string, heldOut: boolean, coverage: 'all' | 'some', places: boolean, make: (c: Ctx) => string): TextTemplate => ({ id, heldOut, coverage, places, make });

export const CAPTION_TEMPLATES_V2: readonly TextTemplate[] = [
  // Language 1's intros ("A sunny meadow with ..."), so its captions stay seen wording.
  cap('cap2-intro', false, 'all', true, (c) => `${capitalise(c.w.pick(SCENE_PHRASES[c.s.scene].intro))} with ${list(c)}.`),
  cap('cap2-photo-of', false, 'all', false, (c) => `A photo of ${list(c)} ${prep(c)}.`),
  cap('cap2-scene-with', false, 'all', true, (c) => `${capitalise(withArticle(kind(c)))} scene with ${list(c)}.`),
  cap('cap2-there-is', false, 'all', true, (c) => `${capitalise(prep(c))}, there ${c.objects.length === 1 ? 'is' : 'are'} ${list(c)}.`),
  cap('cap2-grouped', false, 'all', false, (c) => `${capitalise(joinList(grouped(c)))} ${prep(c)}.`),
  cap('cap2-some', false, 'some', false, (c) => `${capitalise(list(c))} ${prep(c)}.`),
  cap('cap2-among', false, 'some', true, (c) => `Among others, ${list(c)} ${prep(c)}.`),
  cap('cap2-including', false, 'some', false, (c) => `${capitalise(withArticle(kind(c)))} scene including ${list(c)}.`),
  cap('cap2h-see', true, 'all', false, (c) => `In this ${noun(c)} picture you can see ${list(c)}.`),
  cap('cap2h-shows', true, 'all', true, (c) => `The image shows ${list(c)}, ${prep(c)}.`),
  cap('cap2h-featuring', true, 'all', false, (c) => `${capitalise(withArticle(kind(c)))} shot featuring ${joinList(grouped(c))}.`),
  cap('cap2h-others', true, 'some', true, (c) => `${capitalise(prep(c))}, among others: ${list(c)}.`),
];

/** A search names one or two objects with fewer attributes than a caption. */
function term(o: SceneObject, w: WordChooser): string {
  const attrs = w.pick<Partial<Record<Attr, boolean>>>([{ colour: true }, { colour: true }, { size: true, colour: true }, {}, { colour: true, place: true }, { digit: true }]);
  return realise(describeObject(o, { shape: true, ...attrs }), w);
}
const terms = (c: Ctx) => joinList(c.objects.map((o) => term(o, c.w)));
const articled = (c: Ctx) => joinList(c.objects.map((o) => withArticle(term(o, c.w))));

export const SEARCH_TEMPLATES_V2: readonly TextTemplate[] = [
  cap('s2-terms', false, 'some', false, (c) => terms(c)),
  cap('s2-scene-with', false, 'some', false, (c) => `${noun(c)} with ${articled(c)}`),
  cap('s2-where', false, 'some', false, (c) => `${articled(c)} ${prep(c)}`),
  cap('s2-photo-of', false, 'some', false, (c) => `photo of ${articled(c)}`),
  cap('s2-pictures', false, 'some', false, (c) => `pictures with ${terms(c)}`),
  cap('s2h-find', true, 'some', false, (c) => `find the photo with ${articled(c)}`),
  cap('s2h-picture-of', true, 'some', false, (c) => `picture of ${articled(c)} ${prep(c)}`),
  cap('s2h-shot', true, 'some', false, (c) => `${kind(c)} shot, ${terms(c)}`),
];

/** Some objects: two of a scene of four or more, else one fewer than all (one of one). */
function someOf(s: Scene, rng: Rng): SceneObject[] {
  const n = s.objects.length;
  const k = n >= 4 ? (rng.chance(0.75) ? 2 : 3) : Math.max(1, n - 1);
  return rng.shuffle(s.objects).slice(0, k);
}

interface Written { text: string; template: string; heldOut: boolean; wording: WordingKind; coverage: 'all' | 'some'; order: 'reading' | 'shuffled'; objects: number }

function write(t: TextTemplate, s: Scene, rng: Rng, kindName: string, wording: WordingKind): Written | null {
  const w = new WordChooser(rng, kindName, wording === 'new-combination');
  const objects = t.coverage === 'some' ? someOf(s, rng) : (rng.chance(0.5) ? rng.shuffle(s.objects) : s.objects.slice());
  const order = objects.every((o, i) => i === 0 || (objects[i - 1] as SceneObject).id < o.id) ? 'reading' : 'shuffled';
  let text = t.make({ s, w, objects, places: t.places && rng.chance(0.7) });
  if (wording === 'new-combination' && !w.usedHeldOut) return null;
  if (rng.chance(0.3)) text = americanise(text);
  const coverage = objects.length === s.objects.length ? 'all' : 'some';
  return { text, template: t.id, heldOut: wording !== 'seen', wording, coverage, order, objects: objects.length };
}

/** Seen texts from distinct seen templates; with held-out ones, one per held-out template and one new combination. */
function makeTexts(templates: readonly TextTemplate[], kindName: string, s: Scene, rng: Rng, count: number, includeHeldOut: boolean): Written[] {
  const seen = templates.filter((t) => !t.heldOut);
  const out = rng.shuffle(seen).slice(0, count).map((t) => write(t, s, rng, kindName, 'seen') as Written);
  if (includeHeldOut) {
    out.push(...templates.filter((t) => t.heldOut).map((t) => write(t, s, rng, kindName, 'new-template') as Written));
    for (let tries = 0; tries < 8; tries++) {
      const made = write(rng.pick(seen), s, rng, kindName, 'new-combination');
      if (made !== null) {
        out.push(made);
        break;
      }
    }
  }
  return out;
}

export function makeCaptionsV2(s: Scene, rng: Rng, count: number, includeHeldOut: boolean): CaptionV2[] {
  return makeTexts(CAPTION_TEMPLATES_V2, 'caption', s, rng, count, includeHeldOut);
}

export function makeSearchesV2(s: Scene, rng: Rng, count: number, includeHeldOut: boolean): SearchV2[] {
  return makeTexts(SEARCH_TEMPLATES_V2, 'search', s, rng, count, includeHeldOut)
    .map(({ text, template, heldOut, wording, objects }) => ({ text, template, heldOut, wording, objects }));
}
