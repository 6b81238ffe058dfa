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

/** A softmax output row -> its classes, best first (ties keep label order), scores as `probability`. */
export function rankClasses(scores: ArrayLike<number>, labels: readonly string[]): RankedClass[] {
  return Array.from(labels, (label, index) => ({ index, label, score: probability(scores[index]) })).sort(
    (a, b) => b.score - a.score || a.index - b.index,
  );
}
