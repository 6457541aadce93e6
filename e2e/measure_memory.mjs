// The page's rows of the memory measurement (scripts/measure_memory.py runs
// this): serves the built site with one extra folder mounted for the model,
// opens `?backend=cpu&model=URL` in headless Chromium (a fresh browser, so the
// model is downloaded, not read from the cache), waits for the model, scores a
// text in the Contamination tab's passage box, and prints one JSON line: the
// memory need the Models tab showed before loading, the wasm heap's size after
// loading and after scoring (a wasm heap only grows, so that is its peak), and
// the renderer process's peak resident memory (VmHWM in /proc; the tab's own
// process, found through the DevTools protocol).
//
// Usage: node measure_memory.mjs --model <URL relative to the site> --mount /mem/=DIR
//          [--dist ../dist] [--backend cpu|webgpu|auto] [--text "..."] [--score no] [--timeout_s 1800]
// (`--score no` only loads: on a software WebGPU adapter a large model scores very slowly.)
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { launchBrowser, serveSite } from './measure_site.mjs';

const here = import.meta.dirname;
const { values: opts } = parseArgs({
  options: {
    model: { type: 'string' },
    mount: { type: 'string', multiple: true, default: [] },
    dist: { type: 'string', default: path.join(here, '..', 'dist') },
    backend: { type: 'string', default: 'cpu' },
    text: { type: 'string', default: 'The river ran slowly through the old town.' },
    score: { type: 'string', default: 'yes' },
    timeout_s: { type: 'string', default: '1800' },
    port: { type: 'string', default: '8132' },
  },
});
if (!opts.model) throw new Error('measure_memory.mjs needs --model <URL relative to the site>');
const timeout = Number(opts.timeout_s) * 1000;

const { site, stop } = await serveSite({ port: opts.port, dist: opts.dist, mounts: opts.mount });

/** kB figures of /proc/PID/status, in bytes. */
function procStatus(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) * 1024;
  return { pid, hwm: field('VmHWM'), rss: field('VmRSS') };
}

const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  // Trunk's loader announces the wasm instance; its memory is the wasm heap.
  await page.addInitScript(() => addEventListener('TrunkApplicationStarted', (e) => { window.__wasm = e.detail.wasm; }));
  const started = Date.now();
  // `auto`: no ?backend=, so the page picks (and may time WebGPU against the CPU).
  const query = new URLSearchParams(opts.backend === 'auto' ? { model: opts.model } : { backend: opts.backend, model: opts.model });
  await page.goto(`${site}?${query}`);
  const status = page.getByTestId('model-status');
  await status.locator('[data-ready="true"], .error').first().waitFor({ timeout });
  const need = (await page.getByTestId('target-memory').count()) ? await page.getByTestId('target-memory').textContent() : null;
  if (await status.locator('.error').count()) {
    console.log(JSON.stringify({ error: await status.textContent(), need }));
    process.exitCode = 1;
  } else {
    const loadSeconds = (Date.now() - started) / 1000;
    const heap = () => page.evaluate(() => window.__wasm.memory.buffer.byteLength);
    const heapAfterLoad = await heap();
    let runText = null;
    let tokens = 0;
    if (opts.score !== 'no') {
      await page.getByTestId('tab-contamination').click();
      const run = page.getByTestId('run-status');
      const before = Number(await run.getAttribute('data-finished-runs'));
      await page.getByTestId('text-input').fill(opts.text);
      await page.getByTestId('score-button').click();
      await page.locator(`[data-testid=run-status][data-finished-runs="${before + 1}"]`).waitFor({ timeout });
      runText = await run.textContent();
      tokens = await page.getByTestId('token-row').count();
    }
    const heapAfterScoring = await heap();
    // The tab's renderer: of Chromium's renderer processes, the one that grew largest.
    const cdp = await browser.newBrowserCDPSession();
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    const renderers = processInfo.filter((p) => p.type === 'renderer').map((p) => procStatus(p.id));
    const renderer = renderers.reduce((a, b) => (b.hwm > a.hwm ? b : a));
    const gpu = processInfo.filter((p) => p.type === 'GPU').map((p) => procStatus(p.id))[0];
    console.log(JSON.stringify({
      backend: opts.backend, backend_label: await page.getByTestId('backend-label').textContent(),
      backend_note: await page.getByTestId('backend-note').textContent(), need, load_seconds: loadSeconds, run: runText, tokens,
      wasm_heap_after_load_bytes: heapAfterLoad, wasm_heap_bytes: heapAfterScoring,
      max_rss_bytes: renderer.hwm, renderer_rss_now_bytes: renderer.rss, gpu_process_max_rss_bytes: gpu?.hwm ?? null,
      browser: browser.version(),
    }));
  }
} finally {
  await browser.close();
  stop();
}
