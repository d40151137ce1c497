// Noun phrases and referring expressions shared by captions, questions and probes.
import type { SceneObject } from './scene.ts';
import { NUMBER_WORDS, PLURAL, placePhrase, type Relation, type SceneType } from './vocab.ts';

export interface NounPhraseParts {
  size?: boolean;
  colour?: boolean;
  place?: boolean;
  digit?: boolean;
}

export function article(word: string): 'a' | 'an' {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** "large red circle", without article; with `place`, "... at the top left". */
export function describe(o: Pick<SceneObject, 'shape' | 'colour' | 'size' | 'row' | 'col' | 'digit'>, parts: NounPhraseParts, shapeWord: string = o.shape): string {
  const words: string[] = [];
  if (parts.size) words.push(o.size);
  if (parts.colour) words.push(o.colour);
  words.push(shapeWord);
  let text = words.join(' ');
  if (parts.digit && o.shape === 'sign' && o.digit !== null) text += ` showing ${o.digit}`;
  if (parts.place) text += ` ${placePhrase(o.row, o.col)}`;
  return text;
}

export function withArticle(text: string): string {
  return `${article(text)} ${text}`;
}

/** "two large red circles" / "a large red circle". */
export function counted(count: number, singular: string, plural: string): string {
  return count === 1 ? withArticle(singular) : `${NUMBER_WORDS[count] ?? String(count)} ${plural}`;
}

export function pluralOf(o: Pick<SceneObject, 'shape'>, prefix: string[]): string {
  return [...prefix, PLURAL[o.shape]].join(' ');
}

/** "a, b and c". */
export function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** How each scene is named inside a sentence. */
export const SCENE_PHRASES: Record<SceneType, { prep: string; intro: readonly string[]; noun: string }> = {
  meadow: { prep: 'in a meadow', intro: ['a sunny meadow', 'a grassy meadow'], noun: 'meadow' },
  beach: { prep: 'on a beach', intro: ['a sandy beach', 'a beach by the sea'], noun: 'beach' },
  snow: { prep: 'in the snow', intro: ['a snowy field', 'a field of snow'], noun: 'snow' },
  night: { prep: 'at night', intro: ['a dark night', 'a night scene'], noun: 'night' },
  desert: { prep: 'in a desert', intro: ['a sandy desert', 'desert dunes'], noun: 'desert' },
};

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** How a relation reads between two noun phrases. */
export const RELATION_PHRASES: Record<Relation, string> = {
  'left of': 'to the left of', 'right of': 'to the right of', above: 'above', below: 'below',
};
