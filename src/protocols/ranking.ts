import { type ModelMetadata, labelThresholds } from '../model-store/metadata';

/** One class of a classifier's output, with its score. */
export interface RankedClass {
  index: number;
  label: string;
  score: number;
}

/** A model output as a probability: clamped to 0..1, since float rounding can put it a hair outside. */
export function probability(score: number | undefined): number {
  return Math.min(1, Math.max(0, score ?? 0));
}

type OutputMeaning = Pick<ModelMetadata, 'output' | 'labels'>;

/**
 * A model's output row -> one score per label, in label order, each a `probability`. Only
 * `binary-sigmoid` differs from the row itself: its one unit p is P(labels[1]), labels[0] gets 1 - p.
 */
export function labelScores(row: ArrayLike<number>, { output }: OutputMeaning): number[] {
  if (output.kind === 'binary-sigmoid') {
    const p = probability(row[0]);
    return [1 - p, p];
  }
  if (output.kind === 'logits') return softmax(row);
  return Array.from(row, probability);
}

/** Raw scores -> probabilities (max subtracted first, so large logits do not overflow). */
function softmax(row: ArrayLike<number>): number[] {
  const values = Array.from(row);
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => probability(e / sum));
}

/**
 * An output row -> the labels with their scores, best first (ties keep label order): every label,
 * or the best `top`. A top-k answer keeps only k entries while it scans (ImageNet's 1,000 classes
 * for a top 5: no 1,000 objects to build and sort on the main thread for every request).
 */
export function rankClasses(row: ArrayLike<number>, model: OutputMeaning, top = Infinity): RankedClass[] {
  const scores = labelScores(row, model);
  const entry = (index: number): RankedClass => ({ index, label: model.labels[index] ?? String(index), score: scores[index]! });
  if (top >= scores.length) return scores.map((_, index) => entry(index)).sort((a, b) => b.score - a.score || a.index - b.index);
  const best: RankedClass[] = [];
  for (let index = 0; index < scores.length && top > 0; index++) {
    const score = scores[index]!;
    // Scanned in label order, so a score equal to one already kept ranks after it.
    if (best.length === top) {
      if (!(score > best[top - 1]!.score)) continue;
      best.pop();
    }
    let at = best.length;
    while (at > 0 && best[at - 1]!.score < score) at--;
    best.splice(at, 0, entry(index));
  }
  return best;
}

/** A `sigmoid` (multi-label) output row -> the labels whose score reaches their threshold, best first. */
export function labelsAboveThreshold(row: ArrayLike<number>, model: OutputMeaning): RankedClass[] {
  const thresholds = labelThresholds(model);
  return rankClasses(row, model).filter(({ index, score }) => score >= thresholds[index]!);
}
