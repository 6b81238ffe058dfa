import '@tensorflow/tfjs-backend-wasm';
import { type BackendName, parseBackendName } from '../config';
import { initBackend } from '../inference/backend';
import { registerWasmConvGradients } from './wasm-conv-gradients';
import { registerWasmFastTransposedMatMul } from './wasm-matmul-transpose';

export type TrainingBackend = BackendName;

/**
 * The training backend: the server's choice (tfjs-node if it loads, else wasm; `forced`, e.g. from
 * TFJS_BACKEND, may name tensorflow, wasm or cpu; cpu is correct but trains at > 1 s per image),
 * with the kernels training needs on wasm registered first: our conv gradients and the faster
 * transposed BatchMatMul. (The wasm package is imported above so that its own kernels are
 * registered before ours replace them.)
 */
export async function selectTrainingBackend(forced?: string): Promise<TrainingBackend> {
  const wanted = parseBackendName(forced);
  registerWasmConvGradients();
  registerWasmFastTransposedMatMul();
  return initBackend(wanted);
}
