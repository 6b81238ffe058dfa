/** Bench settings from the environment: a bad value stops the bench before any server starts. */
export function envNumber(name: string, fallback: number, min = 0): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${JSON.stringify(raw)}: expected a number >= ${min}`);
  return value;
}

/** A comma-separated list of positive whole numbers, e.g. BENCH_CONCURRENCY=1,16,64. */
export function envIntegers(name: string, fallback: number[]): number[] {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isSafeInteger(v) || v < 1)) throw new Error(`${name}=${JSON.stringify(raw)}: expected whole numbers >= 1, comma-separated`);
  return values;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
