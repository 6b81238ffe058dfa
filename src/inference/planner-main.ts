/**
 * The planning thread: decides each version's engine (planVersion: an ONNX file's interface
 * checked; a TF.js model converted to ONNX and compared with TF.js on the probe batch) and
 * returns the plan. Started by Planner; never imported elsewhere.
 *
 * Why a thread of its own: the parity check needs TF.js (~40 MB of code and backend) and grows
 * its WebAssembly heap to the largest model's activations (~100 MB with every shipped model), and
 * a WebAssembly memory never shrinks. Here all of it is returned when the thread ends; the
 * inference workers start TF.js only if a version serves on it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readModelFiles } from '../model-store/files';
import { initBackend } from './backend';
import { planVersion } from './engines/plan';
import type { FromPlanner, PlannerInit, ToPlanner } from './planner-protocol';
import { transferable } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('planner-main.ts runs only as a worker thread');
const init = workerData as PlannerInit;
const send = (message: FromPlanner, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/**
 * Plans one after another, after TF.js has started: each holds a TF.js model and an ONNX Runtime
 * session while it runs.
 */
let chain: Promise<unknown> = initBackend(init.backend).then(
  (backend) => send({ type: 'ready', backend }),
  (e: unknown) => send({ type: 'init-failed', error: (e as Error).message }),
);

async function plan(message: Extract<ToPlanner, { type: 'plan' }>): Promise<void> {
  try {
    const planned = await planVersion(await readModelFiles(message.stored.dir), message.stored.dir, message.engine);
    planned.tfjs?.dispose();
    const { plan } = planned;
    if (plan.name === 'onnx' && typeof plan.graph.model !== 'string') {
      const { view, buffer } = transferable(plan.graph.model);
      send({ type: 'planned', id: message.id, plan: { ...plan, graph: { ...plan.graph, model: view } } }, [buffer]);
    } else {
      send({ type: 'planned', id: message.id, plan });
    }
  } catch (e) {
    send({ type: 'plan-failed', id: message.id, error: (e as Error).message });
  }
}

port.on('message', (message: ToPlanner) => {
  if (message.type === 'plan') {
    chain = chain.then(() => plan(message));
    return;
  }
  // Ended from inside once the plans are done, with their sessions released: terminate() during
  // native work can abort the process (see worker-main.ts, 'stop').
  void chain.then(() => setImmediate(() => process.exit(0)));
});
