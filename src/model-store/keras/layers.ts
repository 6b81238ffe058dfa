/**
 * Which Keras layer classes a Keras file may use: those TensorFlow.js 4.22 can build
 * (tfjs-layers' registered classes; a test checks each is registered), and why the others are
 * refused. docs/keras.md lists the same.
 */
export const SUPPORTED_LAYERS: readonly string[] = [
  'InputLayer',
  // core
  'Dense', 'Activation', 'Dropout', 'SpatialDropout1D', 'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'Masking', 'Embedding',
  // activations
  'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax',
  // convolution
  'Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'Conv3DTranspose', 'SeparableConv2D', 'DepthwiseConv2D',
  'Cropping2D', 'UpSampling2D', 'ZeroPadding2D',
  // pooling
  'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
  'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'GlobalAveragePooling1D', 'GlobalAveragePooling2D',
  // normalization and regularization
  'BatchNormalization', 'LayerNormalization', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
  // merging
  'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot',
  // recurrent
  'SimpleRNN', 'GRU', 'LSTM',
  // preprocessing layers TF.js has
  'Rescaling', 'CenterCrop', 'Resizing',
];

/** Keras spells some classes two ways; TF.js knows the first. */
export const LAYER_ALIASES: Readonly<Record<string, string>> = {
  MaxPool1D: 'MaxPooling1D',
  MaxPool2D: 'MaxPooling2D',
  MaxPool3D: 'MaxPooling3D',
  AvgPool1D: 'AveragePooling1D',
  AvgPool2D: 'AveragePooling2D',
  AvgPool3D: 'AveragePooling3D',
  GlobalMaxPool1D: 'GlobalMaxPooling1D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
  GlobalAvgPool1D: 'GlobalAveragePooling1D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  Convolution2D: 'Conv2D',
  Convolution1D: 'Conv1D',
};

const RANDOM_AUGMENTATION = 'a random augmentation layer: it does nothing at inference, but TF.js cannot build it; remove it from the model before saving (or apply augmentation in the data pipeline)';
const TEXT = 'a text/lookup preprocessing layer; TF.js has no such layers and this server classifies images';

/** Layers refused with a reason and what to do. */
export const REFUSED_LAYERS: Readonly<Record<string, string>> = {
  Lambda: 'runs arbitrary Python code, which cannot be read without Python; rewrite it with built-in layers, or export the model to ONNX',
  TFOpLambda: 'a raw TensorFlow operation recorded as a layer (tf.* called on a Keras tensor); rewrite it with built-in layers, or export the model to ONNX',
  SlicingOpLambda: 'a tensor slice recorded as a layer; rewrite it with built-in layers (Cropping2D, Reshape), or export the model to ONNX',
  Normalization: 'TF.js has no Normalization layer; normalize in preprocessing instead (metadata.json scale), or fold mean/variance into the first layer',
  RandomFlip: RANDOM_AUGMENTATION,
  RandomRotation: RANDOM_AUGMENTATION,
  RandomContrast: RANDOM_AUGMENTATION,
  RandomZoom: RANDOM_AUGMENTATION,
  RandomTranslation: RANDOM_AUGMENTATION,
  RandomCrop: RANDOM_AUGMENTATION,
  RandomHeight: RANDOM_AUGMENTATION,
  RandomWidth: RANDOM_AUGMENTATION,
  RandomBrightness: RANDOM_AUGMENTATION,
  MultiHeadAttention: 'TF.js has no MultiHeadAttention layer; export the model to ONNX',
  EinsumDense: 'TF.js has no EinsumDense layer; export the model to ONNX',
  TextVectorization: TEXT,
  StringLookup: TEXT,
  IntegerLookup: TEXT,
  Hashing: TEXT,
  CategoryEncoding: TEXT,
  Discretization: TEXT,
  TimeDistributed: 'a wrapper layer whose weights sit inside the wrapped layer; not read yet: export the model to ONNX',
  Bidirectional: 'a wrapper layer whose weights sit inside the wrapped layers; not read yet: export the model to ONNX',
};

/** Classes that are models themselves: a model used as a layer of another. */
export const MODEL_CLASSES: readonly string[] = ['Sequential', 'Functional', 'Model'];
