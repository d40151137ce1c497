// An independent oracle for language version 2: it reads a question's wording and
// the scene graph and computes the canonical answer. Like ./oracle.ts it shares no
// code with the generators (world/v2-*.ts, questions.ts, parse.ts, phrases.ts): its
// word table and its grammar are written here from the README's description, so a
// bug in the generator's words or templates cannot hide behind the same bug here.
import type { SceneGraph } from '../../world/scene.ts';
import { ALL_PLACES, COLOURS, SHAPES, SIZES } from '../../world/vocab.ts';

export type OracleType = 'colour' | 'shape' | 'count' | 'exist' | 'position' | 'relation' | 'size' | 'scene' | 'digit';
type GraphObject = SceneGraph['objects'][number];
type Rel = 'left of' | 'right of' | 'above' | 'below';

/** Surface word -> canonical word, as the README lists the language's synonyms and spellings. */
const CANONICAL: Record<string, string> = {};
const alias = (canonical: string, words: string) => words.split(' ').forEach((w) => { CANONICAL[w] = canonical; });
alias('circle', 'disc disk dot ball'); alias('circles', 'discs disks dots balls');
alias('square', 'box block tile'); alias('squares', 'boxes blocks tiles');
alias('triangle', 'wedge pyramid'); alias('triangles', 'wedges pyramids');
alias('star', 'starburst pentagram'); alias('stars', 'starbursts pentagrams');
alias('heart', 'valentine'); alias('hearts', 'valentines');
alias('cross', 'plus'); alias('crosses', 'pluses');
alias('diamond', 'rhombus lozenge'); alias('diamonds', 'rhombuses lozenges');
alias('sign', 'board signboard placard signpost'); alias('signs', 'boards signboards placards signposts');
alias('object', 'thing item figure'); alias('objects', 'things items figures');
alias('red', 'crimson scarlet'); alias('orange', 'amber tangerine'); alias('yellow', 'golden lemon');
alias('green', 'emerald lime'); alias('blue', 'azure cobalt'); alias('purple', 'violet lilac');
alias('pink', 'rose fuchsia'); alias('white', 'ivory cream'); alias('black', 'ebony jet'); alias('grey', 'gray');
alias('small', 'little tiny'); alias('large', 'big huge'); alias('top', 'upper'); alias('bottom', 'lower');
alias('colour', 'color'); alias('centre', 'center');
['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'].forEach((w, i) => { CANONICAL[w] = String(i); });

const SCENE_NAMES: Record<string, SceneGraph['scene']> = {
  meadow: 'meadow', grassland: 'meadow', pasture: 'meadow', lawn: 'meadow',
  beach: 'beach', seaside: 'beach', seashore: 'beach', coast: 'beach', coastal: 'beach',
  snow: 'snow', snowfield: 'snow', snowy: 'snow', winter: 'snow',
  night: 'night', nighttime: 'night', nocturnal: 'night',
  desert: 'desert', dunes: 'desert', dune: 'desert',
};

const ASK_COLOURS = [...COLOURS, 'grey'];
const SHAPE_ALT = `(${SHAPES.join('|')})`;
const REL = '(left of|right of|above|below)';
const CELL = '(?:(?:at|in) the (?:top|middle|bottom) (?:left|centre|right)(?: corner)?|(?:in|at) the (?:centre|middle))';
const HALF = '(?:on the (?:left|right)(?: side)?|at the (?:top|bottom)|in the (?:top|middle|bottom) row|in the (?:left|centre|right) column)';

/** The question in canonical words: lower case, no end mark, synonyms folded, relations in one wording. */
export function canonicalWords(question: string): string {
  return question.toLowerCase().replace(/-/g, ' ').replace(/[?.]$/, '').replace(/:/g, ' :').replace(/,/g, '')
    .split(/\s+/).map((w) => CANONICAL[w] ?? w).join(' ')
    .replace(/\b(?:to|on) the (left|right) of\b/g, '$1 of').replace(/\bover\b/g, 'above').replace(/\b(?:under|beneath)\b/g, 'below');
}

/** Every "a"/"an" of the raw text must fit the next word ("an 8", "an orange", "a one"). */
function checkArticles(question: string): void {
  for (const m of question.toLowerCase().matchAll(/\b(a|an) ([a-z0-9]+)/g)) {
    const word = m[2] as string;
    const wantsAn = (/^[aeiou]/.test(word) && word !== 'one') || /^8/.test(word);
    if ((m[1] === 'an') !== wantsAn) throw new Error(`wrong article in "${m[0]}" of ${JSON.stringify(question)}`);
  }
}

type Handler = (m: string[], g: SceneGraph) => string;
interface Wording { type: OracleType; pattern: RegExp; answer: Handler }
const w = (type: OracleType, pattern: string, answer: Handler): Wording => ({ type, pattern: new RegExp(`^${pattern}$`), answer });

/** What a phrase says about an object. */
export interface Reference { size?: string; colour?: string; shape?: string; digit?: number; row?: number; col?: number }

/** A cell ("at the top left", "in the middle") at the end of `words`, removed from them. */
function takePlace(words: string[], ref: Reference): void {
  const text = words.join(' ');
  const centre = / (?:in|at) the (?:centre|middle)$/.exec(` ${text}`);
  const cell = / (?:at|in) the (top|middle|bottom) (left|centre|right)( corner)?$/.exec(` ${text}`);
  const m = centre ?? cell;
  if (m === null) return;
  if (cell !== null) {
    if (cell[1] === 'middle' && cell[2] === 'centre') throw new Error(`"${cell[0].trim()}" is not how the centre is named`);
    if (cell[3] !== undefined && (cell[1] === 'middle' || cell[2] === 'centre')) throw new Error(`"${cell[0].trim()}" is no corner`);
  }
  const row = cell === null ? 1 : ['top', 'middle', 'bottom'].indexOf(cell[1] as string);
  const col = cell === null ? 1 : ['left', 'centre', 'right'].indexOf(cell[2] as string);
  Object.assign(ref, { row, col });
  words.splice(words.length - m[0].trim().split(' ').length);
}

/** [size] [colour] noun [showing|with a|with the number|reading D] [cell]; plural nouns when `plural`. */
export function parseReference(text: string, plural = false): Reference {
  const words = text.split(' ');
  const ref: Reference = {};
  takePlace(words, ref);
  const digit = / (?:showing|with an?|with the number|reading) (\d)$/.exec(` ${words.join(' ')}`);
  if (digit !== null) {
    ref.digit = Number(digit[1]);
    words.splice(words.length - digit[0].trim().split(' ').length);
  }
  const head = words.pop() ?? '';
  const singular = plural ? (head === 'crosses' ? 'cross' : head.replace(/s$/, '')) : head;
  if (plural && singular === head) throw new Error(`"${head}" is not plural in "${text}"`);
  if ((SHAPES as readonly string[]).includes(singular)) ref.shape = singular;
  else if (singular !== 'object' && singular !== 'shape') throw new Error(`bad head noun "${head}" in "${text}"`);
  if (ASK_COLOURS.includes(words[words.length - 1] ?? '')) ref.colour = words.pop();
  if ((SIZES as readonly string[]).includes(words[words.length - 1] ?? '')) ref.size = words.pop();
  if (words.length > 0) throw new Error(`unparsed words "${words.join(' ')}" in "${text}"`);
  if (ref.digit !== undefined && ref.shape !== 'sign') throw new Error(`a digit on a ${ref.shape ?? 'object'}: "${text}"`);
  return ref;
}

export function fits(o: GraphObject, r: Reference): boolean {
  return (r.size === undefined || o.size === r.size) && (r.colour === undefined || o.colour === r.colour)
    && (r.shape === undefined || o.shape === r.shape) && (r.digit === undefined || o.digit === r.digit)
    && (r.row === undefined || o.row === r.row) && (r.col === undefined || o.col === r.col);
}

const absentAnswer = (r: Reference): string => {
  let text = `there is no ${[r.size, r.colour, r.shape ?? 'object'].filter(Boolean).join(' ')}`;
  if (r.digit !== undefined) text += ` showing ${r.digit}`;
  if (r.row !== undefined) text += ` ${ALL_PLACES.find((p) => p.row === r.row && p.col === r.col)?.name === 'centre' ? 'in the centre' : `at the ${placeName(r.row, r.col as number)}`}`;
  return text;
};

/** The one object a definite reference names, or the "there is no ..." answer; throws if it names several. */
function resolve(text: string, g: SceneGraph, without: ReadonlyArray<keyof Reference>): GraphObject | string {
  const ref = parseReference(text);
  for (const attr of without) if (ref[attr] !== undefined) throw new Error(`"the ${text}" states the ${attr} the question asks about`);
  const found = g.objects.filter((o) => fits(o, ref));
  if (found.length > 1) throw new Error(`"the ${text}" matches ${found.length} objects`);
  return found[0] ?? absentAnswer(ref);
}

const placeName = (row: number, col: number): string => ALL_PLACES.find((p) => p.row === row && p.col === col)?.name as string;
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** An attribute of the one object, or the absence answer. */
const about = (without: ReadonlyArray<keyof Reference>, value: (o: GraphObject, m: string[]) => string): Handler => (m, g) => {
  const o = resolve(m[1] as string, g, without);
  return typeof o === 'string' ? o : value(o, m);
};

/** A cell or a half of the picture, as position questions say it. */
function inPlace(o: GraphObject, phrase: string): boolean {
  const ref: Reference = {};
  const words = `x ${phrase}`.split(' ');
  takePlace(words, ref);
  if (ref.row !== undefined) return o.row === ref.row && o.col === ref.col;
  const half = /^(?:on the (left|right)(?: side)?|at the (top|bottom)|in the (top|middle|bottom) row|in the (left|centre|right) column)$/.exec(phrase);
  if (half === null) throw new Error(`unknown place "${phrase}"`);
  const rowWord = half[2] ?? half[3];
  if (rowWord !== undefined) return o.row === ['top', 'middle', 'bottom'].indexOf(rowWord);
  return o.col === ['left', 'centre', 'right'].indexOf((half[1] ?? half[4]) as string);
}

/** Counted phrase: [size] [colour] plural [digit] [row/column/half]. */
function count(phrase: string, g: SceneGraph): number {
  const region = new RegExp(` (${HALF})$`).exec(` ${phrase}`);
  const ref = parseReference(region === null ? phrase : phrase.slice(0, phrase.length - (region[1] as string).length - 1), true);
  return g.objects.filter((o) => fits(o, ref) && (region === null || inPlace(o, region[1] as string))).length;
}

/** "a red circle" / "an 8"-free indefinite phrase: does anything fit it? */
const exists = (np: string, g: SceneGraph, plural: boolean): string => {
  const text = plural ? np : np.replace(/^an? /, '');
  if (!plural && text === np) throw new Error(`no article in "${np}"`);
  const ref = parseReference(text, plural);
  return yesNo(g.objects.some((o) => fits(o, ref)));
};

const relHolds = (a: GraphObject, rel: Rel, b: GraphObject): boolean =>
  rel === 'left of' ? a.col < b.col : rel === 'right of' ? a.col > b.col : rel === 'above' ? a.row < b.row : a.row > b.row;

const relationYesNo: Handler = (m, g) => {
  const a = resolve(m[1] as string, g, ['row', 'col']);
  const b = resolve(m[3] as string, g, ['row', 'col']);
  if (typeof a === 'string' || typeof b === 'string') throw new Error('a relation question about an absent object');
  if (a.id === b.id) throw new Error('a relation between an object and itself');
  return yesNo(relHolds(a, m[2] as Rel, b));
};
const relationOpen: Handler = (m, g) => {
  const b = resolve(m[2] as string, g, ['row', 'col']);
  if (typeof b === 'string') return b;
  const found = g.objects.filter((a) => a.id !== b.id && relHolds(a, m[1] as Rel, b));
  if (found.length > 1) throw new Error(`${found.length} objects are ${m[1]} the ${m[2]}: no single answer`);
  return found[0]?.shape ?? 'nothing';
};

function sceneOf(phrase: string): SceneGraph['scene'] {
  const named = new Set(phrase.split(' ').map((x) => SCENE_NAMES[x]).filter((x) => x !== undefined));
  if (named.size !== 1) throw new Error(`"${phrase}" names ${named.size} scenes`);
  return [...named][0] as SceneGraph['scene'];
}

const COLOUR_ALT = `(${ASK_COLOURS.join('|')})`;
const SIZE_PAIR = '(?:small or large|large or small)';
const SCENE_OPEN = ['where was this photo taken', 'what kind of scene is this', 'what kind of place is this', 'where is this',
  'what is the setting of this picture', 'tell me where this picture was taken', 'this photo was taken where', 'setting',
  'describe the setting in 1 word', 'which kind of landscape is shown', 'where might this photo have been taken', 'scene type',
  'what scene is this', 'say what kind of place this is', 'in what kind of place was this photo taken', 'kind of place',
  'scene', 'kind of scene', 'what setting is this', 'tell me the setting', 'what is the scene in this picture'];

/** First match wins: specific wordings before the general ones that would also match them. */
const WORDINGS: readonly Wording[] = [
  // Before existence: "is there a circle left of the star" names two objects.
  w('relation', `is there an? (.+) ${REL} the (.+)`, relationYesNo),
  ...SCENE_OPEN.map((q) => w('scene', q, (_m, g) => g.scene)),
  w('scene', 'was this photo taken (.+) or (.+)', (m, g) => choice(g.scene, sceneOf(m[1] as string), sceneOf(m[2] as string))),
  w('scene', '(?:was this photo|could this picture have been) taken (.+)', (m, g) => yesNo(sceneOf(m[1] as string) === g.scene)),
  w('scene', 'is this an? (.+) scene', (m, g) => yesNo(sceneOf(m[1] as string) === g.scene)),
  w('count', '(?:are there|do you count|can you see) (\\d) (.+)', (m, g) => yesNo(count(m[2] as string, g) === Number(m[1]))),
  w('count', 'is there exactly 1 (.+)', (m, g) => yesNo(count(pluralOf(m[1] as string), g) === 1)),
  w('count', 'is there more than 1 (.+)', (m, g) => yesNo(count(pluralOf(m[1] as string), g) > 1)),
  ...['how many (.+) are there', 'how many (.+) are in the picture', 'how many (.+) can you see', 'count the (.+)', 'there are how many (.+)',
    'number of (.+)', 'what is the number of (.+) in this image', 'tell me how many (.+) there are', '(.+) : how many', 'how many (.+) does the photo contain',
    'in the picture how many (.+) are there', 'how many (.+) do you see', 'say how many (.+) the picture shows',
    'tell me the number of (.+)', 'say the number of (.+) in the picture', 'how many (.+) are there in this photo']
    .map((p) => w('count', p, (m, g) => String(count(m[1] as string, g)))),
  w('digit', 'is there an? (\\d) on the (.+)', (m, g) => digitIs(m[2] as string, Number(m[1]), g)),
  w('digit', 'does the (.+) (?:show|have|read) (?:an? |the number )?(\\d)', (m, g) => digitIs(m[1] as string, Number(m[2]), g)),
  w('digit', 'is the number on the (.+) (\\d)', (m, g) => digitIs(m[1] as string, Number(m[2]), g)),
  ...['what number is on the (.+)', 'which digit does the (.+) show', 'what does the (.+) say', 'what digit is written on the (.+)',
    'tell me the number on the (.+)', 'the (.+) shows which number', 'number on the (.+)', 'read the number on the (.+)',
    'can you read the (.+)', 'which number can you read on the (.+)', 'what is written on the (.+)', 'say the number on the (.+)',
    'which number does the (.+) show', 'what number can you see on the (.+)', 'read what is written on the (.+)', 'can you say what the (.+) shows']
    .map((p) => w('digit', p, (m, g) => digitIs(m[1] as string, null, g))),
  ...['is there (an? .+?)(?: in the picture)?', 'do you see (an? .+)', 'does this photo show (an? .+)', 'in the picture is there (an? .+)',
    '(an? .+) in the picture yes or no', 'can you see (an? .+)', 'does the picture have (an? .+)',
    'does the image contain (an? .+)', 'is (an? .+) visible', 'could you check whether there is (an? .+)']
    .map((p) => w('exist', p, (m, g) => exists(m[1] as string, g, false))),
  ...['are there any (.+)', 'do you see any (.+)', 'any (.+)', 'tell me if there are any (.+)'].map((p) => w('exist', p, (m, g) => exists(m[1] as string, g, true))),
  w('colour', `is the (.+) ${COLOUR_ALT} or ${COLOUR_ALT}`, about(['colour'], (o, m) => choice(o.colour, m[2] as string, m[3] as string))),
  w('shape', `is the (.+) an? ${SHAPE_ALT} or an? ${SHAPE_ALT}`, about(['shape', 'digit'], (o, m) => choice(o.shape, m[2] as string, m[3] as string))),
  w('size', `is the (.+) ${SIZE_PAIR}`, about(['size'], (o) => o.size)),
  w('size', `tell me whether the (.+) is ${SIZE_PAIR}`, about(['size'], (o) => o.size)),
  w('size', `the (.+) : ${SIZE_PAIR}`, about(['size'], (o) => o.size)),
  w('size', '(?:is the|would you say the|tell me is the|say yes or no : is the) (.+?)(?: is)? (small|large)', about(['size'], (o, m) => yesNo(o.size === m[2]))),
  w('colour', `(?:is the|would you call the|tell me is the) (.+) ${COLOUR_ALT}`, about(['colour'], (o, m) => yesNo(o.colour === m[2]))),
  w('shape', `(?:is the|does the) (.+?) (?:look like )?an? ${SHAPE_ALT}`, about(['shape', 'digit'], (o, m) => yesNo(o.shape === m[2]))),
  w('position', `(?:is the|would i find the) (.+?) (${CELL}|${HALF})`, about(['row', 'col'], (o, m) => yesNo(inPlace(o, m[2] as string)))),
  ...['what colour is the (.+)', 'which colour does the (.+) have', 'what is the colour of the (.+)', 'tell me the colour of the (.+)',
    'the (.+) is what colour', 'colour of the (.+)', 'say which colour the (.+) is', 'do you know what colour the (.+) is', 'the (.+) : which colour', 'in what colour is the (.+) painted',
    'which colour is the (.+)', 'in the picture what colour is the (.+)']
    .map((p) => w('colour', p, about(['colour'], (o) => o.colour))),
  ...['what shape is the (.+)', 'which shape is the (.+)', 'what kind of shape is the (.+)', 'tell me the shape of the (.+)', 'the (.+) is what shape',
    'shape of the (.+)', 'name the shape of the (.+)', 'can you tell me what shape the (.+) is', 'what is the (.+) shaped like',
    'say which shape the (.+) is', 'what kind of object is the (.+)', 'what shape does the (.+) have', 'which shape does the (.+) have',
    'say what shape the (.+) is']
    .map((p) => w('shape', p, about(['shape', 'digit'], (o) => o.shape))),
  ...['what size is the (.+)', 'which size is the (.+)', 'say which size the (.+) is', 'in the picture what size is the (.+)', 'how large is the (.+)', 'tell me the size of the (.+)', 'the (.+) is what size', 'size of the (.+)',
    'what is the size of the (.+)', 'which size does the (.+) have']
    .map((p) => w('size', p, about(['size'], (o) => o.size))),
  ...['where is the (.+)', 'in which part of the picture is the (.+)', 'where in the image is the (.+)', 'tell me where the (.+) is', 'the (.+) is where',
    'location of the (.+)', 'which area of the image holds the (.+)', 'can you tell me where the (.+) is', 'in what part of the photo can the (.+) be found',
    'which part of the picture is the (.+) in', 'what is the location of the (.+)', 'say where the (.+) is']
    .map((p) => w('position', p, about(['row', 'col'], (o) => placeName(o.row, o.col)))),
  ...[`what is ${REL} the (.+)`, `which object is ${REL} the (.+)`, `tell me what is ${REL} the (.+)`, `name the shape ${REL} the (.+)`,
    `which shape can be seen ${REL} the (.+)`, `what do you see ${REL} the (.+)`, `what object is ${REL} the (.+)`,
    `(?:which|what) shape is ${REL} the (.+)`, `say which shape is ${REL} the (.+)`, `which shape can you see ${REL} the (.+)`].map((p) => w('relation', p, relationOpen)),
  ...[`is the (.+) ${REL} the (.+)`, `does the (.+) sit ${REL} the (.+)`, `would you say the (.+) is ${REL} the (.+)`,
    `is it true that the (.+) is ${REL} the (.+)`, `the (.+) is ${REL} the (.+) yes or no`, `tell me is the (.+) ${REL} the (.+)`,
    `do you see the (.+) ${REL} the (.+)`, `say yes or no : is the (.+) ${REL} the (.+)`, `(.+) ${REL} the (.+)`].map((p) => w('relation', p, relationYesNo)),
];

/** A choice question's answer: the true value, which must be one of the two offered (and they must differ). */
function choice(truth: string, a: string, b: string): string {
  if (a === b || (truth !== a && truth !== b)) throw new Error(`a choice of "${a}" or "${b}" for a ${truth} thing`);
  return truth;
}

function pluralOf(singular: string): string {
  const region = new RegExp(` (${HALF})$`).exec(` ${singular}`);
  const np = region === null ? singular : singular.slice(0, singular.length - (region[1] as string).length - 1);
  const m = /^(.*?)(\w+)((?: (?:showing|with an?|with the number|reading) \d)?)$/.exec(np) as RegExpExecArray;
  const head = m[2] as string;
  const plural = head === 'cross' ? 'crosses' : `${head}s`;
  return `${m[1]}${plural}${m[3]}${region === null ? '' : ` ${region[1]}`}`;
}

function digitIs(text: string, asked: number | null, g: SceneGraph): string {
  const o = resolve(text, g, ['digit', 'size']);
  if (typeof o === 'string') return o;
  if (o.shape !== 'sign' || o.digit === null) throw new Error(`"the ${text}" is a ${o.shape}, which shows no digit`);
  return asked === null ? String(o.digit) : yesNo(o.digit === asked);
}

/** The question's type and canonical answer; throws on a wording it does not know or a question with no single answer. */
export function answerV2(question: string, g: SceneGraph): { type: OracleType; answer: string } {
  checkArticles(question);
  const text = canonicalWords(question);
  for (const { type, pattern, answer } of WORDINGS) {
    const m = pattern.exec(text);
    if (m !== null) return { type, answer: answer([...m], g) };
  }
  throw new Error(`unknown question wording: ${JSON.stringify(question)}`);
}
