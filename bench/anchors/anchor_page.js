// The browser anchors of the scoring benchmark, in the page e2e/bench_anchors.mjs
// opens: transformers.js (ONNX, wasm or WebGPU execution provider) or wllama
// (llama.cpp in wasm, GGUF F32) on the files scripts/make_anchor_models.py
// wrote, served under /models/<model>/. Query string:
//   engine=tfjs|wllama  device=wasm|webgpu (tfjs)  threads=N (0: all cores)
//   model=<name>  batch_size  seq_len  seed  warmup  repeats
// Sets window.anchorResult to a JSON-able object (or { error }).
//
// transformers.js scores as tinyeval's ?bench page does: the splitmix64 ids
// of cli/src/bench.rs, one forward over the first T-1 tokens of B sequences,
// then per position log-softmax, the next token's log p, mean and variance of
// log p and argmax, in JS (timed: scoring needs them). It returns every target
// log p for bench.py's check against PyTorch.
//
// wllama 3.x takes text prompts only (a token-id array crashes its worker) and
// returns log-probs for the last position only, so it times prompt evaluation:
// B prompts (prompts.json, texts bench.py made that transformers' tokenizer
// turns into exactly T-1 ids), each a completion of one token with the top-K
// log-probs (token id, log p) of that last position, which bench.py checks
// against PyTorch.
const q = new URLSearchParams(location.search);
const opt = {
  engine: q.get('engine') ?? 'tfjs',
  device: q.get('device') ?? 'wasm',
  threads: Number(q.get('threads') ?? '1') || navigator.hardwareConcurrency,
  model: q.get('model'),
  batch: Number(q.get('batch_size') ?? '8'),
  seq: Number(q.get('seq_len') ?? '256'),
  seed: BigInt(q.get('seed') ?? '0'),
  warmup: Number(q.get('warmup') ?? '1'),
  repeats: Number(q.get('repeats') ?? '3'),
  topK: Number(q.get('top_k') ?? '8'),
};
const log = (line) => { document.getElementById('log').textContent += line + '\n'; };

// cli/src/bench.rs token_ids: splitmix64 from the seed, id = z mod vocab.
function splitmixIds(seed, batch, seq, vocab) {
  const M = (1n << 64n) - 1n;
  let state = seed & M;
  const rows = [];
  for (let b = 0; b < batch; b++) {
    const row = [];
    for (let t = 0; t < seq; t++) {
      state = (state + 0x9E3779B97F4A7C15n) & M;
      let z = state;
      z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M;
      z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M;
      z ^= z >> 31n;
      row.push(z % BigInt(vocab));
    }
    rows.push(row);
  }
  return rows;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeRuns(run) {
  for (let i = 0; i < opt.warmup; i++) await run();
  const times = [];
  let last;
  for (let i = 0; i < opt.repeats; i++) {
    const t0 = performance.now();
    last = await run();
    times.push((performance.now() - t0) / 1000);
    log(`run ${i + 1}: ${times.at(-1).toFixed(3)} s`);
  }
  return { times_s: times, median_s: median(times), last };
}

// What tinyeval's score_batch reads back, per position: target log p, mean
// (sum p log p) and variance of log p, greedy hit.
function scoreStats(logits, targets, rows, vocab) {
  const targetLogp = new Float64Array(rows);
  let sumLogp = 0, sumNegEnt = 0, sumVar = 0, greedy = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let max = -Infinity, arg = 0;
    for (let v = 0; v < vocab; v++) if (logits[o + v] > max) { max = logits[o + v]; arg = v; }
    let z = 0;
    for (let v = 0; v < vocab; v++) z += Math.exp(logits[o + v] - max);
    const lse = max + Math.log(z);
    let mean = 0, sq = 0;
    for (let v = 0; v < vocab; v++) {
      const lp = logits[o + v] - lse, p = Math.exp(lp);
      mean += p * lp; sq += p * lp * lp;
    }
    targetLogp[r] = logits[o + targets[r]] - lse;
    sumLogp += targetLogp[r];
    sumNegEnt += mean;
    sumVar += sq - mean * mean;
    greedy += arg === targets[r] ? 1 : 0;
  }
  return { targetLogp: Array.from(targetLogp), meanLogp: sumLogp / rows, meanEntropy: -sumNegEnt / rows,
           meanVariance: sumVar / rows, greedy };
}

async function runTfjs() {
  const tf = await import('/node_modules/@huggingface/transformers/dist/transformers.js');
  const { env, AutoModelForCausalLM, Tensor } = tf;
  // Offline: local files only, no caches, onnxruntime-web's wasm from node_modules.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/models/';
  env.useBrowserCache = false;
  env.useWasmCache = false;
  const ortDist = new URL('/node_modules/onnxruntime-web/dist/', location.href).href;
  env.backends.onnx.wasm.wasmPaths = {
    mjs: ortDist + 'ort-wasm-simd-threaded.asyncify.mjs',
    wasm: ortDist + 'ort-wasm-simd-threaded.asyncify.wasm',
  };
  // Set explicitly: the default is min(4, ceil(cores / 2)), 1 on two cores.
  env.backends.onnx.wasm.numThreads = opt.threads;
  const config = await (await fetch(`/models/${opt.model}/tfjs/config.json`)).json();
  const vocab = config.vocab_size;
  const t0 = performance.now();
  const model = await AutoModelForCausalLM.from_pretrained(`${opt.model}/tfjs`, { device: opt.device, dtype: 'fp32' });
  const loadS = (performance.now() - t0) / 1000;
  const ids = splitmixIds(opt.seed, opt.batch, opt.seq, vocab);
  const n = opt.seq - 1;
  const input = new BigInt64Array(opt.batch * n);
  const targets = new Int32Array(opt.batch * n);
  ids.forEach((row, b) => row.forEach((id, t) => {
    if (t < n) input[b * n + t] = id;
    if (t > 0) targets[b * n + t - 1] = Number(id);
  }));
  const mask = new BigInt64Array(opt.batch * n).fill(1n);
  const run = async () => {
    const out = await model({
      input_ids: new Tensor('int64', input, [opt.batch, n]),
      attention_mask: new Tensor('int64', mask, [opt.batch, n]),
    });
    const logits = out.logits.data; // [B, T-1, V] float32, on the CPU
    const stats = scoreStats(logits, targets, opt.batch * n, vocab);
    out.logits.dispose?.();
    return stats;
  };
  const timed = await timeRuns(run);
  const s = timed.last;
  return {
    engine: 'transformers.js', version: tf.env.version, ort: env.backends.onnx.versions?.web,
    device: opt.device, threads: env.backends.onnx.wasm.numThreads, load_s: loadS,
    times_s: timed.times_s, median_s: timed.median_s,
    tokens_per_s: (opt.batch * opt.seq) / timed.median_s,
    mean_logprob: s.meanLogp, mean_entropy: s.meanEntropy, target_logp: s.targetLogp,
  };
}

async function runWllama() {
  const { Wllama } = await import('/node_modules/@wllama/wllama/esm/index.js');
  const prompts = await (await fetch(`/models/${opt.model}/prompts.json`)).json();
  const wllama = new Wllama({ default: '/node_modules/@wllama/wllama/esm/wasm/wllama.wasm' },
    { allowOffline: true, logger: { debug() {}, log() {}, info() {}, warn: console.warn, error: console.error } });
  const t0 = performance.now();
  const blob = await (await fetch(`/models/${opt.model}/model-f32.gguf`)).blob();
  await wllama.loadModel([blob], {
    n_threads: opt.threads,
    n_ctx: opt.seq + 16, // the prompt (T-1 tokens) and the one sampled token
    n_batch: 512, n_ubatch: 512, // the whole prompt in one llama_decode
    n_parallel: 1,
    // Defaults (f16 KV cache, flash attention) differ from PyTorch by ~1e-3.
    cache_type_k: 'f32', cache_type_v: 'f32', flash_attn: false,
  });
  const loadS = (performance.now() - t0) / 1000;
  const run = async () => {
    const out = [];
    for (const prompt of prompts.texts.slice(0, opt.batch)) {
      const r = await wllama.createCompletion({
        prompt, max_tokens: 1, temperature: 0, logprobs: opt.topK, n_probs: opt.topK,
        cache_prompt: false, // every run evaluates the whole prompt again
      });
      // The one sampled position: llama.cpp's top-K (id, log p) of the last prompt position.
      const top = r.choices[0].logprobs?.content?.[0]?.top_logprobs ?? [];
      out.push({ prompt_n: r.timings?.prompt_n, prompt_ms: r.timings?.prompt_ms,
                 top_logprobs: top.map((t) => [t.id, t.logprob]) });
    }
    return out;
  };
  const timed = await timeRuns(run);
  const info = wllama.getLoadedContextInfo?.() ?? {};
  await wllama.exit();
  return {
    engine: 'wllama', version: Wllama.getLibllamaVersion?.(), device: 'wasm', threads: opt.threads,
    load_s: loadS, times_s: timed.times_s, median_s: timed.median_s,
    tokens_per_s: (opt.batch * opt.seq) / timed.median_s,
    prompt_n: timed.last.map((r) => r.prompt_n), prompt_ms: timed.last.map((r) => r.prompt_ms),
    last_top_logprobs: timed.last.map((r) => r.top_logprobs), n_ctx: info.n_ctx,
  };
}

try {
  log(`crossOriginIsolated: ${self.crossOriginIsolated}; ${JSON.stringify(opt, (k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  const r = opt.engine === 'wllama' ? await runWllama() : await runTfjs();
  window.anchorResult = { ...r, cross_origin_isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency };
} catch (e) {
  window.anchorResult = { engine: opt.engine, device: opt.device, threads: opt.threads, error: String(e?.stack ?? e) };
}
