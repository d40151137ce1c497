// `npx tsx world/score-cli.ts REPORT.json`: scores model outputs with the world's
// scorers, so Python training and TypeScript benchmarks grade the same way.
// Input: { "runs": { name: { qa?, captions?, retrieval?, probes? } } } (see below);
// output on stdout: the same names with their scores.
import fs from 'node:fs';
import path from 'node:path';
import type { SceneGraph } from './scene.ts';
import { captionScores, compositionalAccuracy, qaReport, retrievalRecall } from './score.ts';

interface RunInput {
  /** `wording` (language 2: seen, new-template, new-combination) adds a breakdown by it. */
  qa?: Array<{ type: string; prediction: string; answer: string; heldOut: boolean; wording?: string }>;
  captions?: Array<{ caption: string; graph: SceneGraph }>;
  /** `similarity`: a float32 little-endian file of images x texts, relative to the report. */
  retrieval?: Record<string, { images: number; textImage: number[]; similarity: string }>;
  probes?: Array<{ category: string; positive: number; negative: number }>;
}

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: npx tsx world/score-cli.ts REPORT.json\n');
  process.exit(2);
}
const report = JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: Record<string, RunInput> };
const out: Record<string, unknown> = {};
for (const [name, run] of Object.entries(report.runs)) {
  const scores: Record<string, unknown> = {};
  if (run.qa) Object.assign(scores, qaReport(run.qa));
  if (run.captions) scores.captions = captionScores(run.captions);
  if (run.retrieval) {
    const r: Record<string, unknown> = {};
    for (const [set, spec] of Object.entries(run.retrieval)) {
      const bytes = fs.readFileSync(path.resolve(path.dirname(file), spec.similarity));
      const sim = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      r[set] = retrievalRecall(sim, spec.images, spec.textImage);
    }
    scores.retrieval = r;
  }
  if (run.probes) scores.compositional = compositionalAccuracy(run.probes);
  out[name] = scores;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
