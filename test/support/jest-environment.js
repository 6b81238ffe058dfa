// Jest's node environment with the typed array constructors of the process, not of the test's
// sandbox (jest already does this for Uint8Array and ArrayBuffer). onnxruntime-node's native
// binding returns output tensors as the process's Float32Array, and onnxruntime-common, loaded
// inside the sandbox, rejects them as "not a Float32Array" otherwise. Plain JS: jest loads it as is.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = ['Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint16Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
