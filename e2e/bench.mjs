// The browser rows of the scoring benchmark (scripts/bench.py runs this):
// serves the built site (dist/) on 127.0.0.1 with one extra folder mounted for a
// model that is not bundled, opens `?bench` in headless Chromium on WebGPU and on
// the CPU backend (`&backend=cpu`: its pool of Web Workers, one a core; `cpu:N`
// for N workers), and prints each page's JSON result on a line.
//
// Usage: node bench.mjs --model <folder URL relative to the site, e.g. models/tinyhelen-1m/>
//          [--mount /extra/=DIR] [--backends webgpu,cpu:1,cpu] [--batch_size 8] [--seq_len 256]
//          [--repeats 3] [--warmup 1] [--timeout_s 1200]
import path from 'node:path';
import { parseArgs } from 'node:util';

import { launchBrowser, serveSite } from './measure_site.mjs';

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
const { site, stop } = await serveSite({ port: opts.port, mounts: opts.mount });

const browser = await launchBrowser();
try {
  for (const run of opts.backends.split(',')) {
    const [backend, workers] = run.split(':');
    const query = new URLSearchParams({
      bench: '', model: opts.model, batch_size: opts.batch_size, seq_len: opts.seq_len,
      repeats: opts.repeats, warmup: opts.warmup, seed: opts.seed,
    });
    if (backend === 'cpu') query.set('backend', 'cpu');
    if (workers !== undefined) query.set('workers', workers);
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
  stop();
}
