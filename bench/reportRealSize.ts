// REPORT.md sections for the real-size work (issue #15), from results that are committed
// when their benchmarks were run: token-encoding.json (bench:token-encoding),
// search-width.json (bench:search-width) and real-size.json (bench:real-size). A missing
// file leaves its section out; bench/report.ts appends what this returns.
import fs from 'node:fs';
import path from 'node:path';

type Json = any;
const pct = (x: number) => (100 * x).toFixed(1);
const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

export function realSizeSections(dir: string): string[] {
  const read = (name: string): Json | null => {
    const file = path.join(dir, name);
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
  };
  const md: string[] = [];
  const enc = read('token-encoding.json');
  if (enc) {
    md.push('## Cached tokens: float16 vs int8 (quality at every budget)', '');
    md.push(`${enc.images} test images, pack \`${enc.pack}\`, through the TypeScript engine (\`npm run bench:token-encoding -- --json\`, ${enc.date}). `
      + `int8 stores a float32 scale per token: ${enc.bytesPerPhoto.int8} B a photo instead of ${enc.bytesPerPhoto.float16} B. The int8 row's R@1 searches int8 image embeddings, as the library's index holds them. `
      + `Largest drop: **${enc.worstDropPoints.toFixed(2)} points** (goal ≤ 0.5), so int8 is the default for packs that do not say (pack.json \`cache.tokens\`).`, '');
    md.push(line(['budget', 'QA fp16', 'QA int8', 'caption F1 fp16', 'caption F1 int8', 'T2I R@1 fp16', 'T2I R@1 int8']), line(Array(7).fill('---')));
    for (const [b, r] of Object.entries(enc.rows as Record<string, Json>)) {
      md.push(line([b, pct(r.float16.qa), pct(r.int8.qa), pct(r.float16.captionF1), pct(r.int8.captionF1), pct(r.float16.t2iR1), pct(r.int8.t2iR1)]));
    }
    md.push('');
  }
  const sw = read('search-width.json');
  if (sw) {
    md.push('## Search at real widths (100,000 photos)', '');
    const load = sw.machine.loadAverageAtEnd ? `load average ${sw.machine.loadAverageAtStart[0].toFixed(1)} at start, ${sw.machine.loadAverageAtEnd[0].toFixed(1)} at end` : `load average ${sw.machine.loadAverage.toFixed(1)}`;
    md.push(`Median ms of ${sw.queries} queries${sw.rounds ? ` × ${sw.rounds} rounds after a warm-up` : ''}, top ${sw.k}; recall@${sw.k} against the exact float32 ranking for queries near a photo`
      + `${sw.rounds ? ' / anywhere' : ''} (\`npm run bench:search-width -- --json\`, ${sw.date}, ${sw.machine.cores} cores shared with a training job, ${load}). `
      + 'Wall-clock ms, and in brackets the CPU ms of the process (all threads): a search preempted by the other jobs takes longer on the clock, not in CPU. '
      + 'Bold: what the library searches with at that size (search.ts: the sign pre-filter once the int8 rows pass 128 MiB).', '');
    const cols: Array<[string, string]> = [['float32Js', 'float32 JS scan'], ['int8Wasm', 'int8 scan (WASM SIMD)'], ['int8', 'int8 scan (WASM SIMD)'], ['int8Threads', 'int8 scan, 2 threads'],
      ['signsRerank', 'sign pre-filter + int8 re-rank'], ['signsRerankThreads', 'pre-filter + re-rank, 2 threads'], ['sqliteVecInt8', 'sqlite-vec int8'], ['sqliteVecBit', 'sqlite-vec bit']];
    const present = cols.filter(([key]) => sw.results.some((r: Json) => r[key]));
    md.push(line(['width', 'photos', ...present.map(([, title]) => title)]), line(Array(2 + present.length).fill('---')));
    const cell = (c: Json, chosen: boolean) => {
      if (!c) return '—';
      const ms = `${c.ms.toFixed(1)} ms${c.cpuMs === undefined ? '' : ` (CPU ${c.cpuMs.toFixed(1)})`}`;
      const r = c.recallAt10Anywhere === undefined ? c.recallAt10.toFixed(2) : `${c.recallAt10.toFixed(2)} / ${c.recallAt10Anywhere.toFixed(2)}`;
      return `${chosen ? `**${ms}**` : ms}, R@${sw.k} ${r}, ${c.bytesPerPhoto} B`;
    };
    for (const r of sw.results) md.push(line([r.width, r.photos.toLocaleString('en'), ...present.map(([key]) => cell(r[key], r.libraryUses === key))]));
    md.push('');
  }
  const rs = read('real-size.json');
  if (rs) {
    md.push('## Real-size packs (random weights, the family\'s shapes)', '');
    md.push(`\`${rs.command}\` (${rs.date}, ${rs.machine.cores} cores, ${rs.machine.memoryGiB} GiB, load average ${rs.machine.loadAverage.toFixed(1)}).`
      + (rs.reduced ? ` **Reduced run**: ${rs.reduced.textLayers} decoder and ${rs.reduced.visionLayers} vision layers (${rs.reduced.note}); the full-depth run is pending: \`npm run bench:real-size -- --json\`.` : ''), '');
    md.push(line(['family', 'precision', 'pack', 'compress s/photo (batch 1 / 4)', 'answer ms from K=1 / 4 / 16', 'from image (all V)', 'ratio image / K=16', 'peak RSS']), line(Array(8).fill('---')));
    for (const f of rs.families) {
      for (const p of f.precision) {
        md.push(line([`${f.name} (V = ${f.visionTokens}, d = ${f.hidden})`, p.precision, mib(p.packBytes), `${p.compressSecondsPerPhoto.toFixed(2)} / ${p.compressSecondsPerPhotoBatch4.toFixed(2)}`,
          ['1', '4', '16'].map((k) => p.answerMs.cached[k].toFixed(0)).join(' / '), p.answerMs.fromImage.toFixed(0), `${p.ratioFromImageOverCached16.toFixed(2)}×`, `${p.peakRssMB.toFixed(0)} MB`]));
      }
    }
    md.push('', `Cache per photo: ${rs.bytesPerPhoto.fp16} B float16, ${rs.bytesPerPhoto.int8} B int8. Search at d = ${rs.search.width}: `
      + rs.search.photos.map((n: number, i: number) => `${n.toLocaleString('en')} photos ${rs.search.ms[i].toFixed(1)} ms`).join(', ') + '.', '');
  }
  return md;
}
