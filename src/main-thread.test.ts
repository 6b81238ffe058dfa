import { readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * The HTTP side (bootstrap, the app, the handlers, the manager and the worker pool) runs in a
 * serving thread (src/serving), which by default never runs a model: TensorFlow.js there cost
 * 16 MB of heap (40.1 -> 23.8 MB live at rest) for nothing. Models load in the worker and planner
 * threads, which import it themselves (with WORKERS=0, a serving thread's inline worker imports it
 * only for a version that serves on TF.js).
 */
describe('the main thread', () => {
  it('loads the server and every handler without TensorFlow.js', () => {
    const loaded: string[] = [];
    for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-wasm']) {
      jest.doMock(name, () => {
        loaded.push(name);
        return {};
      });
    }
    jest.isolateModules(() => {
      require('./bootstrap');
      const handlers = path.join(__dirname, '..', 'handlers');
      for (const file of readdirSync(handlers).filter((f) => f.endsWith('.ts'))) require(path.join(handlers, file));
    });
    expect(loaded).toEqual([]);
  });
});
