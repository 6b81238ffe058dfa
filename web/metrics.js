// The Prometheus text format as the dashboard needs it: samples, and quantiles of a histogram
// between two scrapes (what histogram_quantile(rate(...)) computes, for one interval).

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of the exposition text: { name, labels, value }. */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key] = value.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of a metric's samples per model (over versions and other labels). */
export function sumByModel(samples, name, filter = () => true) {
  const sums = new Map();
  for (const s of samples) if (s.name === name && s.labels.model !== undefined && filter(s.labels)) sums.set(s.labels.model, (sums.get(s.labels.model) ?? 0) + s.value);
  return sums;
}

/** A histogram's cumulative bucket counts per model: Map(model -> Map(le -> count)). */
export function bucketsByModel(samples, histogram) {
  const byModel = new Map();
  for (const s of samples) {
    if (s.name !== `${histogram}_bucket` || s.labels.model === undefined) continue;
    const buckets = byModel.get(s.labels.model) ?? new Map();
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    byModel.set(s.labels.model, buckets);
  }
  return byModel;
}

/**
 * The q-quantile of the observations made between two scrapes of one histogram's buckets,
 * interpolated linearly inside its bucket as Prometheus does; null when there were none.
 */
export function quantileBetween(q, before, after) {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => after.get(le) - (before?.get(le) ?? 0));
  const total = counts[counts.length - 1];
  if (!(total > 0)) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i] >= rank) {
      if (bounds[i] === Infinity) return bounds[i - 1] ?? null;
      const lower = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : counts[i - 1];
      const inBucket = counts[i] - below;
      return inBucket > 0 ? lower + ((bounds[i] - lower) * (rank - below)) / inBucket : bounds[i];
    }
  }
  return null;
}
