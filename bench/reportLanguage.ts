// REPORT.md's parts of the quality section about understanding people (issue #17), from
// quality.json: the targets against what was measured, QA by wording and by type on
// held-out wordings, text-to-image recall per text set (captions, partial descriptions,
// search texts), and the unknown-word figures. Kept by bench/report.ts.
import { heldOutQa, language2Targets, type QualityRun } from './targets.ts';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1));
const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const table = (head: string[], body: Array<Array<string | number>>) => [line(head), line(head.map(() => '---')), ...body.map(line)];

/** Retrieval sets in the order the report shows them, with their column titles. */
const SETS: Array<[string, string]> = [['seen', 'captions, seen'], ['heldOut', 'captions, held-out'], ['partial', 'partial descriptions'], ['searchSeen', 'searches, seen'], ['searchHeldOut', 'searches, held-out']];
const WORDINGS = ['seen', 'new-template', 'new-combination'];

export function languageSections(quality: QualityRun & { language?: number; testSplit?: string; images: number }): string[] {
  if (!quality.unknownWords) return [];
  const rows = quality.rows as Record<string, any>;
  const md: string[] = [];
  md.push(`## Understanding people (issue #17): targets on the language-${quality.language ?? 1} test split`, '');
  md.push(`Measured by \`npm run bench\` on ${quality.images} images of \`${quality.testSplit ?? 'data/test'}\` (Fwd2Bot rows; a pack trained on language 2 is measured on language 2's held-out wordings). A figure this run could not measure counts as not met.`, '');
  const targets = language2Targets(quality);
  const reranks = targets.some((t) => t.cosineAlone !== undefined);
  md.push(...table(['target', 'threshold', 'measured', ...(reranks ? ['cosine alone'] : []), ''],
    targets.map((t) => [t.target, `≥ ${pct(t.threshold)}`, pct(t.measured), ...(reranks ? [t.cosineAlone === undefined ? '' : pct(t.cosineAlone)] : []), t.met ? 'met' : '**not met**'])), '');
  if (reranks) md.push('Search and the probes are measured as search ranks: the first hits by cosine re-ranked by pass 2\'s likelihood of the text (pack.json `retrieval.rerank`, docs/library.md); "cosine alone" is the retrieval embedding without that stage, the paper\'s setting.', '');
  const withWording = Object.entries(rows).filter(([, r]) => r.qaByWording);
  if (withWording.length > 0) {
    md.push('### QA by wording', '', ...table(['row', ...WORDINGS, 'held-out (both kinds)'], withWording.map(([name, r]) => [name, ...WORDINGS.map((w) => pct(r.qaByWording[w]?.accuracy)), pct(heldOutQa(r).overall.accuracy)])), '');
  }
  const types = [...new Set(Object.values(rows).flatMap((r) => Object.keys(heldOutQa(r).byType)))].sort();
  if (types.length > 0) md.push('### QA per question type, held-out wordings', '', ...table(['row', ...types], Object.entries(rows).map(([name, r]) => [name, ...types.map((t) => pct(heldOutQa(r).byType[t]?.accuracy))])), '');
  const sets = SETS.filter(([key]) => Object.values(rows).some((r) => r.retrieval[key]));
  // A re-ranking pack's Fwd2Bot rows also as search ranks them (text-to-image recall is all the second stage changes).
  const recallRows = Object.entries(rows).flatMap(([name, r]) => [[name, (key: string) => r.retrieval[key]?.textToImage],
    ...(r.reranked ? [[`${name}, re-ranked`, (key: string) => r.reranked.retrieval[key]]] : [])] as Array<[string, (key: string) => any]>);
  md.push('### Text-to-image recall by text set (R@1 / R@5)', '', ...table(['row', ...sets.map(([, title]) => title)],
    recallRows.map(([name, of]) => [name, ...sets.map(([key]) => (of(key) ? `${pct(of(key).r1)} / ${pct(of(key).r5)}` : '–'))])), '');
  md.push('Partial descriptions: captions naming two objects of a scene of four or more (any wording). Searches: the short texts people type ("crimson disc and yellow wedge").', '');
  const u = quality.unknownWords as any;
  md.push('### Unknown words (the library\'s own code, main/library/understanding.ts)', '');
  md.push(`- ${u.queries} queries made from the split's searches and questions with one word outside the vocabulary (English word, typing slip, gibberish; world/unknown-words.ts): the word is reported in ${pct(u.reported.share)} % `
    + `(English ${pct(u.byKind.english.share)}, slips ${pct(u.byKind.typo.share)}, gibberish ${pct(u.byKind.gibberish.share)}); only that word in ${pct(u.onlyThatWord.share)} % (the rest also hold words of the split the pack does not know).`);
  md.push(`- "No good match" (judgeSearch, noMatchBelow ${u.noMatchBelow ?? 'not calibrated'}): ${pct(u.gibberishOnly.noGoodMatch.share)} % of ${u.gibberishOnly.queries} gibberish queries, ${pct(u.foreignOnly.noGoodMatch.share)} % of ${u.foreignOnly.queries} queries of English words outside the world ("${u.foreignOnly.examples[1] ?? u.foreignOnly.examples[0]}").`);
  if (u.missed.length > 0) md.push(`- Not reported, for example: ${u.missed.map((x: any) => `"${x.word}" in "${x.text}"`).join('; ')}.`);
  md.push('');
  return md;
}
