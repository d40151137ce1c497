#!/usr/bin/env node
// Prints the evaluation table stored in a pack's pack.json as markdown:
//   node scripts/pack-table.mjs models/shapes-tiny
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'models/shapes-tiny';
const pack = JSON.parse(fs.readFileSync(path.join(dir, 'pack.json'), 'utf8'));
const { scores, images, split } = pack.evaluation;
const pct = (x) => (x === undefined ? '–' : (100 * x).toFixed(1));
const types = Object.keys(scores.base.qa.byType);
const cats = Object.keys(scores.base.compositional.byCategory);
const rows = Object.keys(scores);
const line = (cells) => `| ${cells.join(' | ')} |`;
console.log(`Evaluation of \`${pack.id}\` on ${images} images of the ${split} split (percent).\n`);
console.log(line(['row', 'QA', 'QA held-out', ...types, 'caption F1', 'halluc.', 'T2I R@1', 'T2I R@10', 'I2T R@1', 'I2T R@10', 'T2I R@1 held-out', 'compositional']));
console.log(line(Array(12 + types.length).fill('---')));
for (const r of rows) {
  const s = scores[r];
  const ret = s.retrieval.seen;
  console.log(line([r === 'base' ? 'base, all tokens (E5-V retrieval)' : r, pct(s.qa.overall.accuracy), pct(s.qaHeldOut.overall.accuracy), ...types.map((t) => pct(s.qa.byType[t]?.accuracy)),
    pct(s.captions.f1), pct(s.captions.hallucination), pct(ret.textToImage.r1), pct(ret.textToImage.r10), pct(ret.imageToText.r1), pct(ret.imageToText.r10),
    pct(s.retrieval.heldOut?.textToImage.r1), pct(s.compositional.overall.accuracy)]));
}
console.log(`\nCompositional accuracy per probe category:\n`);
console.log(line(['row', ...cats]));
console.log(line(Array(1 + cats.length).fill('---')));
for (const r of rows) console.log(line([r, ...cats.map((c) => pct(scores[r].compositional.byCategory[c]?.accuracy))]));
