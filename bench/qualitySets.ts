// Which texts of the test split each retrieval figure of bench/quality.ts searches with.
// Language 1: each image's captions, seen and held-out wordings. Language 2 (issue #17)
// adds partial descriptions (two objects of a scene of four or more) and the short search
// texts people type, seen and held-out.
import type { TestScene } from './testSplit.ts';

/** Texts and, for each, the index of the image it describes (retrievalRecall's textImage). */
export interface TextSet { texts: string[]; owner: number[] }

/** Objects a scene must hold for a two-object caption of it to count as a partial description. */
export const PARTIAL_SCENE_OBJECTS = 4;

/** A caption naming exactly two objects of a scene of four or more: issue #17's partial description. */
export function isPartialDescription(caption: TestScene['captions'][number], scene: TestScene): boolean {
  return caption.coverage === 'some' && caption.objects === 2 && scene.graph.objects.length >= PARTIAL_SCENE_OBJECTS;
}

function collect<T extends { text: string }>(scenes: readonly TestScene[], of: (s: TestScene) => readonly T[] | undefined, keep: (t: T, s: TestScene) => boolean): TextSet {
  const set: TextSet = { texts: [], owner: [] };
  scenes.forEach((s, i) => (of(s) ?? []).filter((t) => keep(t, s)).forEach((t) => { set.texts.push(t.text); set.owner.push(i); }));
  return set;
}

/**
 * The retrieval sets, by the name quality.json gives their recall under `retrieval`:
 * `seen`, `heldOut` (captions), and with language 2 `partial` (any wording), `searchSeen`, `searchHeldOut`.
 */
export function retrievalSets(scenes: readonly TestScene[], language: number): Record<string, TextSet> {
  const sets: Record<string, TextSet> = {
    seen: collect(scenes, (s) => s.captions, (c) => !c.heldOut),
    heldOut: collect(scenes, (s) => s.captions, (c) => c.heldOut),
  };
  if (language >= 2) {
    sets.partial = collect(scenes, (s) => s.captions, isPartialDescription);
    sets.searchSeen = collect(scenes, (s) => s.searches, (t) => !t.heldOut);
    sets.searchHeldOut = collect(scenes, (s) => s.searches, (t) => t.heldOut);
  }
  return sets;
}

/**
 * Base texts for the unknown-word queries, what people type: search texts (language 2's
 * searches; seen captions for language 1) and questions.
 */
export function queryBases(scenes: readonly TestScene[]): string[] {
  const searches = scenes.flatMap((s) => (s.searches ?? []).map((t) => t.text));
  const described = searches.length > 0 ? searches : scenes.flatMap((s) => s.captions.filter((c) => !c.heldOut).map((c) => c.text));
  return [...described, ...scenes.flatMap((s) => s.questions.map((q) => q.question))];
}
