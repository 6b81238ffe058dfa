/**
 * The names that make a folder a model version, on their own: the main thread watches and lists
 * the store with them, and must not load TensorFlow.js (16 MB of its heap) to know them.
 */

/** The model file of each format, as it must be named in a version folder. */
export const MODEL_FILES = { 'tfjs-layers': 'model.json', onnx: 'model.onnx' } as const;

/** The Keras file names a version folder may hold, in the order they are looked for. */
export const KERAS_MODEL_FILES = ['model.keras', 'model.h5'] as const;

/** Every file that can make a version folder a model: TF.js, ONNX, then the Keras files read directly. */
export const MODEL_FILE_NAMES: readonly string[] = [MODEL_FILES['tfjs-layers'], MODEL_FILES.onnx, ...KERAS_MODEL_FILES];
