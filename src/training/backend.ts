import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from './wasm-conv-gradients';
import { registerWasmFastTransposedMatMul } from './wasm-matmul-transpose';

export type TrainingBackend = 'tensorflow' | 'wasm' | 'cpu';

function tryTfjsNode(): boolean {
  try {
    // Optional dependency (native, often fails to install); a plain require keeps tsc from
    // resolving it, so the project builds without it.
    const name = '@tensorflow/tfjs-node';
    require(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Picks the training backend: tfjs-node ('tensorflow') if it loads, else 'wasm' with our conv
 * gradient kernels and the faster transposed BatchMatMul. `forced` (e.g. from TFJS_BACKEND) may name 'tensorflow', 'wasm' or 'cpu'
 * ('cpu' is correct but trains at > 1 s per image). Returns the active backend's name.
 */
export async function selectTrainingBackend(forced?: string): Promise<TrainingBackend> {
  const wanted = forced?.trim() || undefined;
  if (wanted !== undefined && !['tensorflow', 'wasm', 'cpu'].includes(wanted)) {
    throw new Error(`TFJS_BACKEND must be tensorflow, wasm or cpu, not "${wanted}"`);
  }
  if (wanted === 'tensorflow' || wanted === undefined) {
    if (tryTfjsNode() && (await tf.setBackend('tensorflow'))) return 'tensorflow';
    if (wanted === 'tensorflow') throw new Error('TFJS_BACKEND=tensorflow but @tensorflow/tfjs-node does not load');
  }
  if (wanted === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
    return 'cpu';
  }
  registerWasmConvGradients();
  registerWasmFastTransposedMatMul();
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  return 'wasm';
}
