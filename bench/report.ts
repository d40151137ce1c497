// Turns the committed benchmark results into bench/results/latest.json (all of them),
// bench/results/REPORT.md (tables) and two plots (PNG, drawn as SVG and rasterised
// by sharp): accuracy vs budget and answer latency vs budget. `--dir DIR` reads and
// writes another results folder (a trial run that must not replace the committed one).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { languageSections } from './reportLanguage.ts';
import { realSizeSections } from './reportRealSize.ts';
import { heldOutQa } from './targets.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' } } });
const dir = path.resolve(values.dir ?? path.join(import.meta.dirname, 'results'));
const read = (name: string) => {
  const file = path.join(dir, name);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
};
const quality = read('quality.json');
const engine = read('engine.json');
const library = read('library.json');
if (!quality || !engine || !library) {
  console.error('bench:report needs quality.json, engine.json and library.json in bench/results (npm run bench makes them)');
  process.exit(2);
}

type Series = { name: string; colour: string; points: Array<[number, number]> };

function lineChart(title: string, xLabel: string, yLabel: string, series: Series[], yMax?: number): string {
  const W = 640; const H = 400; const L = 60; const R = 150; const T = 40; const B = 50;
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const x0 = Math.log2(Math.min(...xs)); const x1 = Math.log2(Math.max(...xs));
  const top = yMax ?? Math.max(...ys) * 1.1;
  const px = (x: number) => L + ((Math.log2(x) - x0) / Math.max(1e-9, x1 - x0)) * (W - L - R);
  const py = (y: number) => H - B - (y / top) * (H - T - B);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="12"><rect width="${W}" height="${H}" fill="white"/>`;
  svg += `<text x="${W / 2 - R / 2}" y="22" text-anchor="middle" font-size="15">${title}</text>`;
  svg += `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`;
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) svg += `<text x="${px(x)}" y="${H - B + 18}" text-anchor="middle">${x}</text>`;
  for (let k = 0; k <= 4; k++) {
    const y = (top * k) / 4;
    svg += `<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#eee"/><text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(top < 5 ? 2 : 0)}</text>`;
  }
  svg += `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${xLabel}</text>`;
  svg += `<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${yLabel}</text>`;
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) svg += `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x)},${py(y)}`).join(' ')}"/>`;
    for (const [x, y] of pts) svg += `<circle cx="${px(x)}" cy="${py(y)}" r="3.5" fill="${s.colour}"/>`;
    svg += `<rect x="${W - R + 12}" y="${T + i * 20}" width="12" height="12" fill="${s.colour}"/><text x="${W - R + 30}" y="${T + i * 20 + 10}">${s.name}</text>`;
  });
  return `${svg}</svg>`;
}

const rows = quality.rows as Record<string, any>;
const byMethod = (method: string, metric: (r: any) => number): Array<[number, number]> =>
  Object.values(rows).filter((r: any) => r.method === method).map((r: any) => [r.budget, metric(r)]);
const qa = (r: any) => 100 * r.qa.overall.accuracy;
// A run with --methods may leave out the base row (all tokens): its line is then left out.
const allTokens = Object.values(rows).find((r: any) => r.method === 'base') as any;
const accuracy = lineChart('QA accuracy vs token budget', 'tokens (log scale)', 'QA accuracy, %', [
  { name: 'Fwd2Bot', colour: '#3b5bdb', points: byMethod('fwd2bot', qa) },
  { name: 'avg pooling', colour: '#e8590c', points: byMethod('pool', qa) },
  { name: 'CLS selection', colour: '#2f9e44', points: byMethod('cls', qa) },
  ...(allTokens ? [{ name: `all ${allTokens.budget} tokens`, colour: '#868e96', points: [[1, qa(allTokens)], [16, qa(allTokens)]] as Array<[number, number]> }] : []),
].filter((s) => s.points.length > 0), 100);
const cached = engine.answerMs.fromCachedTokens as Record<string, number>;
const latency = lineChart('Answer latency vs token budget', 'tokens (log scale)', 'ms per answer', [
  { name: 'from cached tokens', colour: '#3b5bdb', points: Object.entries(cached).map(([b, ms]) => [Number(b), ms]) },
  { name: 'full tokens, from image', colour: '#868e96', points: [[1, engine.answerMs.fullTokensFromImage], [16, engine.answerMs.fullTokensFromImage]] },
]);
await sharp(Buffer.from(accuracy)).png().toFile(path.join(dir, 'accuracy-vs-budget.png'));
await sharp(Buffer.from(latency)).png().toFile(path.join(dir, 'latency-vs-budget.png'));

const pct = (x: number | undefined) => (x === undefined ? '–' : (100 * x).toFixed(1));
const types = [...new Set(Object.values(rows).flatMap((r: any) => Object.keys(r.qa.byType)))].sort();
const cats = [...new Set(Object.values(rows).flatMap((r: any) => Object.keys(r.compositional.byCategory)))].sort();
const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const md: string[] = [];
md.push('# Glimpse benchmark report', '');
md.push(`Date: ${quality.date}. Machine: ${engine.machine.cpu}, ${engine.machine.cores} cores, ${engine.machine.memoryGiB} GiB, ${engine.machine.platform}, Node ${engine.machine.node}. Pack: \`${quality.pack}\`. Execution provider: ${engine.provider}.`, '');
md.push(`Regenerate everything with \`npm run bench\` (quality on ${quality.images} test images took ${Math.round(quality.seconds / 60)} min of the run).`, '');
md.push(`## Quality by budget (language-${quality.language ?? 1} test split${quality.testSplit ? ` \`${quality.testSplit}\`` : ''}, through the TypeScript engine)`, '');
md.push(line(['row', 'tokens', 'QA seen', 'QA held-out', 'caption F1', 'halluc.', 'T2I R@1', 'T2I R@10', 'I2T R@1', 'I2T R@10', 'compositional']));
md.push(line(Array(11).fill('---')));
for (const [name, r] of Object.entries(rows)) {
  const ret = r.retrieval.seen;
  md.push(line([name, r.budget, pct(r.qa.overall.accuracy), pct(heldOutQa(r).overall.accuracy), pct(r.captions.f1), pct(r.captions.hallucination), pct(ret.textToImage.r1), pct(ret.textToImage.r10), pct(ret.imageToText.r1), pct(ret.imageToText.r10), pct(r.compositional.overall.accuracy)]));
}
md.push('', 'Retrieval for the base model and the training-free rows uses the E5-V prompt ("… Summary above image in one word:" → last hidden state).', '');
md.push('### QA accuracy per question type, seen wordings', '', line(['row', ...types]), line(Array(1 + types.length).fill('---')));
for (const [name, r] of Object.entries(rows)) md.push(line([name, ...types.map((t) => pct(r.qa.byType[t]?.accuracy))]));
md.push('', '### Compositional accuracy per probe category', '', line(['row', ...cats]), line(Array(1 + cats.length).fill('---')));
for (const [name, r] of Object.entries(rows)) {
  md.push(line([name, ...cats.map((c) => pct(r.compositional.byCategory[c]?.accuracy))]));
  if (r.reranked) md.push(line([`${name}, re-ranked`, ...cats.map((c) => pct(r.reranked.compositional.byCategory[c]?.accuracy))]));
}
if (Object.values(rows).some((r: any) => r.reranked)) md.push('', 'Re-ranked: scored as search orders its first hits (pack.json `retrieval.rerank`): cosine + weight × pass 2\'s mean log-probability of the text as the photo\'s caption, from the same cached tokens.');
md.push('', '![QA accuracy vs budget](accuracy-vs-budget.png)', '');
md.push(...languageSections(quality));
md.push('## Speed and storage (ratios measured in one run)', '');
md.push(`- Answer from cached tokens (budget ${Object.keys(cached).join('/')}): ${Object.values(cached).map((v) => v.toFixed(1)).join(' / ')} ms; from the image in full-token mode: ${engine.answerMs.fullTokensFromImage.toFixed(1)} ms — **${engine.answerMs.ratioFullOverCachedK.toFixed(2)}×** the cached budget-16 answer.`);
md.push(`- Compression: ${engine.compression.imagesPerSecondBatch1.toFixed(1)} images/s at batch 1, ${engine.compression.imagesPerSecondBatch16.toFixed(1)} at batch 16 (JPEG decoding included).`);
md.push(`- Text query embedding: ${engine.textEmbeddingMs.toFixed(1)} ms.${engine.rerank ? ` Re-ranking the first ${engine.rerank.candidates} hits (pass 2's likelihood of the query, pack.json \`retrieval.rerank\`): ${engine.rerank.ms.toFixed(1)} ms.` : ''} Search end to end: ${library.searchEndToEndMs.toFixed(1)} ms.`);
md.push(`- Decode: ${engine.decodeMsPerToken.map((t: any) => `${t.msPerToken.toFixed(2)} ms/token (${t.threads} thread${t.threads > 1 ? 's' : ''}, spinning ${t.spinning ? 'on' : 'off'})`).join(', ')}.`);
md.push(`- Indexing end to end: ${library.indexing.photosPerSecond.toFixed(1)} photos/s (${library.indexing.photos} sample photos).`);
md.push(`- Search scan: ${library.searchScaling.map((s: any) => `${s.photos.toLocaleString('en')} photos ${s.inMemoryMs.toFixed(2)} ms (sqlite-vec ${s.sqliteVecMs.toFixed(2)} ms)`).join('; ')}.`);
md.push(`- Storage per photo: cached tokens ${library.storage.tokenBytesPerPhoto} B (${library.storage.tokenEncoding ?? 'float16'}) vs ${library.storage.allVisualTokensFloat16BytesPerPhoto} B for all visual tokens (${(library.storage.allVisualTokensFloat16BytesPerPhoto / library.storage.tokenBytesPerPhoto).toFixed(1)}×); whole catalog ${library.storage.catalogBytesPerPhoto} B per photo; float16 vs int8 quality below.`);
md.push('', '![Answer latency vs budget](latency-vs-budget.png)', '');
md.push(...realSizeSections(dir));
// The Ablations section is written by training/ablations_report.py (npm run ablations); kept on a rerun.
const ablations = path.join(dir, 'ablations.md');
if (fs.existsSync(ablations)) md.push(fs.readFileSync(ablations, 'utf8').trimEnd(), '');
fs.writeFileSync(path.join(dir, 'REPORT.md'), `${md.join('\n')}\n`);
fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify({ quality, engine, library }, null, 1)}\n`);
console.log(`wrote ${path.relative(process.cwd(), dir) || '.'}/REPORT.md, latest.json, accuracy-vs-budget.png, latency-vs-budget.png`);
