// Search's second stage (pack.json retrieval.rerank, calibrated by scripts/calibrate-rerank.ts):
// the cosine of the mean of K compressed tokens cannot tell "a red circle and a blue square"
// from "a blue circle and a red square" (the mean loses which colour goes with which
// shape), but pass 2 reads that binding from the same cached tokens. So the first hits
// by cosine are ordered again by cosine + weight x the mean log-probability pass 2 gives
// the query as the photo's caption (Fwd2BotModel.textLikelihood). The library, the
// calibration and the quality bench all order through `rerankOrder`.

export interface RerankSpec {
  /** How many of the first hits by cosine are ordered again. */
  candidates: number;
  /** Weight of the mean log-probability (nats per token) against the cosine. */
  weight: number;
}

/** The score a re-ranked hit is ordered by. */
export const rerankScore = (cosine: number, logProbability: number, weight: number): number => cosine + weight * logProbability;

/**
 * Indices of `cosines` (best first, as search returns them) in the re-ranked order: the
 * first `likelihoods.length` by rerankScore (ties keep cosine order), then the rest as they were.
 */
export function rerankOrder(cosines: readonly number[], likelihoods: readonly number[], weight: number): number[] {
  const n = Math.min(likelihoods.length, cosines.length);
  const head = Array.from({ length: n }, (_, i) => ({ i, s: rerankScore(cosines[i] as number, likelihoods[i] as number, weight) }))
    .sort((a, b) => b.s - a.s || a.i - b.i).map((x) => x.i);
  return [...head, ...Array.from({ length: cosines.length - n }, (_, j) => n + j)];
}

/**
 * `hits` (best cosine first) with the first `spec.candidates` re-ranked; `likelihood` scores
 * those hits (a hit it cannot score gets -Infinity and goes to the end of them).
 */
export async function rerankHits<T extends { score: number }>(hits: readonly T[], spec: RerankSpec,
  likelihood: (top: readonly T[]) => Promise<number[]>): Promise<T[]> {
  const top = hits.slice(0, spec.candidates);
  if (top.length < 2) return [...hits];
  const scores = await likelihood(top);
  if (scores.length !== top.length) throw new Error(`re-ranking scored ${scores.length} of ${top.length} hits`);
  return rerankOrder(hits.map((h) => h.score), scores, spec.weight).map((i) => hits[i] as T);
}

/** The best cosine among hits, whatever their order (the "no good match" threshold was calibrated on it). */
export const bestCosine = (hits: ReadonlyArray<{ score: number }>): number | null =>
  hits.length === 0 ? null : Math.max(...hits.map((h) => h.score));
