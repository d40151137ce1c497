// Scene graphs and the seeded sampler that draws them.
import { Rng } from './rng.ts';
import {
  COLOURS, COLOUR_WEIGHTS, SCENE_TYPES, SHAPES, SHAPE_WEIGHTS, placeName,
  type Col, type Colour, type Row, type SceneType, type Shape, type Size,
} from './vocab.ts';

export interface SceneObject {
  id: number;
  shape: Shape;
  colour: Colour;
  size: Size;
  row: Row;
  col: Col;
  /** The digit a sign shows; null for every other shape. */
  digit: number | null;
  /** Nuisance, as fractions of a grid cell: centre offset and scale factor. */
  jitter: { dx: number; dy: number; scale: number };
}

export interface Scene {
  scene: SceneType;
  /** Sorted in reading order (row, then column). One object per cell, so none hides another. */
  objects: SceneObject[];
  /** Look of the backdrop: horizon height as a fraction of the image, light level. */
  backdrop: { horizon: number; light: number; variant: number };
}

export const MIN_OBJECTS = 1;
export const MAX_OBJECTS = 6;

const shapeWeights = SHAPES.map((s) => SHAPE_WEIGHTS[s]);
const colourWeights = COLOURS.map((c) => COLOUR_WEIGHTS[c]);

function drawAttributes(rng: Rng): Pick<SceneObject, 'shape' | 'colour' | 'size' | 'digit'> {
  const shape = SHAPES[rng.weightedIndex(shapeWeights)] as Shape;
  const colour = COLOURS[rng.weightedIndex(colourWeights)] as Colour;
  // Signs are always large so their digit stays legible at 64 px.
  const size: Size = shape === 'sign' || rng.chance(0.5) ? 'large' : 'small';
  return { shape, colour, size, digit: shape === 'sign' ? rng.int(0, 9) : null };
}

export function sampleScene(rng: Rng): Scene {
  const scene = rng.pick(SCENE_TYPES);
  const count = rng.int(MIN_OBJECTS, MAX_OBJECTS);
  const cells = rng.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8]).slice(0, count).sort((a, b) => a - b);
  const objects: SceneObject[] = [];
  for (const cell of cells) {
    const previous = objects.length > 0 ? rng.pick(objects) : null;
    // A third of later objects repeat an earlier shape (and often its colour), so
    // counting questions have answers above one and swaps have look-alikes to confuse.
    const attrs = previous !== null && rng.chance(0.33)
      ? {
          shape: previous.shape,
          colour: rng.chance(0.6) ? previous.colour : (COLOURS[rng.weightedIndex(colourWeights)] as Colour),
          size: previous.shape === 'sign' ? previous.size : rng.chance(0.5) ? previous.size : (previous.size === 'large' ? 'small' : 'large') as Size,
          digit: previous.shape === 'sign' ? rng.int(0, 9) : null,
        }
      : drawAttributes(rng);
    objects.push({
      id: objects.length,
      ...attrs,
      row: Math.floor(cell / 3) as Row,
      col: (cell % 3) as Col,
      jitter: { dx: rng.uniform(-0.06, 0.06), dy: rng.uniform(-0.06, 0.06), scale: rng.uniform(0.92, 1.06) },
    });
  }
  return {
    scene,
    objects,
    backdrop: { horizon: rng.uniform(0.34, 0.46), light: rng.uniform(0.88, 1.1), variant: rng.int(0, 3) },
  };
}

/** The scene graph as written to data sets and sidecars (nuisance parameters dropped). */
export interface SceneGraph {
  scene: SceneType;
  objects: Array<{ id: number; shape: Shape; colour: Colour; size: Size; row: Row; col: Col; place: string; digit: number | null }>;
}

export function toSceneGraph(s: Scene): SceneGraph {
  return {
    scene: s.scene,
    objects: s.objects.map((o) => ({
      id: o.id, shape: o.shape, colour: o.colour, size: o.size, row: o.row, col: o.col,
      place: placeName(o.row, o.col), digit: o.digit,
    })),
  };
}
