/**
 * Minimal ONNX graph builder on top of `onnx-proto` (protobufjs 6 generated types).
 *
 * Only what the MLP trainer needs: nodes with int/float/ints/tensor attributes, float32/float64
 * initializers stored as raw little-endian data, graph inputs/outputs with static or symbolic dims,
 * and metadata_props.
 */
import onnxPkg from 'onnx-proto';

const { onnx } = onnxPkg;

export type DType = 'float' | 'double';
export type ElemType = DType | 'bool' | 'int64' | 'int32';

const ELEM: Record<ElemType, number> = { float: 1, double: 11, bool: 9, int64: 7, int32: 6 };

/** A dimension: a number is static, a string is a symbolic (dynamic) dimension. */
export type Dim = number | string;

export type AttrValue = number | number[] | { float: number } | { tensor: onnxPkg.onnx.ITensorProto } | string;

export const OPSET = 17;

export class GraphBuilder {
  readonly nodes: onnxPkg.onnx.INodeProto[] = [];
  readonly initializers: onnxPkg.onnx.ITensorProto[] = [];
  readonly inputs: onnxPkg.onnx.IValueInfoProto[] = [];
  readonly outputs: onnxPkg.onnx.IValueInfoProto[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();

  constructor(readonly dtype: DType = 'float') {}

  /** A fresh unique value name. */
  tmp(prefix = 't'): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, dims: Dim[], elem: ElemType = this.dtype): string {
    this.inputs.push(valueInfo(name, dims, elem));
    return name;
  }

  output(name: string, dims: Dim[], elem: ElemType = this.dtype): string {
    this.outputs.push(valueInfo(name, dims, elem));
    return name;
  }

  /** Adds a node; returns its output names. `outputs` may be a count (fresh names) or explicit names. */
  node(op: string, inputs: string[], outputs: number | string[] = 1, attrs: Record<string, AttrValue> = {}): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.tmp(op.toLowerCase())) : outputs;
    const attribute: onnxPkg.onnx.IAttributeProto[] = [];
    for (const [name, v] of Object.entries(attrs)) attribute.push(attr(name, v));
    this.nodes.push({ opType: op, input: inputs, output: outs, name: `${op}_${this.nodes.length}`, attribute });
    return outs;
  }

  /** Single-output node helper. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    return this.node(op, inputs, out === undefined ? 1 : [out], attrs)[0];
  }

  /** Initializer with raw data (float/double from numbers, int64, bool). */
  initializer(name: string, dims: number[], data: ArrayLike<number> | bigint[], elem: ElemType = this.dtype): string {
    this.initializers.push(tensorProto(name, dims, data, elem));
    return name;
  }

  /** Float32 initializer that takes `data`'s buffer as its raw data, without a copy: `data` must own its whole buffer and not change after. */
  initializerOwned(name: string, dims: number[], data: Float32Array): string {
    if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) throw new Error(`initializer ${name}: the array must own its whole buffer`);
    this.initializers.push({ name, dims, dataType: ELEM.float, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** Cached scalar (rank 0) constant of the graph dtype (or another elem type). */
  scalar(v: number, elem: ElemType = this.dtype): string {
    return this.constant([v], [], elem);
  }

  /** Cached constant initializer. */
  constant(values: number[], dims: number[], elem: ElemType = this.dtype): string {
    const key = `${elem}:${dims.join('x')}:${values.join(',')}`;
    let name = this.constCache.get(key);
    if (name === undefined) {
      name = this.tmp('const');
      this.initializer(name, dims, elem === 'int64' ? values.map((x) => BigInt(x)) : values, elem);
      this.constCache.set(key, name);
    }
    return name;
  }

  toModel(metadata: Record<string, string> = {}, graphName = 'graph'): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'poselift',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: Dim[], elem: ElemType): onnxPkg.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function tensorProto(name: string, dims: number[], data: ArrayLike<number> | bigint[], elem: ElemType): onnxPkg.onnx.ITensorProto {
  let raw: Uint8Array;
  const n = data.length;
  if (elem === 'float') {
    const a = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    raw = new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  } else if (elem === 'double') {
    const a = data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>);
    raw = new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  } else if (elem === 'int32') {
    raw = new Uint8Array(Int32Array.from(data as ArrayLike<number>).buffer);
  } else if (elem === 'int64') {
    const a = new BigInt64Array(n);
    for (let i = 0; i < n; i++) a[i] = BigInt((data as ArrayLike<number | bigint>)[i]);
    raw = new Uint8Array(a.buffer);
  } else {
    raw = new Uint8Array(n);
    for (let i = 0; i < n; i++) raw[i] = (data as ArrayLike<number>)[i] ? 1 : 0;
  }
  return { name, dims, dataType: ELEM[elem], rawData: raw };
}

function attr(name: string, v: AttrValue): onnxPkg.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use {float: x} for float attributes`);
    return { name, type: T.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.TENSOR, t: v.tensor };
}

/** Reads metadata_props from serialized ONNX model bytes (throws if the bytes are not a model). */
export function decodeModel(bytes: Uint8Array): onnxPkg.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
