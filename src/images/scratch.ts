/**
 * Reusable working arrays for the image recipes. A recipe runs synchronously, one image at a
 * time per thread. The digit recipe allocated 23 typed arrays over 64 bytes (216 KB, four 32 KB
 * histograms among them) per 28x28 digit, counted; their backing stores live outside V8's heap,
 * so each one cost a native allocation, and freeing them kept V8's background threads busy (~15%
 * on top of the recipe's own time, measured). Each call site owns one `Scratch` and gets the same
 * memory back on every call, grown when an image needs more. The ink map works on at most 400x400
 * pixels (digit.ts, WORK_SIDE), so what a thread keeps is bounded: ~4.5 MB after the largest
 * picture (computed from the arrays in ink.ts).
 *
 * What `get` returns is valid until the same `Scratch` is asked again: never return it from the
 * recipe, and never use one `Scratch` for two arrays that are alive at the same time.
 */
interface TypedArrayClass<T> {
  new (length: number): T;
}

export class Scratch<T extends Float64Array | Float32Array | Int32Array | Uint8Array> {
  private buffer: T;

  constructor(private readonly Type: TypedArrayClass<T>) {
    this.buffer = new Type(0);
  }

  /** `length` elements, their contents left over from the last use. */
  get(length: number): T {
    if (this.buffer.length < length) this.buffer = new this.Type(length);
    return this.buffer.subarray(0, length) as T;
  }

  /** `length` elements, all zero. */
  zeroed(length: number): T {
    const view = this.get(length);
    view.fill(0);
    return view;
  }
}
