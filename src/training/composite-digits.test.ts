import {
  CANVAS,
  CANVAS_PIXELS,
  CELL,
  digitsOf,
  labelVector,
  makeCompositeSpecs,
  placeDigits,
  renderComposite,
  type CompositeSpec,
} from './composite-digits';
import { loadMnistSplit, type LabelledDigit } from './mnist-data';
import { mulberry32 } from './prng';

const { train, heldOut } = loadMnistSplit();
const specs = makeCompositeSpecs(train, 400, 42);

/** The source digit's value at its canvas position, quantised as renderComposite does. */
const level = (v: number) => Math.round(v * 255) / 255;

/** Canvas pixels covered by `spec`'s digits other than `skip` (where overlaps could change a pixel). */
function coveredByOthers(spec: CompositeSpec, skip: number): Set<number> {
  const covered = new Set<number>();
  spec.placements.forEach((p, j) => {
    if (j === skip) return;
    for (let r = 0; r < CELL; r++) {
      for (let c = 0; c < CELL; c++) {
        const x = p.x + c;
        const y = p.y + r;
        if (x >= 0 && y >= 0 && x < CANVAS && y < CANVAS && p.digit.pixels[r * CELL + c]! > 0) covered.add(y * CANVAS + x);
      }
    }
  });
  return covered;
}

describe('composite digits', () => {
  it('makes 1 to 3 distinct digits per image in distinct cells, every count and class occurring', () => {
    const counts = new Map<number, number>();
    const classes = new Set<number>();
    for (const spec of specs) {
      const n = spec.placements.length;
      counts.set(n, (counts.get(n) ?? 0) + 1);
      const digits = spec.placements.map((p) => p.digit.label);
      expect(new Set(digits).size).toBe(n);
      expect(new Set(spec.placements.map((p) => p.cell)).size).toBe(n);
      digits.forEach((d) => classes.add(d));
    }
    expect([...counts.keys()].sort()).toEqual([1, 2, 3]);
    for (const n of [1, 2, 3]) expect(counts.get(n)!).toBeGreaterThan(100); // ~133 each
    expect(classes.size).toBe(10);
  });

  it('gives the label vector of exactly the digits present, and their sorted list', () => {
    for (const spec of specs.slice(0, 50)) {
      const v = labelVector(spec);
      expect(v).toHaveLength(10);
      const present = spec.placements.map((p) => p.digit.label);
      for (let k = 0; k < 10; k++) expect(v[k]).toBe(present.includes(k) ? 1 : 0);
      expect(digitsOf(spec)).toEqual([...present].sort((a, b) => a - b));
    }
  });

  it('takes every pixel from the source digits: each digit at its place, black elsewhere, 8-bit levels', () => {
    // Problems are collected and compared once: an expect() per pixel is slow in Jest's VM.
    const problems: string[] = [];
    for (const [n, spec] of specs.slice(0, 60).entries()) {
      const image = renderComposite(spec);
      expect(image).toHaveLength(CANVAS_PIXELS);
      const expected = new Float32Array(CANVAS_PIXELS);
      spec.placements.forEach((p, j) => {
        const others = coveredByOthers(spec, j);
        for (let r = 0; r < CELL; r++) {
          for (let c = 0; c < CELL; c++) {
            const x = p.x + c;
            const y = p.y + r;
            const v = p.digit.pixels[r * CELL + c]!;
            if (x < 0 || y < 0 || x >= CANVAS || y >= CANVAS) {
              if (v !== 0) problems.push(`#${n}: ink of digit ${p.digit.label} off the canvas at (${x}, ${y})`);
              continue;
            }
            const i = y * CANVAS + x;
            expected[i] = Math.max(expected[i]!, level(v));
            // Where no other digit has ink, the composite holds exactly this digit's pixel.
            if (!others.has(i) && Math.abs(image[i]! - level(v)) > 1e-6) problems.push(`#${n}: (${x}, ${y}) is ${image[i]}, digit ${p.digit.label} has ${v}`);
          }
        }
      });
      // Everything, overlaps included (brighter pixel wins), and nothing outside the digits.
      for (let i = 0; i < CANVAS_PIXELS; i++) {
        if (Math.abs(image[i]! - expected[i]!) > 1e-6) problems.push(`#${n}: pixel ${i} is ${image[i]}, expected ${expected[i]}`);
        if (Math.abs(image[i]! * 255 - Math.round(image[i]! * 255)) > 1e-4) problems.push(`#${n}: pixel ${i} = ${image[i]} is not k/255`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('keeps each digit near its cell: jitter at most 3 px, ink on the canvas', () => {
    let moved = 0;
    for (const spec of specs) {
      for (const p of spec.placements) {
        const ox = (p.cell % 2) * CELL;
        const oy = Math.floor(p.cell / 2) * CELL;
        expect(Math.abs(p.x - ox)).toBeLessThanOrEqual(3);
        expect(Math.abs(p.y - oy)).toBeLessThanOrEqual(3);
        if (p.x !== ox || p.y !== oy) moved++;
      }
    }
    expect(moved).toBeGreaterThan(specs.length); // most digits are jittered
  });

  it('is reproducible: same source, count and seed, same composites; another seed, others', () => {
    const again = makeCompositeSpecs(train, 400, 42);
    expect(again.map((s) => s.placements.map((p) => [p.digit, p.cell, p.x, p.y]))).toEqual(
      specs.map((s) => s.placements.map((p) => [p.digit, p.cell, p.x, p.y])),
    );
    const other = makeCompositeSpecs(train, 400, 43);
    expect(other.map(digitsOf)).not.toEqual(specs.map(digitsOf));
  });

  it('uses only the digits it is given (held-out composites contain held-out digits only)', () => {
    const held = new Set<LabelledDigit>(heldOut);
    const trainSet = new Set<LabelledDigit>(train);
    const fromHeld = makeCompositeSpecs(heldOut, 200, 7);
    for (const spec of fromHeld) for (const p of spec.placements) expect(held.has(p.digit) && !trainSet.has(p.digit)).toBe(true);
    for (const spec of specs) for (const p of spec.placements) expect(trainSet.has(p.digit)).toBe(true);
  });

  it('re-places the same digits in fresh cells (training augmentation) and checks its options', () => {
    const digits = specs[0]!.placements.map((p) => p.digit);
    const a = placeDigits(digits, mulberry32(1), 3);
    expect(a.map((p) => p.digit)).toEqual(digits);
    expect(placeDigits(digits, mulberry32(1), 3)).toEqual(a);
    const noJitter = placeDigits(digits, mulberry32(2), 0);
    for (const p of noJitter) expect([p.x, p.y]).toEqual([(p.cell % 2) * CELL, Math.floor(p.cell / 2) * CELL]);
    expect(() => makeCompositeSpecs(train, 1, 1, { minDigits: 0, maxDigits: 3, maxJitter: 3 })).toThrow(/minDigits/);
    expect(() => makeCompositeSpecs(train, 1, 1, { minDigits: 1, maxDigits: 5, maxJitter: 3 })).toThrow(/maxDigits/);
    expect(() => makeCompositeSpecs(train.filter((d) => d.label !== 4), 1, 1)).toThrow(/class 4/);
  });
});
