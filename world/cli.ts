// `npm run world -- <command> [options]`: the writers of the shapes world.
import { parseArgs } from 'node:util';
import { writeDataset } from './dataset.ts';
import { LANGUAGES, SPLITS, vocabulary, type LanguageVersion, type Split } from './generate.ts';
import { writeLlava } from './llava.ts';
import { WorldError } from './output.ts';
import { QUESTION_TYPES, type QuestionType } from './questions.ts';
import { writeSamples } from './samples.ts';
import { lexiconV2 } from './v2-language.ts';
import { writeWds } from './wds.ts';


const USAGE = `Usage:
  npm run world -- dataset --split train|val|test --count N [--seed S] [--size 64] --out DIR [--jpeg P] [--language 1|2] [--more TYPE=N,...] [--force]
  npm run world -- samples --count N [--seed S] [--size 256] --out DIR [--language 1|2] [--force]
  npm run world -- llava --count N [--split train|val|test] [--seed S] [--size 336] --out DIR [--language 1|2] [--force]
  npm run world -- wds --count N [--split train|val|test] [--seed S] [--size 256] [--shard-size 10000] --out DIR [--language 1|2] [--force]
  npm run world -- vocab [--language 1|2] [--lexicon]

dataset  writes DIR/images.u8 (N x size x size x 3 uint8), DIR/scenes.jsonl and DIR/manifest.json
samples  writes a photo folder DIR/photos/<year>/<event>/IMG_nnnn.jpg and DIR/glimpse-samples.scenes.json
llava    writes LLaVA-665k style conversations: DIR/llava_shapes.json, DIR/images/shapes/<id>.jpg, DIR/scenes.jsonl (truth)
wds      writes caption pairs as img2dataset-style webdataset shards: DIR/00000.tar (KEY.jpg, KEY.json, KEY.txt), DIR/00000_stats.json
vocab    prints every word the world's language uses, as JSON; --lexicon (language 2): its meaning words and synonyms
--language 2 picks the varied language (synonyms, spellings, question forms, partial captions); 1, the default, is the bundled pack's
--more relation=3 (dataset, language 2): that many more seen-wording questions of a type per image, drawn after the rest (which stays as without)
Same arguments give byte-identical output. See world/README.md for the formats.`;

function integer(name: string, raw: string | undefined, fallback: number | null, min: number, max: number): number {
  if (raw === undefined) {
    if (fallback === null) throw new WorldError(`--${name} is required`);
    return fallback;
  }
  if (!/^-?\d+$/.test(raw.trim())) throw new WorldError(`--${name} must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new WorldError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** `--more relation=3,count=1`: that many more seen-wording questions of each type per image. */
function moreOf(raw: string | undefined): Partial<Record<QuestionType, number>> | undefined {
  if (raw === undefined) return undefined;
  const more: Partial<Record<QuestionType, number>> = {};
  for (const part of raw.split(',')) {
    const [type, n, ...rest] = part.split('=');
    if (!(QUESTION_TYPES as readonly string[]).includes(type ?? '') || rest.length > 0 || n === undefined) {
      throw new WorldError(`--more takes TYPE=N[,TYPE=N] with TYPE one of ${QUESTION_TYPES.join(', ')}, got '${part}'`);
    }
    more[type as QuestionType] = integer('more', n, null, 0, 20);
  }
  return more;
}

function languageOf(raw: string | undefined): LanguageVersion {
  if (raw === undefined) return 1;
  const version = LANGUAGES.find((v) => String(v) === raw.trim());
  if (version === undefined) throw new WorldError(`--language must be one of ${LANGUAGES.join(', ')}, got '${raw}'`);
  return version;
}

function progress(label: string) {
  const start = Date.now();
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done !== total && now - last < 2000) return;
    last = now;
    const rate = done / Math.max(0.001, (now - start) / 1000);
    process.stderr.write(`${label}: ${done}/${total} (${rate.toFixed(0)}/s)\n`);
  };
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  // "--count -3" should reach our range check, not parseArgs' "ambiguous argument".
  const args = rest.flatMap((arg, i) => (/^-\d/.test(arg) && rest[i - 1]?.startsWith('--') ? [] : [
    /^--/.test(arg) && /^-\d/.test(rest[i + 1] ?? '') ? `${arg}=${rest[i + 1]}` : arg,
  ]));
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        split: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' },
        out: { type: 'string' }, jpeg: { type: 'string' }, force: { type: 'boolean' }, 'shard-size': { type: 'string' },
        language: { type: 'string' }, lexicon: { type: 'boolean' }, more: { type: 'string' },
      },
    }).values;
  } catch (err) {
    throw new WorldError((err as Error).message);
  }
  const seed = integer('seed', parsed.seed, 0, 0, 2 ** 32 - 1);
  if (parsed['shard-size'] !== undefined && command !== 'wds') throw new WorldError(`${command} takes no --shard-size`);
  if (parsed.jpeg !== undefined && command !== 'dataset') throw new WorldError(`${command} takes no --jpeg`);
  if (parsed.more !== undefined && (command !== 'dataset' || languageOf(parsed.language) !== 2)) throw new WorldError('--more is for dataset --language 2');
  if (parsed.lexicon !== undefined && command !== 'vocab') throw new WorldError(`${command} takes no --lexicon`);
  if (parsed.language !== undefined && !['dataset', 'samples', 'vocab', 'llava', 'wds'].includes(command ?? '')) throw new WorldError(`${command} takes no --language`);
  const started = Date.now();
  if (command === 'dataset') {
    const split = parsed.split;
    if (split === undefined) throw new WorldError(`--split is required: one of ${SPLITS.join(', ')}`);
    if (!(SPLITS as readonly string[]).includes(split)) throw new WorldError(`unknown split '${split}': expected one of ${SPLITS.join(', ')}`);
    const count = integer('count', parsed.count, null, 1, 10_000_000);
    const size = integer('size', parsed.size, 64, 16, 1024);
    if (parsed.out === undefined) throw new WorldError('--out is required');
    let jpegProbability = 0.5;
    if (parsed.jpeg !== undefined) {
      jpegProbability = Number(parsed.jpeg);
      if (!Number.isFinite(jpegProbability) || jpegProbability < 0 || jpegProbability > 1) throw new WorldError(`--jpeg must be a probability in [0, 1], got '${parsed.jpeg}'`);
    }
    const m = await writeDataset({ split: split as Split, count, seed, size, out: parsed.out, force: parsed.force ?? false, jpegProbability, language: languageOf(parsed.language), more: moreOf(parsed.more), onProgress: progress(split) });
    console.log(`wrote ${m.count} ${m.split} images (${m.size}x${m.size}), ${m.counts.questions} questions, ${m.counts.probes} probes to ${parsed.out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else if (command === 'samples') {
    if (parsed.split !== undefined) throw new WorldError('samples takes no --split');
    const count = integer('count', parsed.count, null, 1, 1_000_000);
    const size = integer('size', parsed.size, 256, 16, 4096);
    if (parsed.out === undefined) throw new WorldError('--out is required');
    const s = await writeSamples({ count, seed, size, out: parsed.out, force: parsed.force ?? false, language: languageOf(parsed.language), onProgress: progress('samples') });
    console.log(`wrote ${s.count} sample photos to ${parsed.out}/${s.photosDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else if (command === 'llava' || command === 'wds') {
    const split = parsed.split ?? 'train';
    if (!(SPLITS as readonly string[]).includes(split)) throw new WorldError(`unknown split '${split}': expected one of ${SPLITS.join(', ')}`);
    const count = integer('count', parsed.count, null, 1, 10_000_000);
    const size = integer('size', parsed.size, command === 'llava' ? 336 : 256, 16, 4096);
    if (parsed.out === undefined) throw new WorldError('--out is required');
    const common = { split: split as Split, count, seed, size, out: parsed.out, force: parsed.force ?? false, language: languageOf(parsed.language), onProgress: progress(command) };
    const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
    if (command === 'llava') {
      const r = await writeLlava(common);
      console.log(`wrote ${r.count} ${split} conversations (${r.turns} turns) to ${r.json}, images under ${r.images}, in ${seconds()} s`);
    } else {
      const shardSize = integer('shard-size', parsed['shard-size'], 10_000, 1, 1_000_000);
      const r = await writeWds({ ...common, shardSize });
      console.log(`wrote ${r.count} ${split} caption pairs in ${r.shards.length} shard(s) to ${parsed.out} in ${seconds()} s`);
    }
  } else if (command === 'vocab') {
    const language = languageOf(parsed.language);
    if (parsed.lexicon === true && language !== 2) throw new WorldError('--lexicon needs --language 2');
    console.log(JSON.stringify(parsed.lexicon === true ? lexiconV2() : vocabulary(language)));
  } else {
    throw new WorldError(`unknown command '${command}'\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof WorldError) {
    process.stderr.write(`world: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
});
