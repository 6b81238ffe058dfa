import type { ModelMetadata } from '../metadata';
import { parseModelConfig, signatureOf } from './config';
import type { KerasContent } from './keras-file';

/** What MODEL_CARD.md of an imported Keras model records. */
export interface ImportCardInput {
  name: string;
  version: number;
  /** The file as given, its size and SHA-256. */
  source: { file: string; bytes: number; sha256: string };
  content: KerasContent;
  metadata: ModelMetadata;
  tfjs: string;
  date: string;
}

const FORMATS: Record<KerasContent['format'], string> = {
  'keras-h5': 'Keras HDF5 (.h5: model_config + model_weights)',
  'keras-zip': 'Keras 3 .keras (zip: config.json + model.weights.h5)',
};

/** MODEL_CARD.md of a version written by `specserve import`: where it came from and what it is. */
export function importModelCard(c: ImportCardInput): string {
  const model = parseModelConfig(JSON.parse(c.content.modelConfigJson));
  const signature = signatureOf(model);
  const params = new Map((c.content.weights ?? []).map((l) => [l.layer, l.tensors.reduce((n, t) => n + t.data.length, 0)]));
  const m = c.metadata;
  const out: string[] = [];
  out.push(`# Model card: ${c.name}, version ${c.version}`, '');
  out.push(`Imported by \`specserve import\` on ${c.date} (TensorFlow.js ${c.tfjs}); no Python involved.`, '');
  out.push('## Source', '');
  out.push(`- File: \`${c.source.file}\`, ${c.source.bytes} bytes, sha256 \`${c.source.sha256}\`.`);
  out.push(`- Format: ${FORMATS[c.content.format]}; Keras ${c.content.kerasVersion}${c.content.backend ? ` (${c.content.backend} backend)` : ''}.`);
  out.push(`- Architecture: ${model.className} \`${model.name}\`, ${model.layers.length} layers, ${c.content.parameters.toLocaleString('en-US')} parameters (${c.content.weightBytes} bytes as float32).`, '');
  out.push('## Input and output', '');
  out.push(`- Input: \`${m.input.name}\` [${m.input.shape.join(', ')}] float32; preprocessing \`${JSON.stringify(m.preprocessing)}\` (the server applies it to uploaded images).`);
  out.push(`- Output: \`${m.output.name}\` (${signature.outputActivation ?? 'unknown activation'}), read as ${m.output.kind}; ${m.labels.length} labels: ${m.labels.map((l) => `\`${l}\``).join(', ')}.`, '');
  out.push('## Layers', '');
  out.push('| # | name | class | parameters |', '|---|---|---|---|');
  model.layers.forEach((layer, i) => out.push(`| ${i} | ${layer.name} | ${layer.className} | ${params.get(layer.name) ?? 0} |`));
  out.push('', 'The weights are stored as a TF.js layers model (model.json + shards), so `specserve train` can fine-tune it (base_model).', '');
  return out.join('\n');
}
