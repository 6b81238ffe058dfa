import * as tf from '@tensorflow/tfjs';
import { KerasRefused, parseModelConfig, toTfjsTopology } from './config';
import type { KerasContent } from './keras-file';

/**
 * A Keras file's content as TF.js model artifacts (layers topology + weightSpecs + weightData),
 * in memory: what `tf.loadLayersModel(tf.io.fromMemory(...))` loads and what `specserve import`
 * writes as model.json + shards. The model is built once from the translated config to learn
 * each layer's weight names and shapes as TF.js has them (a .keras file numbers its weights, it
 * does not name them); the Keras weights are matched to them per layer, in index order, with
 * their shapes checked. The topology written is TF.js's own serialization of the built model.
 */
export async function kerasArtifacts(content: KerasContent, source: string): Promise<tf.io.ModelArtifacts> {
  if (!content.weights) throw new Error('kerasArtifacts: the content was read without weights');
  const topology = toTfjsTopology(parseModelConfig(JSON.parse(content.modelConfigJson)), content.kerasVersion);
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
  } catch (e) {
    throw new KerasRefused(`TF.js cannot build its architecture: ${(e as Error).message}`);
  }
  try {
    const byLayer = new Map(content.weights.filter((l) => l.tensors.length > 0).map((l) => [l.layer, l.tensors]));
    const specs: tf.io.WeightsManifestEntry[] = [];
    const data: Float32Array[] = [];
    for (const layer of model.layers) {
      const wanted = layer.weights;
      if (wanted.length === 0) continue;
      const stored = byLayer.get(layer.name);
      byLayer.delete(layer.name);
      if (!stored) throw new KerasRefused(`the file has no weights for layer '${layer.name}' (${layer.getClassName()})`);
      if (stored.length !== wanted.length) {
        throw new KerasRefused(`layer '${layer.name}' (${layer.getClassName()}) has ${stored.length} weights in the file, TF.js expects ${wanted.length} (${wanted.map((w) => w.originalName).join(', ')})`);
      }
      wanted.forEach((weight, i) => {
        const tensor = stored[i] as { shape: number[]; data: Float32Array };
        if (tensor.shape.join(',') !== weight.shape.join(',')) {
          throw new KerasRefused(`layer '${layer.name}': weight ${weight.originalName} is [${tensor.shape}] in the file, TF.js expects [${weight.shape}]`);
        }
        specs.push({ name: weight.originalName, shape: tensor.shape, dtype: 'float32' });
        data.push(tensor.data);
      });
    }
    const unused = [...byLayer.keys()];
    if (unused.length > 0) throw new KerasRefused(`the file has weights for layers the model does not have: ${unused.join(', ')}`);
    const weightData = new Uint8Array(data.reduce((n, d) => n + d.byteLength, 0));
    let offset = 0;
    for (const d of data) {
      weightData.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), offset);
      offset += d.byteLength;
    }
    return {
      modelTopology: model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'],
      format: 'layers-model',
      generatedBy: `keras v${content.kerasVersion}`,
      convertedBy: `specserve import (TensorFlow.js ${tf.version.tfjs}) from ${source}`,
      weightSpecs: specs,
      weightData: weightData.buffer,
    };
  } finally {
    model.dispose();
  }
}
