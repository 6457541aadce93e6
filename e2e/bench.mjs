// The browser rows of the scoring benchmark (scripts/bench.py runs this):
// serves the built site (dist/) on 127.0.0.1 with one extra folder mounted for a
// model that is not bundled, opens `?bench` in headless Chromium on WebGPU and on
// the CPU backend (`&backend=cpu`), and prints each page's JSON result on a line.
//
// Usage: node bench.mjs --model <folder URL relative to the site, e.g. models/tinyhelen-1m/>
//          [--mount /extra/=DIR] [--backends webgpu,cpu] [--batch_size 8] [--seq_len 256]
//          [--repeats 3] [--warmup 1] [--timeout_s 1200]
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string' },
    mount: { type: 'string', multiple: true, default: [] },
    backends: { type: 'string', default: 'webgpu,cpu' },
    batch_size: { type: 'string', default: '8' },
    seq_len: { type: 'string', default: '256' },
    repeats: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    timeout_s: { type: 'string', default: '1200' },
    port: { type: 'string', default: '8131' },
  },
});
if (!opts.model) throw new Error('bench.mjs needs --model <folder URL relative to the site>');

const here = import.meta.dirname;
const server = spawn('node', [path.join(here, 'serve.mjs'), opts.port, path.join(here, '..', 'dist'), '/', ...opts.mount], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const site = `http://127.0.0.1:${opts.port}/`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(site)).ok) break;
  } catch {
    if (i > 100) throw new Error(`the static server did not start on ${site}`);
  }
  await new Promise((r) => setTimeout(r, 100));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  for (const backend of opts.backends.split(',')) {
    const query = new URLSearchParams({
      bench: '', model: opts.model, batch_size: opts.batch_size, seq_len: opts.seq_len,
      repeats: opts.repeats, warmup: opts.warmup, seed: opts.seed,
    });
    if (backend === 'cpu') query.set('backend', 'cpu');
    const page = await browser.newPage();
    await page.goto(`${site}?${query}`);
    const done = page.locator('[data-testid=bench-result], [data-testid=bench-error]');
    await done.waitFor({ timeout: Number(opts.timeout_s) * 1000 });
    const text = await done.textContent();
    if ((await done.getAttribute('data-testid')) === 'bench-error') {
      console.log(JSON.stringify({ backend, error: text }));
    } else {
      console.log(JSON.stringify({ ...JSON.parse(text), browser: browser.version() }));
    }
    await page.close();
  }
} finally {
  await browser.close();
  server.kill();
}
