import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../config';
import { log } from '../log';

/**
 * Picks the TensorFlow.js backend once per process. tfjs-node (native libtensorflow) is an
 * optionalDependency: its install downloads libtensorflow and fails offline, so it is used only
 * where it installed. Otherwise wasm, ~30x faster than the pure-JS cpu backend.
 */
export async function initBackend(forced: BackendName | undefined): Promise<BackendName> {
  const candidates: BackendName[] = forced ? [forced] : ['tensorflow', 'wasm', 'cpu'];
  const failures: string[] = [];
  for (const name of candidates) {
    try {
      registerBackend(name);
      if (await tf.setBackend(name)) {
        await tf.ready();
        log.info('tensorflow.js backend selected', { backend: name, forced: forced !== undefined, tfjs: tf.version.tfjs, skipped: failures });
        return name;
      }
      failures.push(`${name}: setBackend returned false`);
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`No TensorFlow.js backend could start (${failures.join('; ')})`);
}

/** Loads the package that provides a backend; each registers itself with tfjs on import. */
function registerBackend(name: BackendName): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- optional packages, loaded only when chosen */
  if (name === 'tensorflow') require('@tensorflow/tfjs-node');
  else if (name === 'wasm') require('@tensorflow/tfjs-backend-wasm');
  /* eslint-enable @typescript-eslint/no-require-imports */
}
