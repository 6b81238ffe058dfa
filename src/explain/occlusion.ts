/**
 * Occlusion sensitivity (Zeiler & Fergus, 2014): slide a square patch over a model's prepared
 * input, replace what it covers with the input's own mean (per channel), and record how much the
 * score of the class the model chose drops for each position. Where the drop is large, the model
 * was looking. Pure arithmetic on Float32Arrays: the caller runs the copies through the model.
 */

/** An input tensor without its batch axis: height x width x channels (channels last). */
export interface InputGeometry {
  height: number;
  width: number;
  channels: number;
}

/** Where the patch goes: `rows` x `cols` positions, `stride` apart, each `patch` pixels square. */
export interface OcclusionPlan extends InputGeometry {
  patch: number;
  stride: number;
  rows: number;
  cols: number;
}

/** An image input's geometry from its shape ([h, w] or [h, w, c]); undefined for other shapes. */
export function imageGeometry(shape: readonly number[]): InputGeometry | undefined {
  if (shape.length === 2) return { height: shape[0]!, width: shape[1]!, channels: 1 };
  if (shape.length === 3) return { height: shape[0]!, width: shape[1]!, channels: shape[2]! };
  return undefined;
}

/**
 * The default patch covers about a seventh of the shorter side (4 px of a 28x28 digit, 32 px of
 * a 224x224 photo) and moves half a patch at a time: 13 x 13 = 169 positions for both.
 */
export function defaultPatch({ height, width }: InputGeometry): number {
  return Math.max(1, Math.round(Math.min(height, width) / 7));
}

/** Positions along one side: the patch starts at 0, stride, ... and the last one ends at the edge. */
function positions(side: number, patch: number, stride: number): number {
  return Math.floor((side - patch) / stride) + 1 + ((side - patch) % stride === 0 ? 0 : 1);
}

/** The plan for a patch and stride (the caller checks both fit the input). */
export function occlusionPlan(geometry: InputGeometry, patch: number, stride: number): OcclusionPlan {
  return { ...geometry, patch, stride, rows: positions(geometry.height, patch, stride), cols: positions(geometry.width, patch, stride) };
}

/** The top-left corner of position (row, col); the last one is pulled back to end at the edge. */
function origin(plan: OcclusionPlan, row: number, col: number): { y: number; x: number } {
  return { y: Math.min(row * plan.stride, plan.height - plan.patch), x: Math.min(col * plan.stride, plan.width - plan.patch) };
}

function channelMeans(input: Float32Array, channels: number): Float32Array {
  const means = new Float32Array(channels);
  for (let i = 0; i < input.length; i++) means[i % channels]! += input[i]!;
  const pixels = input.length / channels;
  for (let c = 0; c < channels; c++) means[c]! /= pixels;
  return means;
}

/** One occluded copy of the input per position, row by row. */
export function occludedCopies(input: Float32Array, plan: OcclusionPlan): Float32Array[] {
  const { width, channels, patch } = plan;
  const fill = channelMeans(input, channels);
  const copies: Float32Array[] = [];
  for (let row = 0; row < plan.rows; row++) {
    for (let col = 0; col < plan.cols; col++) {
      const copy = input.slice();
      const { y, x } = origin(plan, row, col);
      for (let dy = 0; dy < patch; dy++) {
        const start = ((y + dy) * width + x) * channels;
        for (let i = 0; i < patch * channels; i++) copy[start + i] = fill[i % channels]!;
      }
      copies.push(copy);
    }
  }
  return copies;
}

/**
 * The sensitivity grid, rows x cols: the drop of the explained class's score at each position
 * (base score minus the occluded copy's score; negative where hiding a region made it likelier).
 */
export function sensitivityGrid(baseScore: number, occludedScores: readonly number[], plan: OcclusionPlan): number[][] {
  return Array.from({ length: plan.rows }, (_, row) => Array.from({ length: plan.cols }, (_, col) => baseScore - occludedScores[row * plan.cols + col]!));
}

/**
 * The grid brought back to the input's pixels: each pixel gets the mean drop of every position
 * whose patch covers it (what the heatmap shows, and what "highest on the strokes" is measured on).
 */
export function pixelSensitivity(grid: readonly (readonly number[])[], plan: OcclusionPlan): Float32Array {
  const sum = new Float32Array(plan.height * plan.width);
  const count = new Uint16Array(plan.height * plan.width);
  for (let row = 0; row < plan.rows; row++) {
    for (let col = 0; col < plan.cols; col++) {
      const { y, x } = origin(plan, row, col);
      const drop = grid[row]![col]!;
      for (let dy = 0; dy < plan.patch; dy++) {
        for (let dx = 0; dx < plan.patch; dx++) {
          const i = (y + dy) * plan.width + x + dx;
          sum[i]! += drop;
          count[i]!++;
        }
      }
    }
  }
  return sum.map((s, i) => (count[i]! > 0 ? s / count[i]! : 0));
}
