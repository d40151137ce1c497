// Issue #17's targets against what bench/quality.ts measured (quality.json), for the
// REPORT.md section: each target, its threshold, the measured figure and met / not met.
// Figures are shares (0..1); a figure the run did not measure is null and counts as not met.

export interface TargetRow {
  target: string; threshold: number; measured: number | null; met: boolean;
  /** For search and compositional targets of a pack that re-ranks (pack.json retrieval.rerank): the
   * figure of the embedding's cosine alone; `measured` is then what search ranks by. */
  cosineAlone?: number | null;
}

interface Rate { accuracy: number }
/** The parts of a quality.json row the targets read (bench/quality.ts writes them). */
export interface QualityRow {
  qa: { overall: Rate; byType: Record<string, Rate> };
  qaHeldOut: { overall: Rate; byType: Record<string, Rate> } | Rate;
  retrieval: Record<string, { textToImage: { r1: number } }>;
  compositional: { byCategory: Record<string, Rate> };
  /** Search's figures with its second stage (bench/quality.ts; absent when the pack does not re-rank). */
  reranked?: { retrieval: Record<string, { r1: number }>; compositional: { byCategory: Record<string, Rate> } };
}
export interface QualityRun { rows: Record<string, QualityRow>; unknownWords?: { reported: { share: number }; gibberishOnly: { noGoodMatch: { share: number } } } }

/** Today's seen-wording QA at budget 16 (the language-1 pack, pack.json), which a new pack must not fall below. */
export const SEEN_QA_FLOOR = 0.846;

/** A row's held-out QA overall and by type (older quality.json files kept only the overall rate). */
export function heldOutQa(row: QualityRow): { overall: Rate; byType: Record<string, Rate> } {
  return 'overall' in row.qaHeldOut ? row.qaHeldOut : { overall: row.qaHeldOut, byType: {} };
}

export function language2Targets(run: QualityRun): TargetRow[] {
  const at = (budget: number): QualityRow | undefined => run.rows[`fwd2bot-${budget}`];
  const rows: TargetRow[] = [];
  const add = (target: string, threshold: number, measured: number | undefined) =>
    rows.push({ target, threshold, measured: measured ?? null, met: measured !== undefined && measured >= threshold - 1e-12 });
  add('QA, held-out wordings, budget 16', 0.85, at(16) && heldOutQa(at(16) as QualityRow).overall.accuracy);
  add('QA, held-out wordings, budget 4', 0.8, at(4) && heldOutQa(at(4) as QualityRow).overall.accuracy);
  add('QA, seen wordings, budget 16 (not below today\'s)', SEEN_QA_FLOOR, at(16)?.qa.overall.accuracy);
  add('Relation QA, held-out wordings, budget 16', 0.8, at(16) && heldOutQa(at(16) as QualityRow).byType.relation?.accuracy);
  // Search and the probes are judged as search ranks: re-ranked when the pack re-ranks, the cosine alone beside.
  const ranked = (measured: number | undefined, alone: number | undefined, target: string, threshold: number) => {
    if (at(16)?.reranked === undefined) return add(target, threshold, alone);
    add(target, threshold, measured);
    (rows[rows.length - 1] as TargetRow).cosineAlone = alone ?? null;
  };
  const r16 = at(16);
  for (const [set, title] of [['heldOut', 'held-out captions'], ['partial', 'partial descriptions']] as const) {
    ranked(r16?.reranked?.retrieval[set]?.r1, r16?.retrieval[set]?.textToImage.r1, `Text-to-image R@1, ${title}, budget 16`, 0.85);
  }
  const categories = Object.keys(r16?.compositional.byCategory ?? {});
  if (categories.length === 0) add('Compositional accuracy, every probe category, budget 16', 0.8, undefined);
  for (const c of categories) {
    ranked(r16?.reranked?.compositional.byCategory[c]?.accuracy, r16?.compositional.byCategory[c]?.accuracy, `Compositional accuracy, ${c}, budget 16`, 0.8);
  }
  add('Queries with an unknown word that report it', 1, run.unknownWords?.reported.share);
  add('Gibberish queries judged "no good match"', 1, run.unknownWords?.gibberishOnly.noGoodMatch.share);
  return rows;
}
