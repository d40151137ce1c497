// An independent oracle for the shapes-world questions: it reads only the question
// text and the scene graph, parses the wording itself and computes the canonical
// answer. It deliberately shares no code with world/questions.ts, parse.ts,
// phrases.ts or captions.ts, so a bug there cannot hide behind the same bug here.
import type { SceneGraph } from '../../world/scene.ts';
import { ALL_PLACES, COLOURS, PLURAL, SHAPES, SIZES, type Colour, type Shape, type Size } from '../../world/vocab.ts';

export type OracleType = 'colour' | 'shape' | 'count' | 'exist' | 'position' | 'relation' | 'size' | 'scene' | 'digit';
type GraphObject = SceneGraph['objects'][number];
type RelationWord = 'to the left of' | 'to the right of' | 'above' | 'below';

/** What a referring expression or counted noun phrase says about an object. */
export interface Reference {
  size?: Size;
  colour?: Colour;
  shape?: Shape;
  place?: { row: number; col: number };
}

/**
 * Every question wording, as a pattern over the whole question. Order matters only
 * where two wordings share a prefix: "Is the X small or large?" is tried before
 * the relation "Is the A <rel> the B?", which is tried before nothing else.
 */
export const WORDINGS: ReadonlyArray<{ type: OracleType; pattern: RegExp }> = [
  { type: 'colour', pattern: /^What colour is the (.+)\?$/ },
  { type: 'colour', pattern: /^Which colour does the (.+) have\?$/ },
  { type: 'colour', pattern: /^Tell me the colour of the (.+)\.$/ },
  { type: 'shape', pattern: /^What shape is the (.+)\?$/ },
  { type: 'shape', pattern: /^Which shape is the (.+)\?$/ },
  { type: 'shape', pattern: /^Name the shape of the (.+)\.$/ },
  { type: 'count', pattern: /^How many (.+) are there\?$/ },
  { type: 'count', pattern: /^How many (.+) are in the picture\?$/ },
  { type: 'count', pattern: /^What is the number of (.+) in this image\?$/ },
  { type: 'exist', pattern: /^Is there (.+) in the picture\?$/ },
  { type: 'exist', pattern: /^Do you see (.+)\?$/ },
  { type: 'exist', pattern: /^Does the image contain (.+)\?$/ },
  { type: 'scene', pattern: /^Where was this photo taken\?$/ },
  { type: 'scene', pattern: /^What kind of scene is this\?$/ },
  { type: 'scene', pattern: /^Describe the setting in one word\.$/ },
  { type: 'position', pattern: /^Where is the (.+)\?$/ },
  { type: 'position', pattern: /^In which part of the picture is the (.+)\?$/ },
  { type: 'position', pattern: /^Which area of the image holds the (.+)\?$/ },
  { type: 'size', pattern: /^Is the (.+) small or large\?$/ },
  { type: 'size', pattern: /^What size is the (.+)\?$/ },
  { type: 'size', pattern: /^How big is the (.+)\?$/ },
  { type: 'digit', pattern: /^What number is on the (.+)\?$/ },
  { type: 'digit', pattern: /^Which digit does the (.+) show\?$/ },
  { type: 'digit', pattern: /^Read the number on the (.+)\.$/ },
  { type: 'relation', pattern: /^Is the (.+) (to the left of|to the right of|above|below) the (.+)\?$/ },
  { type: 'relation', pattern: /^Would you say the (.+) is (to the left of|to the right of|above|below) the (.+)\?$/ },
];

/** The question's type and the captured phrases; throws on a wording it does not know. */
export function classify(question: string): { type: OracleType; parts: string[] } {
  const hits = WORDINGS.flatMap(({ type, pattern }) => {
    const m = pattern.exec(question);
    return m === null ? [] : [{ type, parts: m.slice(1) }];
  });
  if (hits.length === 0) throw new Error(`unknown question wording: ${JSON.stringify(question)}`);
  // "Is the red circle small or large?" is a size question, never a relation.
  const distinct = new Set(hits.map((h) => h.type));
  if (distinct.size > 1) throw new Error(`question matches several wordings (${[...distinct].join(', ')}): ${question}`);
  return hits[0]!;
}

function placeOf(name: string): { row: number; col: number } {
  const p = ALL_PLACES.find((x) => x.name === name);
  if (p === undefined) throw new Error(`unknown place "${name}"`);
  return { row: p.row, col: p.col };
}

/**
 * A referring expression without its leading "the":
 * [size] [colour] (shape | "object") [("at the" place) | "in the centre"].
 */
export function parseReference(text: string): Reference {
  const ref: Reference = {};
  let rest = text;
  const centre = / in the centre$/.exec(rest);
  const at = / at the ((?:top|middle|bottom) (?:left|centre|right))$/.exec(rest);
  if (centre !== null) {
    ref.place = placeOf('centre');
    rest = rest.slice(0, centre.index);
  } else if (at !== null) {
    if (at[1] === 'middle centre') throw new Error(`the centre cell is "in the centre", not "${at[0].trim()}"`);
    ref.place = placeOf(at[1]!);
    rest = rest.slice(0, at.index);
  }
  const words = rest.split(' ');
  const head = words.pop();
  if (head === 'object') { /* no shape */ } else if ((SHAPES as readonly string[]).includes(head ?? '')) ref.shape = head as Shape;
  else throw new Error(`bad head noun "${head}" in "${text}"`);
  if (words.length > 0 && (COLOURS as readonly string[]).includes(words[words.length - 1]!)) ref.colour = words.pop() as Colour;
  if (words.length > 0 && (SIZES as readonly string[]).includes(words[words.length - 1]!)) ref.size = words.pop() as Size;
  if (words.length > 0) throw new Error(`unparsed words "${words.join(' ')}" in "${text}"`);
  return ref;
}

/** A counted noun phrase: [size] [colour] ("objects" | plural shape). */
export function parseCounted(text: string): Reference {
  const words = text.split(' ');
  const head = words.pop() ?? '';
  const shape = SHAPES.find((s) => PLURAL[s] === head);
  if (head !== 'objects' && shape === undefined) throw new Error(`bad plural "${head}" in "${text}"`);
  const singular = [...words, shape ?? 'object'].join(' ');
  return parseReference(singular);
}

/** "a red circle" / "an orange star": checks the article, then parses the rest. */
export function parseIndefinite(text: string): Reference {
  const m = /^(a|an) (.+)$/.exec(text);
  if (m === null) throw new Error(`no indefinite article in "${text}"`);
  const wantsAn = /^[aeiou]/.test(m[2]!);
  if ((m[1] === 'an') !== wantsAn) throw new Error(`wrong article in "${text}"`);
  return parseReference(m[2]!);
}

export function fits(o: GraphObject, r: Reference): boolean {
  return (r.size === undefined || o.size === r.size) && (r.colour === undefined || o.colour === r.colour)
    && (r.shape === undefined || o.shape === r.shape)
    && (r.place === undefined || (o.row === r.place.row && o.col === r.place.col));
}

/** The one object a definite reference names; throws if it names none or several. */
export function resolve(text: string, graph: SceneGraph): GraphObject {
  const found = graph.objects.filter((o) => fits(o, parseReference(text)));
  if (found.length !== 1) {
    throw new Error(`"the ${text}" matches ${found.length} objects (ids ${found.map((o) => o.id).join(', ') || 'none'})`);
  }
  return found[0]!;
}

/** The asked-about attribute must not appear in the reference: it would give the answer away. */
function withoutGiveaway(text: string, attr: keyof Reference): string {
  if (parseReference(text)[attr] !== undefined) throw new Error(`reference "${text}" states the ${attr} it asks about`);
  return text;
}

export function relationHolds(a: GraphObject, rel: RelationWord, b: GraphObject): boolean {
  switch (rel) {
    case 'to the left of': return a.col < b.col;
    case 'to the right of': return a.col > b.col;
    case 'above': return a.row < b.row;
    case 'below': return a.row > b.row;
  }
}

const placeName = (o: GraphObject): string => ALL_PLACES.find((p) => p.row === o.row && p.col === o.col)!.name;
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** The canonical answer to a generated question, from its text and the scene graph alone. */
export function answerQuestion(question: string, graph: SceneGraph): string {
  const { type, parts } = classify(question);
  const [p0 = '', p1 = '', p2 = ''] = parts;
  switch (type) {
    case 'colour': return resolve(withoutGiveaway(p0, 'colour'), graph).colour;
    case 'shape': return resolve(withoutGiveaway(p0, 'shape'), graph).shape;
    case 'size': return resolve(withoutGiveaway(p0, 'size'), graph).size;
    case 'position': return placeName(resolve(withoutGiveaway(p0, 'place'), graph));
    case 'scene': return graph.scene;
    case 'count': {
      const what = parseCounted(p0);
      return String(graph.objects.filter((o) => fits(o, what)).length);
    }
    case 'exist': {
      const what = parseIndefinite(p0);
      return yesNo(graph.objects.some((o) => fits(o, what)));
    }
    case 'digit': {
      const sign = resolve(p0, graph);
      if (sign.shape !== 'sign' || sign.digit === null) throw new Error(`"the ${p0}" is a ${sign.shape}, which shows no digit`);
      return String(sign.digit);
    }
    case 'relation': {
      const a = resolve(withoutGiveaway(p0, 'place'), graph);
      const b = resolve(withoutGiveaway(p2, 'place'), graph);
      if (a.id === b.id) throw new Error(`relation question compares "${p0}" with itself`);
      return yesNo(relationHolds(a, p1 as RelationWord, b));
    }
  }
}
