// How long fine-tuning takes in the page (a benchmark, not a test): serves the
// built site with TinyHelen's files mounted, opens it on each backend with the
// model, runs Benchmarks' "Fine-tune" on one task with one grid point as a
// user would, and prints one JSON line per backend: the page's own duration
// (training and scoring, from its `finetune-duration`), the steps, the pace
// and the chosen configuration's scores.
//
// Usage: node bench_finetune.mjs [--model models/tinyhelen-1m/] [--task rte] [--epochs 1]
//          [--learning_rate 1e-4] [--seed 0] [--batch_size 32] [--max_length 128] [--limit N]
//          [--backends cpu,webgpu] [--tinyhelen ../../shared/data/tinyhelen] [--timeout_s 3000]
import path from 'node:path';
import { parseArgs } from 'node:util';

import { launchBrowser, serveSite } from './measure_site.mjs';

const here = import.meta.dirname;
const { values: opts } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/tinyhelen-1m/' },
    task: { type: 'string', default: 'rte' },
    epochs: { type: 'string', default: '1' },
    learning_rate: { type: 'string', default: '1e-4' },
    seed: { type: 'string', default: '0' },
    batch_size: { type: 'string', default: '32' },
    max_length: { type: 'string', default: '128' },
    limit: { type: 'string', default: '' },
    backends: { type: 'string', default: 'cpu,webgpu' },
    tinyhelen: { type: 'string', default: process.env.TINYHELEN_DIR ?? path.join(here, '..', '..', 'shared', 'data', 'tinyhelen') },
    timeout_s: { type: 'string', default: '3000' },
    port: { type: 'string', default: '8133' },
  },
});
const timeout = Number(opts.timeout_s) * 1000;
const { site, stop } = await serveSite({ port: opts.port, mounts: [`/tinyhelen/=${path.resolve(opts.tinyhelen)}`] });
const browser = await launchBrowser();
try {
  for (const backend of opts.backends.split(',')) {
    const page = await browser.newPage();
    await page.goto(`${site}?backend=${backend}&model=${encodeURIComponent(opts.model)}`);
    await page.locator('[data-testid=model-status] [data-ready=true]').waitFor({ timeout });
    const adapter = await page.getByTestId('backend-label').textContent();
    await page.getByTestId('tab-benchmarks').click();
    await page.getByTestId('tinyhelen-base').fill(`${site}tinyhelen`);
    for (const box of await page.locator('[data-testid^="finetune-task-"]').all()) await box.uncheck();
    await page.getByTestId(`finetune-task-${opts.task}`).check();
    const form = { 'ft-lrs': opts.learning_rate, 'ft-seeds': opts.seed, 'ft-epochs': opts.epochs, 'ft-batch': opts.batch_size, 'ft-max-length': opts.max_length, 'ft-limit': opts.limit };
    for (const [id, v] of Object.entries(form)) await page.getByTestId(id).fill(v);
    await page.getByTestId('finetune-run').click();
    const status = page.getByTestId('finetune-status');
    await page.waitForFunction((el) => el.getAttribute('data-finished-runs') === '1', await status.elementHandle(), { timeout });
    const text = await status.textContent();
    if (!text.startsWith('Done')) {
      console.log(JSON.stringify({ backend, adapter, error: text }));
      await page.close();
      continue;
    }
    const seconds = Number(await page.getByTestId('finetune-duration').getAttribute('data-seconds'));
    const rows = await page.getByTestId('finetune-row').evaluateAll((rs) => rs.map((r) => ({ split: r.dataset.split, metric: r.dataset.metric, value: Number(r.dataset.value), stderr: Number(r.dataset.stderr) })));
    console.log(JSON.stringify({ backend, adapter, model: opts.model, task: opts.task, epochs: Number(opts.epochs), batch_size: Number(opts.batch_size), max_length: Number(opts.max_length), limit: opts.limit ? Number(opts.limit) : null, seconds, status: text, scores: rows, browser: browser.version() }));
    await page.close();
  }
} finally {
  await browser.close();
  stop();
}
