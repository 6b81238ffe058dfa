/**
 * KERAS_MAX_WEIGHTS_BYTES: the largest total of weights (as float32, from the file's declared
 * shapes) a Keras file may have. h5wasm copies every weight into the JS heap, and loading holds
 * them about three times (file values, TF.js artifacts, the model), so a file over it is refused
 * before any weight is read. Checked at start-up by config.ts; read here so that every thread
 * (inference workers, the Keras reading thread) applies the same value from its environment.
 */
export const DEFAULT_KERAS_MAX_WEIGHTS_BYTES = 1024 * 1024 * 1024;

export function parseKerasMaxWeightsBytes(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_KERAS_MAX_WEIGHTS_BYTES;
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`KERAS_MAX_WEIGHTS_BYTES=${JSON.stringify(raw)}: expected a whole number of bytes, at least 1 (default ${DEFAULT_KERAS_MAX_WEIGHTS_BYTES}, 1 GiB)`);
  }
  return value;
}

export function kerasMaxWeightsBytes(env: Readonly<Record<string, string | undefined>> = process.env): number {
  return parseKerasMaxWeightsBytes(env.KERAS_MAX_WEIGHTS_BYTES);
}
