import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { tinyOnnx } from '../../test/support/onnx-files';
import { inspectOnnx } from './onnx-file';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'onnx');
const { DataType } = onnx.TensorProto;

describe('inspectOnnx: what an ONNX file declares, and what is refused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'specserve-onnx-'));
  const file = path.join(dir, 'model.onnx');

  it("reads a PyTorch export's input and output names, dims and opset", () => {
    const info = inspectOnnx(readFileSync(path.join(FIXTURES, 'mnist-cnn-pytorch.onnx')), file);
    expect(info.input).toEqual({ name: 'input', dims: [expect.any(String), 1, 28, 28], dtype: 'float32' });
    expect(info.output).toMatchObject({ name: 'probs', dtype: 'float32' });
    expect(info.output.dims.at(-1)).toBe(10);
    expect(info).toMatchObject({ externalData: false, opset: 13 });
    expect(info.producer).toMatch(/pytorch/);
  });

  it('refuses truncated and non-ONNX bytes, naming the file', () => {
    const whole = readFileSync(path.join(FIXTURES, 'mnist-cnn-pytorch.onnx'));
    expect(() => inspectOnnx(whole.subarray(0, 5000), file)).toThrow(new RegExp(`^${file}: not an ONNX model`));
    expect(() => inspectOnnx(Buffer.from('{"modelTopology": {}}'), file)).toThrow(/not an ONNX model/);
    expect(() => inspectOnnx(new Uint8Array(0), file)).toThrow(/not an ONNX model/);
  });

  it('refuses int64 and string inputs', () => {
    expect(() => inspectOnnx(tinyOnnx({ inputType: DataType.INT64 }), file)).toThrow(/input x is int64; only float32 inputs are supported/);
    expect(() => inspectOnnx(tinyOnnx({ inputType: DataType.STRING }), file)).toThrow(/input x is string/);
  });

  it('refuses custom-domain operators', () => {
    expect(() => inspectOnnx(tinyOnnx({ domain: 'com.example.magic' }), file)).toThrow(/custom operator domain 'com.example.magic' \(MagicOp\)/);
  });

  it('refuses external data outside the version folder, and accepts it inside', () => {
    expect(() => inspectOnnx(tinyOnnx({ externalLocation: '../../etc/passwd' }), file)).toThrow(/points at external data outside its version folder \(location \.\.\/\.\.\/etc\/passwd\)/);
    expect(() => inspectOnnx(tinyOnnx({ externalLocation: '/etc/passwd' }), file)).toThrow(/outside its version folder/);
    expect(() => inspectOnnx(tinyOnnx({ externalLocation: 'weights.bin' }), file)).toThrow(/external data file weights.bin cannot be read/);
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    writeFileSync(path.join(dir, 'data', 'weights.bin'), Buffer.alloc(4));
    expect(inspectOnnx(tinyOnnx({ externalLocation: 'data/weights.bin' }), file).externalData).toBe(true);
  });
});
