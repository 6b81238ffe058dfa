import { realpathSync } from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';

/** A tensor's dims as the graph declares them: a number, a named free axis, or unknown (null). */
export type GraphDim = number | string | null;

/** What the server needs to know about an ONNX file's interface, read from the graph. */
export interface OnnxGraphInfo {
  input: { name: string; dims: GraphDim[]; dtype: 'float32' };
  output: { name: string; dims: GraphDim[]; dtype: 'float32' };
  /** True when some tensors are stored in files beside model.onnx (ONNX external data). */
  externalData: boolean;
  producer: string;
  opset: number;
}

/** Operator domains ONNX Runtime implements itself; anything else needs a custom-op library. */
const STANDARD_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml']);

const DTYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(onnx.TensorProto.DataType)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k.toLowerCase()]),
);

function dims(type: onnx.ITypeProto | null | undefined): GraphDim[] {
  return (type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || null));
}

/**
 * Reads an ONNX file that may come from anywhere (a `source:` URL, a user's drop) and refuses
 * what this server will not run: bytes that are not an ONNX model, operators from custom domains
 * (they need native libraries), tensors whose external data lies outside the version folder
 * (`location: ../../etc/passwd`), and inputs or outputs that are not float32. Errors name the
 * file and the reason.
 */
export function inspectOnnx(bytes: Uint8Array, file: string): OnnxGraphInfo {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${file}: not an ONNX model (${(e as Error).message})`);
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0 || (graph.output ?? []).length === 0) throw new Error(`${file}: not an ONNX model (no graph with nodes and outputs)`);
  const dir = path.dirname(file);
  let externalData = false;

  const checkTensor = (t: onnx.ITensorProto): void => {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return;
    externalData = true;
    const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
    if (!location) throw new Error(`${file}: tensor ${t.name ?? ''} is stored externally without a location`);
    const target = path.resolve(dir, location);
    const inside = (p: string, root: string): boolean => {
      const rel = path.relative(root, p);
      return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    };
    if (path.isAbsolute(location) || !inside(target, dir)) throw new Error(`${file}: tensor ${t.name ?? ''} points at external data outside its version folder (location ${location})`);
    let real: string;
    try {
      real = realpathSync(target);
    } catch {
      throw new Error(`${file}: tensor ${t.name ?? ''}: its external data file ${location} cannot be read`);
    }
    if (!inside(real, realpathSync(dir))) throw new Error(`${file}: tensor ${t.name ?? ''}: external data ${location} links outside its version folder`);
  };
  const checkGraph = (g: onnx.IGraphProto): void => {
    for (const t of g.initializer ?? []) checkTensor(t);
    for (const node of g.node ?? []) {
      if (!STANDARD_DOMAINS.has(node.domain ?? '')) throw new Error(`${file}: node ${node.name || node.opType} uses the custom operator domain '${node.domain}' (${node.opType}); only standard ONNX operators run here`);
      for (const a of node.attribute ?? []) {
        if (a.t) checkTensor(a.t);
        for (const t of a.tensors ?? []) checkTensor(t);
        if (a.g) checkGraph(a.g);
        for (const sub of a.graphs ?? []) checkGraph(sub);
      }
    }
  };
  checkGraph(graph);
  for (const f of model.functions ?? []) throw new Error(`${file}: defines the function ${f.domain ?? ''}.${f.name ?? ''}; model-local functions (custom operators) are not run here`);
  const customOpset = (model.opsetImport ?? []).find((o) => !STANDARD_DOMAINS.has(o.domain ?? ''));
  if (customOpset) throw new Error(`${file}: imports the custom operator domain '${customOpset.domain}'; only standard ONNX operators run here`);

  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) throw new Error(`${file}: the graph has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); one image input is supported`);
  const describe = (v: onnx.IValueInfoProto, role: string) => {
    const elem = v.type?.tensorType?.elemType ?? 0;
    if (elem !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${file}: ${role} ${v.name} is ${DTYPE_NAMES[elem] ?? `type ${elem}`}; only float32 ${role}s are supported`);
    return { name: v.name ?? '', dims: dims(v.type), dtype: 'float32' as const };
  };
  const opset = Number((model.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx')?.version ?? 0);
  return { input: describe(inputs[0]!, 'input'), output: describe(graph.output![0]!, 'output'), externalData, producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(), opset };
}
