// top1.js runs an ONNX model with ONNX Runtime (onnxruntime-node) on a
// stack of inputs and writes the top-1 class of each.
//
//   node top1.js MODEL.onnx INPUTS.npy OUT.json [--opt all|disabled] [--threads N] [--outputs RAW.f32] [--optimized OPT.onnx]
//
// INPUTS.npy is a little-endian float32 array [N, ...] whose trailing
// dimensions hold exactly one input of the model's only input (batch 1);
// every sample is run on its own. OUT.json gets
//   {"top1": [...], "opt": "all", "provider": "cpu", "ms_total": ...}
// --opt all (the default) lets ONNX Runtime fuse QuantizeLinear /
// DequantizeLinear groups into its int8 kernels (QLinearConv, QGemm …);
// --opt disabled runs every QuantizeLinear and DequantizeLinear as written
// (float arithmetic on quantised values, no fusion). --outputs also writes
// every sample's first output, concatenated, as raw little-endian float32.
// --optimized writes the graph ONNX Runtime runs after its optimisations
// (to check which QDQ groups it fused into int8 kernels).
'use strict';

const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.readUInt32BE(0) !== 0x934e554d || buf.toString('latin1', 4, 6) !== 'PY') {
    throw new Error(`${path}: not a .npy file`);
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12);
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || descr[1] !== '<f4' || /'fortran_order':\s*True/.test(header) || !shape) {
    throw new Error(`${path}: want a C-order little-endian float32 array, header ${header.trim()}`);
  }
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const off = start + hlen;
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 4 * n));
  return { dims, data };
}

function argmax(a) {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

async function main() {
  const args = process.argv.slice(2);
  let opt = 'all';
  let threads = 1;
  let rawOut = '';
  let optimized = '';
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--opt') opt = args[++i];
    else if (args[i] === '--threads') threads = Number(args[++i]);
    else if (args[i] === '--outputs') rawOut = args[++i];
    else if (args[i] === '--optimized') optimized = args[++i];
    else pos.push(args[i]);
  }
  if (pos.length !== 3 || !['all', 'disabled', 'basic', 'extended'].includes(opt) || !(threads >= 1)) {
    console.error('usage: node top1.js MODEL.onnx INPUTS.npy OUT.json [--opt all|disabled] [--threads N] [--outputs RAW.f32] [--optimized OPT.onnx]');
    process.exit(2);
  }
  const [model, inputs, out] = pos;
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: opt,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3, // no warning about hardware-specific optimised models
  };
  if (optimized) options.optimizedModelFilePath = optimized;
  const session = await ort.InferenceSession.create(model, options);
  if (session.inputNames.length !== 1) throw new Error(`${model}: ${session.inputNames.length} inputs, want 1`);
  const x = readNpy(inputs);
  const count = x.dims[0];
  const sample = x.data.length / count;
  const inDims = x.dims.slice(1);
  inDims.unshift(1);
  const top1 = [];
  const raws = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t = new ort.Tensor('float32', x.data.subarray(i * sample, (i + 1) * sample), inDims);
    const res = await session.run({ [session.inputNames[0]]: t });
    const y = res[session.outputNames[0]].data;
    top1.push(argmax(y));
    if (rawOut) raws.push(Buffer.from(Float32Array.from(y).buffer));
  }
  if (rawOut) fs.writeFileSync(rawOut, Buffer.concat(raws));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.writeFileSync(out, JSON.stringify({ top1, opt, provider: 'cpu', ms_total: ms, ort_version: require('onnxruntime-node/package.json').version }));
}

main().catch((e) => {
  console.error(`top1.js: ${e.message || e}`);
  process.exit(1);
});
