import * as tf from '@tensorflow/tfjs';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelConfig,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs';

/**
 * Training kernels for 2-D convolutions on the 'wasm' backend.
 *
 * @tensorflow/tfjs-backend-wasm 4.x has no `Conv2DBackpropFilter` at all (so `model.fit` of any
 * Conv2D model fails), and its `Conv2DBackpropInput` is a naive loop. The cpu backend has both but
 * trains at > 1 s per image. Both gradients can be expressed with ops that wasm runs fast through
 * XNNPACK (slice/concat, matMul, conv2d), which is what this module registers.
 *
 * Nested ops inside a kernel are safe: the engine records the gradient tape only at kernel depth 0,
 * and the tf.tidy below disposes every intermediate except the returned tensor.
 */

const BACKEND = 'wasm';

type Pair = [number, number];

function pair(v: number | Pair): Pair {
  return typeof v === 'number' ? [v, v] : v;
}

function asTensor4D(info: TensorInfo | undefined, kernel: string): tf.Tensor4D {
  if (!info) throw new Error(`${kernel}: missing input`);
  // Inputs normally are Tensors already; wrapping a bare TensorInfo adds a reference that the
  // surrounding tidy releases again.
  const t = info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
  return t as tf.Tensor4D;
}

function checkSupported(kernel: string, dataFormat: string): void {
  if (dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm (specserve): only NHWC is supported, got ${dataFormat}`);
  }
}

/** Pads (positive) or crops (negative) rows/columns on each side of an NHWC tensor. */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const pad: [number, number][] = [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]];
  let out = pad.some(([a, b]) => a > 0 || b > 0) ? tf.pad(t, pad) : t;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = out.shape;
    const t0 = Math.max(-top, 0);
    const l0 = Math.max(-left, 0);
    out = tf.slice(out, [0, t0, l0, 0], [n, h - t0 - Math.max(-bottom, 0), w - l0 - Math.max(-right, 0), c]);
  }
  return out;
}

/**
 * dW[fh, fw, c, oc] = sum over n, oh, ow of xPadded[n, oh*s + fh, ow*s + fw, c] * dy[n, oh, ow, oc].
 *
 * im2col, built directly in [K, M] layout (K = fh*fw*c, M = n*oh*ow): the padded input is moved to
 * [c, n, h, w] once, each filter tap is one (strided) slice [c, n, oh, ow] of it, and the taps are
 * concatenated on axis 0, i.e. in (fh, fw, c) order = the filter's memory order. Then one plain
 * matMul [K, M] x [M, oc]. (Building [M, K] and using matMul's transposeA is ~8x slower on wasm.)
 */
function conv2DBackpropFilter(args: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap }): TensorInfo {
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  checkSupported('Conv2DBackpropFilter', attrs.dataFormat);
  return tf.tidy(() => {
    const x = asTensor4D(args.inputs.x, 'Conv2DBackpropFilter');
    const dy = asTensor4D(args.inputs.dy, 'Conv2DBackpropFilter');
    const [fh, fw, inC, outC] = attrs.filterShape;
    const [sh, sw] = pair(attrs.strides);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
    );
    const { top, left } = info.padInfo;
    const [n, oh, ow] = dy.shape;
    // Pad so that every tap's window lies inside; surplus bottom/right rows are cropped.
    const needH = (oh - 1) * sh + fh;
    const needW = (ow - 1) * sw + fw;
    const xp = padOrCrop(x, top, needH - x.shape[1] - top, left, needW - x.shape[2] - left);
    const xt = tf.transpose(xp, [3, 0, 1, 2]); // [c, n, h, w]
    const cols: tf.Tensor[] = [];
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        cols.push(
          sh === 1 && sw === 1
            ? tf.slice(xt, [0, 0, i, j], [inC, n, oh, ow])
            : tf.stridedSlice(xt, [0, 0, i, j], [inC, n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1], [1, 1, sh, sw]),
        );
      }
    }
    const patches = (cols.length === 1 ? cols[0] : tf.concat(cols, 0)).reshape([fh * fw * inC, n * oh * ow]);
    const dw = tf.matMul(patches, dy.reshape([n * oh * ow, outC]));
    return dw.reshape([fh, fw, inC, outC]);
  });
}

/**
 * dx = a stride-1 'valid' conv2d of dy (padded by filter-1-pad on the leading sides) with the
 * filter flipped spatially and its in/out channels swapped. Strides > 1 are reduced to stride 1
 * by spreading dy out with zeros between its rows/columns (correct, somewhat slower).
 */
function conv2DBackpropInput(args: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap }): TensorInfo {
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  checkSupported('Conv2DBackpropInput', attrs.dataFormat);
  return tf.tidy(() => {
    let dy = asTensor4D(args.inputs.dy, 'Conv2DBackpropInput');
    const filter = asTensor4D(args.inputs.filter, 'Conv2DBackpropInput');
    const [fh, fw, inC, outC] = filter.shape;
    const [sh, sw] = pair(attrs.strides);
    const [n, h, w] = attrs.inputShape;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape, [fh, fw, inC, outC], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
    );
    const { top, left } = info.padInfo;
    if (sh > 1 || sw > 1) {
      const [, oh, ow] = dy.shape;
      // [n, oh, ow, c] -> [n, oh, 1, ow, 1, c] -> zero-fill to [n, oh, sh, ow, sw, c] -> crop.
      dy = tf
        .pad(dy.reshape([n, oh, 1, ow, 1, outC]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]])
        .reshape([n, oh * sh, ow * sw, outC])
        .slice([0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, outC]) as tf.Tensor4D;
    }
    const [, oh1, ow1] = dy.shape;
    // After padding, rows h .. h + fh - 1 of dyPadded feed dx row h (see derivation above).
    const padTop = fh - 1 - top;
    const padLeft = fw - 1 - left;
    const dyp = padOrCrop(dy, padTop, h + fh - 1 - oh1 - padTop, padLeft, w + fw - 1 - ow1 - padLeft);
    // [fh, fw, inC, outC] -> flip fh, fw -> [fh, fw, outC, inC]
    const flipped = tf.reverse(filter, [0, 1]).transpose([0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dyp, flipped, 1, 'valid');
  });
}

const configs: KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2DBackpropFilter },
  { kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2DBackpropInput },
];

/**
 * Registers the two kernels for the 'wasm' backend, replacing wasm's own Conv2DBackpropInput.
 * Idempotent: a second call (or a call after another copy of this module registered them) is a
 * no-op apart from re-pointing at this module's functions. Does not select or initialise a backend.
 */
export function registerWasmConvGradients(): void {
  for (const config of configs) {
    const existing = tf.getKernel(config.kernelName, BACKEND);
    if (existing?.kernelFunc === config.kernelFunc) continue;
    // registerKernel would only warn and overwrite; unregistering first keeps the log clean.
    if (existing) tf.unregisterKernel(config.kernelName, BACKEND);
    tf.registerKernel(config);
  }
}
