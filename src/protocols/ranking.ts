/** One class of a classifier's output, with its score. */
export interface RankedClass {
  index: number;
  label: string;
  score: number;
}

/**
 * A softmax output row -> its classes, best first (ties keep label order). Scores are clamped to
 * 0..1: float rounding can put a probability a hair outside.
 */
export function rankClasses(scores: ArrayLike<number>, labels: readonly string[]): RankedClass[] {
  return Array.from(labels, (label, index) => ({ index, label, score: Math.min(1, Math.max(0, scores[index] ?? 0)) })).sort(
    (a, b) => b.score - a.score || a.index - b.index,
  );
}
