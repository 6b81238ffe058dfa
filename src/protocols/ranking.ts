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

/** An output row -> every label with its score, best first (ties keep label order). */
export function rankClasses(row: ArrayLike<number>, model: OutputMeaning): RankedClass[] {
  return labelScores(row, model)
    .map((score, index) => ({ index, label: model.labels[index] ?? String(index), score }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}

/** A `sigmoid` (multi-label) output row -> the labels whose score reaches their threshold, best first. */
export function labelsAboveThreshold(row: ArrayLike<number>, model: OutputMeaning): RankedClass[] {
  const thresholds = labelThresholds(model);
  return rankClasses(row, model).filter(({ index, score }) => score >= thresholds[index]!);
}
