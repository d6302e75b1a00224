// ort.js: latency of edgeinfer against ONNX Runtime (onnxruntime-node, CPU
// execution provider) on the same ONNX files, single image, float32.
//
//   node ort.js --edgeinfer ../bin/edgeinfer \
//     --models mobilenet_v2=PATH,resnet18=PATH,resnet50=PATH[,NAME=ORT_PATH@EDGEINFER_PATH] \
//     [--threads 1,2] [--runs 20] [--rounds 4] [--warmup 3] [--json OUT]
//
// NAME=ORT_PATH@EDGEINFER_PATH gives each engine its own file of the same
// network: the int8 rows pair ONNX Runtime on a QDQ export with edgeinfer
// on the int8 model that `quantize --emit-qdq` wrote it from, so both run
// the same quantisation (the Makefile's bench-ort builds them).
//
// For every model and thread count, the two engines alternate in --rounds
// blocks of runs/rounds timed inferences each (ORT block, then edgeinfer
// block), and each round runs every model's blocks in turn, so slow drifts
// of a shared machine hit both engines and all models alike; each engine's
// figure is the median of all its runs. An int8 row named NAME_…int8…
// also gets its speed-up over the float row NAME (both engines). ORT runs in this process with
// intraOpNumThreads = threads, interOpNumThreads = 1, sequential execution
// and all graph optimisations; edgeinfer runs as
// `edgeinfer bench --model PATH --threads N --runs K --json` and its per-run
// latencies are pooled. The ratio column is edgeinfer / ORT (below 1:
// edgeinfer is faster). The cpu columns are the median process CPU time per
// inference (user + system, all threads; process.cpuUsage for ORT,
// getrusage in edgeinfer bench): on a loaded machine wall time measures the
// scheduler, CPU time much less so (at 1 thread it is the latency an idle
// core would give, less cache interference).
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const o = { threads: '1,2', runs: '20', rounds: '4', warmup: '3', edgeinfer: '../bin/edgeinfer', models: '' };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in o || m[1] === 'json')) throw new Error(`unknown argument ${argv[i]}`);
    o[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  return o;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// inputShape reads meta.json beside the model (the fixtures' format), then
// falls back to the session's metadata, then to 1×3×224×224.
function inputShape(modelPath, session) {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(path.dirname(modelPath), 'meta.json'), 'utf8'));
    if (Array.isArray(meta.input_shape)) return meta.input_shape;
  } catch (e) { /* no meta.json */ }
  const md = session.inputMetadata && session.inputMetadata[0];
  if (md && Array.isArray(md.shape) && md.shape.every((d) => typeof d === 'number' && d > 0)) return md.shape;
  return [1, 3, 224, 224];
}

async function ortSession(modelPath, threads) {
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const shape = inputShape(modelPath, session);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (i % 255) / 255; // the pattern of BenchmarkZoo
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  return { session, feeds };
}

// ortRuns times n inferences: wall ms and process CPU ms (user + system,
// every ORT thread included) per run.
async function ortRuns(s, n) {
  const wall = [], cpu = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await s.session.run(s.feeds);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  return { wall, cpu };
}

function edgeinferRuns(bin, modelPath, threads, n, warmup) {
  const r = spawnSync(bin, ['bench', '--model', modelPath, '--threads', String(threads), '--runs', String(n),
    '--warmup', String(warmup), '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${bin} bench ${modelPath}: ${r.error || r.stderr}`);
  return JSON.parse(r.stdout);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const threads = o.threads.split(',').map(Number);
  const runs = Number(o.runs), rounds = Math.max(1, Number(o.rounds)), warmup = Number(o.warmup);
  const per = Math.ceil(runs / rounds);
  const models = o.models.split(',').filter(Boolean).map((kv) => {
    const [name, p] = kv.split('=');
    const [ortPath, eiPath] = p.split('@');
    return { name, path: ortPath, eiPath: eiPath || ortPath };
  });
  if (!models.length) throw new Error('--models name=path,... is required');
  // Every (model, threads) row runs one ORT block and one edgeinfer block
  // per round, rows interleaved within the round, so that a shared
  // machine's slow spells fall on all rows alike and the ratios between
  // rows (the int8 speed-up) are measured in one run too.
  const jobs = [];
  for (const m of models) {
    const missing = [m.path, m.eiPath].find((p) => !fs.existsSync(p));
    if (missing) {
      console.error(`skip ${m.name}: ${missing} not found`);
      continue;
    }
    for (const t of threads) {
      const s = await ortSession(m.path, t);
      await ortRuns(s, warmup);
      jobs.push({ m, t, s, ortMs: [], eiMs: [], ortCPU: [], eiCPU: [], eiRound: [], kernels: '' });
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const j of jobs) {
      const or = await ortRuns(j.s, per);
      j.ortMs.push(...or.wall);
      j.ortCPU.push(...or.cpu);
      const e = edgeinferRuns(o.edgeinfer, j.m.eiPath, j.t, per, r === 0 ? warmup : 1);
      j.kernels = e.kernels;
      j.eiMs.push(...e.runs_ms);
      j.eiCPU.push(...(e.cpu_ms || []));
      j.eiRound.push(median(e.runs_ms));
    }
  }
  const rows = [];
  for (const j of jobs) {
    await j.s.session.release();
    const row = { model: j.m.name, threads: j.t, kernels: j.kernels, runs: j.eiMs.length,
      edgeinfer_ms: median(j.eiMs), ort_ms: median(j.ortMs),
      edgeinfer_cpu_ms: j.eiCPU.length ? median(j.eiCPU) : NaN, ort_cpu_ms: median(j.ortCPU),
      edgeinfer_round_ms: j.eiRound };
    row.ratio = row.edgeinfer_ms / row.ort_ms;
    row.cpu_ratio = row.edgeinfer_cpu_ms / row.ort_cpu_ms;
    rows.push(row);
    console.error(`${row.model} threads=${row.threads}: edgeinfer ${row.edgeinfer_ms.toFixed(2)} ms, ORT ${row.ort_ms.toFixed(2)} ms`);
  }
  const pad = (v, n) => String(v).padStart(n);
  console.log(`ONNX Runtime ${ort.env.versions ? ort.env.versions.node : ''} (CPU EP) vs edgeinfer; median of ${runs}+ runs per engine, alternating in ${rounds} rounds`);
  console.log('wall: median latency; cpu: median process CPU time per inference (all threads), which other load on a shared machine distorts least');
  console.log(`${'model'.padEnd(14)} ${pad('threads', 7)} ${pad('kernels', 8)} ${pad('edgeinfer ms', 12)} ${pad('ORT ms', 9)} ${pad('edgeinfer/ORT', 13)} ${pad('edgeinfer cpu', 13)} ${pad('ORT cpu', 9)} ${pad('cpu ratio', 9)}`);
  for (const r of rows) {
    console.log(`${r.model.padEnd(14)} ${pad(r.threads, 7)} ${pad(r.kernels, 8)} ${pad(r.edgeinfer_ms.toFixed(2), 12)} ${pad(r.ort_ms.toFixed(2), 9)} ${pad(r.ratio.toFixed(2), 13)} ${pad(r.edgeinfer_cpu_ms.toFixed(2), 13)} ${pad(r.ort_cpu_ms.toFixed(2), 9)} ${pad(r.cpu_ratio.toFixed(2), 9)}`);
  }
  // int8 speed-up over float: a row NAME_…int8… against the row NAME at the
  // same thread count (median wall ms of each engine; for edgeinfer also the
  // median over rounds of the float / int8 ratio of the blocks one round
  // ran a few seconds apart).
  const speedups = [];
  for (const q of rows) {
    const f = rows.find((r) => r !== q && r.threads === q.threads && q.model.startsWith(r.model + '_') && q.model.includes('int8'));
    if (!f) continue;
    const perRound = f.edgeinfer_round_ms.map((v, i) => v / q.edgeinfer_round_ms[i]);
    speedups.push({ int8: q.model, float: f.model, threads: q.threads, edgeinfer: f.edgeinfer_ms / q.edgeinfer_ms,
      edgeinfer_rounds: median(perRound), ort: f.ort_ms / q.ort_ms });
  }
  if (speedups.length) {
    console.log('int8 speed-up over float (float ms / int8 ms, same run):');
    for (const u of speedups) {
      console.log(`  ${u.int8} vs ${u.float}, threads ${u.threads}: edgeinfer ${u.edgeinfer.toFixed(2)}x (median of per-round ratios ${u.edgeinfer_rounds.toFixed(2)}x), ORT ${u.ort.toFixed(2)}x`);
    }
  }
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ rows, speedups }, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
