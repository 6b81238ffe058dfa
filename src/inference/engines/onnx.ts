import * as ort from 'onnxruntime-node';
import { type EngineModel, splitRows } from './engine';

/** What the ONNX engine needs to run a graph: where it is, its tensor names, how its input is laid out. */
export interface OnnxGraph {
  /** The serialised model, or the path of model.onnx when its tensors live in external files beside it. */
  model: Uint8Array | string;
  inputName: string;
  outputName: string;
  /** The graph's input layout; inputs arrive as the metadata's [height, width, channels]. */
  layout: 'NHWC' | 'NCHW';
  /** True when the graph's batch axis is fixed at 1: a batch runs one input at a time. */
  fixedBatch: boolean;
}

export interface OnnxOptions {
  /** ONNX Runtime's intra-op threads for this session (workers x threads = cores). */
  threads: number;
}

/** The ONNX engine: onnxruntime-node's CPU execution provider, one session per thread. */
export class OnnxModel implements EngineModel {
  private readonly size: number;
  /** What a run needs of the graph; not its bytes, which the session has copied (kept, they would cost a model's size per worker). */
  private readonly graph: Omit<OnnxGraph, 'model'>;

  constructor(
    private readonly session: ort.InferenceSession,
    { inputName, outputName, layout, fixedBatch }: OnnxGraph,
    /** The metadata's input shape, [height, width, channels] for images. */
    private readonly inputShape: readonly number[],
  ) {
    this.size = inputShape.reduce((a, b) => a * b, 1);
    this.graph = { inputName, outputName, layout, fixedBatch };
  }

  async run(batch: Float32Array, n: number): Promise<Float32Array[]> {
    if (n === 0) return [];
    const input = this.graph.layout === 'NCHW' ? hwcToChw(batch, n, this.inputShape) : batch;
    const shape = this.graph.layout === 'NCHW' ? [this.inputShape[2]!, this.inputShape[0]!, this.inputShape[1]!] : [...this.inputShape];
    if (!this.graph.fixedBatch) return splitRows(await this.once(input, n, shape), n);
    const rows: Float32Array[] = [];
    for (let i = 0; i < n; i++) rows.push(await this.once(input.subarray(i * this.size, (i + 1) * this.size), 1, shape));
    return rows;
  }

  private async once(values: Float32Array, n: number, shape: number[]): Promise<Float32Array> {
    const feeds = { [this.graph.inputName]: new ort.Tensor('float32', values, [n, ...shape]) };
    const outputs = await this.session.run(feeds, [this.graph.outputName]);
    const out = outputs[this.graph.outputName]!;
    try {
      if (out.type !== 'float32') throw new Error(`output ${this.graph.outputName} is ${out.type}, not float32`);
      // A copy in this realm's Float32Array, owning its buffer (rows are transferred).
      return Float32Array.from(out.data as Float32Array);
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    void this.session.release();
  }
}

/** [n, H, W, C] -> [n, C, H, W]. */
function hwcToChw(batch: Float32Array, n: number, [h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(batch.length);
  const plane = h! * w!;
  for (let b = 0; b < n; b++) {
    const base = b * plane * c!;
    for (let p = 0; p < plane; p++) for (let ch = 0; ch < c!; ch++) out[base + ch * plane + p] = batch[base + p * c! + ch]!;
  }
  return out;
}

export async function loadOnnx(graph: OnnxGraph, inputShape: readonly number[], { threads }: OnnxOptions): Promise<OnnxModel> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: Math.max(1, threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  const session = typeof graph.model === 'string' ? await ort.InferenceSession.create(graph.model, options) : await ort.InferenceSession.create(graph.model, options);
  return new OnnxModel(session, graph, inputShape);
}
