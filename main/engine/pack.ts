// Model packs: discovery, the pack.json schema, file integrity and dims checks.
// A pack is a folder (see docs/model-pack.md); every problem with one becomes a
// single PackError that names the pack and what is wrong with it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PACK_VERSIONS, resolveSpec, type ManifestView, type PackSpec } from './packSpec.ts';
import { TOKEN_ENCODINGS } from './tokenCodec.ts';

export const PACK_FORMAT = 'glimpse-model-pack';
/** The newest format version this engine reads; every version in PACK_VERSIONS loads. */
export const PACK_VERSION = PACK_VERSIONS[PACK_VERSIONS.length - 1];

export class PackError extends Error {
  override name = 'PackError';
  constructor(readonly pack: string, problem: string) {
    super(`model pack "${pack}": ${problem}`);
  }
}

const tensorFile = z.object({ file: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.enum(['float32', 'float16']) });
/** Version 2: the files a graph keeps its weights in, beside it (plain names, listed in `files`). */
const graphSpec = z.object({ file: z.string(), inputs: z.array(z.string()), outputs: z.array(z.string()), external_data: z.array(z.string()).optional() });

export const PackSchema = z.object({
  format: z.literal(PACK_FORMAT),
  version: z.number().int(),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  description: z.string(),
  dims: z.object({
    vision_dim: z.number().int().positive(),
    vision_tokens: z.number().int().positive(),
    hidden: z.number().int().positive(),
    layers: z.number().int().positive(),
    heads: z.number().int().positive(),
    head_dim: z.number().int().positive(),
    vocab_size: z.number().int().positive(),
    kv_heads: z.number().int().positive().optional(),
  }),
  image: z.object({
    size: z.number().int().positive(),
    channels: z.literal('rgb'),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    layout: z.literal('NCHW'),
    resize: z.enum(['fill', 'cover', 'contain', 'pad-to-square']),
  }),
  prompts: z.object({
    compress: z.string(), caption: z.string(), e5v_image: z.string(), e5v_text: z.string(),
    /** The instruction under which search's second stage scores a query as something the photo shows
     * (a pack trained to say one true thing of a scene under it; absent: `caption`). */
    partial_caption: z.string().min(1).optional(),
  }),
  // By string in version 1, by role in version 2: packSpec.ts checks each version's set.
  special_tokens: z.record(z.string(), z.number().int().nullable()),
  summary: z.object({ tokens: z.number().int().positive(), budgets: z.array(z.number().int().positive()).nonempty(), prefix_budgets: z.boolean() }),
  adapters: z.object({ base: z.number().int(), compress: z.number().int(), generate: z.number().int() }),
  graphs: z.object({ vision: graphSpec, llm: graphSpec }),
  tensors: z.object({ embed_tokens: tensorFile, summary: tensorFile }),
  tokenizer: z.object({ file: z.string(), config: z.string() }),
  parity: z.string(),
  evaluation: z.object({ split: z.string(), images: z.number(), scores: z.record(z.string(), z.unknown()) }).passthrough(),
  files: z.record(z.string(), z.object({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
  /** How the library stores compressed tokens (tokenCodec.ts); absent = DEFAULT_TOKEN_ENCODING. Any format version. */
  cache: z.object({ tokens: z.enum(TOKEN_ENCODINGS) }).optional(),
  /** What the pack understands (main/library/understanding.ts reads it; docs/model-pack.md). */
  domain: z.object({
    /** `general` for a model meant for any photo; anything else (e.g. `shapes-world`) is a narrow domain. */
    kind: z.string().min(1),
    description: z.string().min(1),
    /** Words the model was trained on. A BPE tokenizer has no unknown tokens, so without this list nothing is reported for it. */
    vocabulary: z.array(z.string().min(1)).optional(),
    /** Words people type mapped to the word the model was trained on ("color" -> "colour"), rewritten before the
     * model reads a query or question. Checked here as a table (aliasTableProblem); against the tokenizer by the library. */
    aliases: z.record(z.string(), z.string()).optional(),
  }).passthrough().optional(),
  retrieval: z.object({
    /** The calibrated cosine under which search says "no good match" (scripts/calibrate-no-match.ts). */
    noMatchBelow: z.number().min(-1).max(1).optional(),
    /** Search re-ranks its first `candidates` hits by cosine + weight x pass 2's mean log-probability of the
     * query as the photo's caption (scripts/calibrate-rerank.ts; docs/library.md). Absent: cosine order. */
    rerank: z.object({ candidates: z.number().int().min(2).max(200), weight: z.number().positive().max(10) }).passthrough().optional(),
  }).passthrough().optional(),
}).passthrough();

export type PackManifest = z.infer<typeof PackSchema>;

/** The instruction pass 2 scores a search text under (Engine.scoreText, search's second stage). */
export const scoringPrompt = (m: PackManifest): string => m.prompts.partial_caption ?? m.prompts.caption;
export type PackDomain = NonNullable<PackManifest['domain']>;

/** A word as an alias table writes it: letters and digits with inner apostrophes, as user text is split into words. */
const ALIAS_WORD = /^[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*$/u;

/**
 * What is wrong with a `domain.aliases` table as a table, or null. Typed words are looked up
 * lower-cased and NFKC-normalised, and each is rewritten once: so every word must be written
 * that way, and no alias may map a word to itself or to another alias (a chain is never followed).
 */
export function aliasTableProblem(aliases: Readonly<Record<string, string>>): string | null {
  const notAWord = 'is not a single word (letters and digits, with inner apostrophes)';
  for (const [from, to] of Object.entries(aliases)) {
    if (!ALIAS_WORD.test(from)) return `pack.json domain.aliases: "${from}" ${notAWord}`;
    if (!ALIAS_WORD.test(to)) return `pack.json domain.aliases maps "${from}" to "${to}", which ${notAWord}`;
    for (const word of [from, to]) {
      const canonical = word.normalize('NFKC').toLowerCase();
      if (word !== canonical) return `pack.json domain.aliases: "${word}" must be written "${canonical}" (typed words are looked up lower-cased)`;
    }
    if (from === to) return `pack.json domain.aliases maps "${from}" to itself`;
    const next = Object.hasOwn(aliases, to) ? aliases[to] : undefined;
    if (next !== undefined) return `pack.json domain.aliases maps "${from}" to "${to}", which is itself mapped to "${next}" (aliases are applied once: map "${from}" to the final word)`;
  }
  return null;
}

export interface Pack {
  id: string;
  /** `id@revision`, the revision a hash of pack.json and every file's sha256: what cached tokens are filed
   * under, so retrained weights under the same id never read tokens the old ones wrote. */
  cacheKey: string;
  dir: string;
  manifest: PackManifest;
  /** What the engine runs on, the same for every format version (packSpec.ts). */
  spec: PackSpec;
  file(name: string): string;
}

function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0) hash.update(chunk.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Reads and validates a pack folder: schema, version, every file present with its sha256, tensor sizes. */
export function loadPack(dir: string, options: { verifyHashes?: boolean } = {}): Pack {
  const name = path.basename(dir);
  const manifestPath = path.join(dir, 'pack.json');
  if (!fs.existsSync(manifestPath)) throw new PackError(name, `no pack.json in ${dir}`);
  let raw: unknown;
  const manifestText = fs.readFileSync(manifestPath, 'utf8');
  try {
    raw = JSON.parse(manifestText);
  } catch (err) {
    throw new PackError(name, `pack.json is not valid JSON (${(err as Error).message})`);
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && !(PACK_VERSIONS as readonly number[]).includes(version)) {
    throw new PackError(name, `format version ${version} is not supported (this Glimpse reads versions ${PACK_VERSIONS.join(' and ')})`);
  }
  const parsed = PackSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PackError(name, `pack.json is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const manifest = parsed.data;
  const id = manifest.id;
  const aliasProblem = aliasTableProblem(manifest.domain?.aliases ?? {});
  if (aliasProblem) throw new PackError(id, aliasProblem);
  const file = (rel: string) => {
    const resolved = path.resolve(dir, rel);
    if (!resolved.startsWith(path.resolve(dir) + path.sep)) throw new PackError(id, `file ${rel} points outside the pack`);
    return resolved;
  };
  // onnxruntime reads external data relative to the graph and refuses paths that leave its folder.
  const external = [manifest.graphs.vision, manifest.graphs.llm].flatMap((g) => (g.external_data ?? []).map((rel) => {
    if (!/^[^/\\]+$/.test(rel) || rel === '.' || rel === '..') throw new PackError(id, `external data file ${rel} must be a plain file name beside its graph`);
    return path.posix.join(path.posix.dirname(g.file), rel);
  }));
  const needed = [manifest.graphs.vision.file, manifest.graphs.llm.file, manifest.tensors.embed_tokens.file,
    manifest.tensors.summary.file, manifest.tokenizer.file, manifest.tokenizer.config, ...external];
  for (const rel of needed) if (!(rel in manifest.files)) throw new PackError(id, `pack.json does not list ${rel} in files`);
  for (const [rel, info] of Object.entries(manifest.files)) {
    const full = file(rel);
    const stat = fs.statSync(full, { throwIfNoEntry: false });
    if (!stat?.isFile()) throw new PackError(id, `file ${rel} is missing`);
    if (stat.size !== info.bytes) throw new PackError(id, `file ${rel} is ${stat.size} bytes, pack.json says ${info.bytes} (corrupted or truncated)`);
    if (options.verifyHashes !== false && sha256File(full) !== info.sha256) throw new PackError(id, `file ${rel} is corrupted (sha256 does not match pack.json)`);
  }
  const d = manifest.dims;
  const expect = (label: string, got: readonly number[], want: readonly number[]) => {
    if (got.join('x') !== want.join('x')) throw new PackError(id, `dims mismatch: ${label} is ${got.join('x')}, expected ${want.join('x')}`);
  };
  expect('embed_tokens', manifest.tensors.embed_tokens.shape, [d.vocab_size, d.hidden]);
  expect('summary', manifest.tensors.summary.shape, [manifest.summary.tokens, d.hidden]);
  for (const t of [manifest.tensors.embed_tokens, manifest.tensors.summary]) {
    const bytes = fs.statSync(file(t.file)).size;
    const want = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'float16' ? 2 : 4);
    if (bytes !== want) throw new PackError(id, `dims mismatch: ${t.file} holds ${bytes} bytes, shape ${t.shape.join('x')} needs ${want}`);
  }
  if (manifest.summary.budgets.some((b) => b > manifest.summary.tokens)) throw new PackError(id, 'a budget exceeds the number of summary tokens');
  let spec: PackSpec;
  try {
    spec = resolveSpec(raw as ManifestView);
  } catch (err) {
    throw new PackError(id, (err as Error).message);
  }
  return { id, cacheKey: `${id}@${packRevision(manifest.files, manifestText)}`, dir, manifest, spec, file };
}

/**
 * 12 hex digits over the sorted (file, sha256) list and pack.json itself: changes
 * whenever any file does, and whenever the manifest does (its dims, prompts and
 * special tokens decide what the tokens mean as much as the weights do).
 */
export function packRevision(files: PackManifest['files'], manifestText = ''): string {
  const hash = createHash('sha256');
  hash.update(`pack.json\t${createHash('sha256').update(manifestText).digest('hex')}\n`);
  for (const name of Object.keys(files).sort()) hash.update(`${name}\t${files[name]!.sha256}\n`);
  return hash.digest('hex').slice(0, 12);
}

export interface DiscoveredPack { dir: string; id: string; pack?: Pack; error?: string }

/** Every pack folder under the given roots (bundled models/ first, then the user's folder); broken ones are listed with their error. */
export function discoverPacks(roots: readonly string[], options: { verifyHashes?: boolean } = {}): DiscoveredPack[] {
  const found: DiscoveredPack[] = [];
  for (const root of roots) {
    if (!fs.existsSync(root)) continue;
    for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const dir = path.join(root, entry.name);
      if (!fs.existsSync(path.join(dir, 'pack.json'))) continue;
      try {
        const pack = loadPack(dir, options);
        found.push({ dir, id: pack.id, pack });
      } catch (err) {
        found.push({ dir, id: entry.name, error: (err as Error).message });
      }
    }
  }
  return found;
}

export function readFloat32(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
