// The anchor rows of the scoring benchmark (scripts/bench.py --anchors runs this):
// serves bench/anchors/ (its page and its npm packages) cross-origin isolated
// (COOP/COEP, which wasm threads need) with the anchor models mounted under
// /models/, opens one page per run in headless Chromium (the same Chromium as
// e2e/bench.mjs) and prints each page's JSON result on a line.
//
// Usage: node bench_anchors.mjs --models DIR --model NAME
//          [--runs tfjs:wasm:1,tfjs:wasm:0,tfjs:webgpu:1,wllama:wasm:1,wllama:wasm:0]
//          [--batch_size 8] [--seq_len 256] [--repeats 3] [--warmup 1] [--timeout_s 1800]
// A run is engine:device:threads, threads 0 meaning all cores.
import path from 'node:path';
import { parseArgs } from 'node:util';

import { launchBrowser, serveSite } from './measure_site.mjs';

const { values: opts } = parseArgs({
  options: {
    models: { type: 'string' },
    model: { type: 'string' },
    runs: { type: 'string', default: 'tfjs:wasm:1,tfjs:wasm:0,tfjs:webgpu:1,wllama:wasm:1,wllama:wasm:0' },
    batch_size: { type: 'string', default: '8' },
    seq_len: { type: 'string', default: '256' },
    repeats: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    timeout_s: { type: 'string', default: '1800' },
    port: { type: 'string', default: '8132' },
  },
});
if (!opts.models || !opts.model) throw new Error('bench_anchors.mjs needs --models DIR --model NAME');

const here = import.meta.dirname;
const anchors = path.join(here, '..', 'bench', 'anchors');
const { site, stop } = await serveSite({ port: opts.port, dist: anchors, mounts: [`/models/=${opts.models}`], env: { TINYEVAL_SERVE_ISOLATED: '1' } });

const browser = await launchBrowser();
try {
  for (const spec of opts.runs.split(',').filter(Boolean)) {
    const [engine, device, threads] = spec.split(':');
    const query = new URLSearchParams({
      engine, device, threads, model: opts.model, batch_size: opts.batch_size, seq_len: opts.seq_len,
      repeats: opts.repeats, warmup: opts.warmup, seed: opts.seed,
    });
    // A fresh page (and so fresh workers and wasm threads) per run.
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error(`[${spec}] ${m.text()}`); });
    page.on('response', (r) => { if (r.status() >= 400) console.error(`[${spec}] ${r.status()} ${r.url()}`); });
    await page.goto(`${site}?${query}`);
    let result;
    try {
      await page.waitForFunction(() => window.anchorResult, null, { timeout: Number(opts.timeout_s) * 1000, polling: 1000 });
      result = await page.evaluate(() => window.anchorResult);
    } catch (e) {
      result = { engine, device, error: `${e.message.split('\n')[0]}; page log: ${await page.locator('#log').textContent()}` };
    }
    console.log(JSON.stringify({ run: spec, ...result, adapter: device === 'webgpu' ? await adapterName(page) : undefined,
                                 browser: browser.version() }));
    await page.close();
  }
} finally {
  await browser.close();
  stop();
}

async function adapterName(page) {
  return page.evaluate(async () => {
    const a = await navigator.gpu?.requestAdapter();
    return a ? [a.info?.vendor, a.info?.architecture, a.info?.description].filter(Boolean).join(' ') : 'none';
  });
}
