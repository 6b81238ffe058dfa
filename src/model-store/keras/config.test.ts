import * as tf from '@tensorflow/tfjs';
import { parseModelConfig, refusals, signatureOf, toTfjsTopology } from './config';
import { LAYER_ALIASES, REFUSED_LAYERS, SUPPORTED_LAYERS } from './layers';

describe('the layer lists (docs/keras.md lists the same)', () => {
  const registered = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);

  it('every supported layer and alias target is a class TF.js can build', () => {
    expect(SUPPORTED_LAYERS.filter((c) => !registered.includes(c))).toEqual([]);
    expect(Object.values(LAYER_ALIASES).filter((c) => !SUPPORTED_LAYERS.includes(c))).toEqual([]);
  });

  it('no layer is both supported and refused', () => {
    expect(SUPPORTED_LAYERS.filter((c) => c in REFUSED_LAYERS)).toEqual([]);
  });
});

/** A small Keras 3 Functional config: img -> Dense(L2) -> Add(dense, dense) -> Softmax. */
const KERAS3_FUNCTIONAL = {
  module: 'keras.src.models.functional',
  class_name: 'Functional',
  config: {
    name: 'f',
    layers: [
      { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4, 4, 1], dtype: 'float32', name: 'img', optional: false }, name: 'img', inbound_nodes: [] },
      { class_name: 'Flatten', config: { name: 'flat', dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' } } }, name: 'flat', inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['img', 0, 0] } }], kwargs: {} }] },
      {
        class_name: 'Dense',
        config: { name: 'd', units: 3, activation: 'linear', kernel_regularizer: { module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.001 }, registered_name: null } },
        build_config: { input_shape: [null, 16] },
        name: 'd',
        inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['flat', 0, 0] } }], kwargs: {} }],
      },
      {
        class_name: 'Add',
        config: { name: 'sum' },
        name: 'sum',
        inbound_nodes: [{ args: [[{ class_name: '__keras_tensor__', config: { keras_history: ['d', 0, 0] } }, { class_name: '__keras_tensor__', config: { keras_history: ['d', 0, 0] } }]], kwargs: {} }],
      },
      { class_name: 'Softmax', config: { name: 'probs' }, name: 'probs', inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['sum', 0, 0] } }], kwargs: {} }] },
    ],
    input_layers: ['img', 0, 0],
    output_layers: ['probs', 0, 0],
  },
};

describe('Keras 3 -> TF.js config translation', () => {
  it('translates inbound nodes, input/output refs, batch_shape and L2, and TF.js builds it', async () => {
    const model = parseModelConfig(KERAS3_FUNCTIONAL);
    expect(refusals(model)).toEqual([]);
    const topology = toTfjsTopology(model, '3.15.1');
    const layers = (topology.config as { layers: Array<Record<string, unknown>> }).layers;
    expect(layers[0]!.config).toMatchObject({ batch_input_shape: [null, 4, 4, 1] });
    expect(layers[3]!.inbound_nodes).toEqual([[['d', 0, 0, {}], ['d', 0, 0, {}]]]);
    expect((layers[2]!.config as Record<string, unknown>).kernel_regularizer).toEqual({ class_name: 'L1L2', config: { l1: 0, l2: 0.001 } });
    expect(topology.config).toMatchObject({ input_layers: [['img', 0, 0]], output_layers: [['probs', 0, 0]] });
    const built = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
    expect(built.outputs[0]!.shape).toEqual([null, 3]);
    built.dispose();
  });

  it('reads the signature: input name and shape, output units through a Softmax layer', () => {
    expect(signatureOf(parseModelConfig(KERAS3_FUNCTIONAL))).toEqual({ inputName: 'img', inputShape: [4, 4, 1], outputName: 'probs', outputUnits: 3, outputActivation: 'softmax' });
  });
});
