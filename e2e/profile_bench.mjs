// Where the page's CPU path spends its time (a profiling aid, not a test):
// serves the built site, opens `?bench` on the CPU backend on the page's main
// thread (`workers=0`, so that the page's own CPU profiler sees the forward
// passes), samples it with Chromium's profiler (CDP `Profiler`) and prints the
// functions with the most self time. Function names need a .wasm that kept its
// name section (trunk's wasm-opt drops it; see scripts/README.md, "Profiling").
// `--flow benchmarks` profiles the page's main thread instead while the
// Benchmarks tab runs the demo tasks in the pool of workers (as
// e2e/tests/workers.spec.js does), and lists its long tasks.
//
// Usage: node profile_bench.mjs [--flow bench|benchmarks] [--dist DIR] [--model models/tinyhelen-1m/] [--mount /extra/=DIR]
//          [--batch_size 8] [--seq_len 256] [--repeats 3] [--top 40]
import { parseArgs } from 'node:util';

import { launchBrowser, serveSite } from './measure_site.mjs';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/tinyhelen-1m/' },
    mount: { type: 'string', multiple: true, default: [] },
    batch_size: { type: 'string', default: '8' },
    seq_len: { type: 'string', default: '256' },
    repeats: { type: 'string', default: '3' },
    top: { type: 'string', default: '40' },
    port: { type: 'string', default: '8132' },
    dist: { type: 'string' },
    flow: { type: 'string', default: 'bench' },
    fewshot: { type: 'string', default: '2' },
  },
});

const { site, stop } = await serveSite({ port: opts.port, mounts: opts.mount, ...(opts.dist ? { dist: opts.dist } : {}) });
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  if (opts.flow === 'benchmarks') {
    await page.addInitScript(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__longTasks.push(Math.round(e.duration)))).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(`${site}?backend=cpu`);
    await page.locator('[data-testid=model-status] [data-ready="true"]').waitFor({ timeout: 120_000 });
    console.log(await page.getByTestId('target-note').textContent());
    await page.getByTestId('tab-benchmarks').click();
    await page.getByTestId('opt-limit').fill('');
    await page.getByTestId('opt-fewshot').fill(opts.fewshot);
    await page.getByTestId('opt-batch').fill(opts.batch_size);
    await page.evaluate(() => (window.__longTasks.length = 0));
    // Only the run is profiled, not the page's loading.
    await cdp.send('Profiler.stop');
    await cdp.send('Profiler.start');
    const status = page.getByTestId('bench-status');
    const before = Number(await status.getAttribute('data-finished-runs'));
    const t = Date.now();
    await page.getByTestId('bench-run').click();
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid=bench-status]').dataset.finishedRuns) > b, before, { timeout: 1_200_000, polling: 500 });
    console.log(`${await status.textContent()} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    console.log(`main-thread tasks over 50 ms: ${JSON.stringify(await page.evaluate(() => window.__longTasks))}`);
  } else {
    const query = new URLSearchParams({
      bench: '', model: opts.model, batch_size: opts.batch_size, seq_len: opts.seq_len,
      repeats: opts.repeats, warmup: '1', backend: 'cpu', workers: '0',
    });
    await page.goto(`${site}?${query}`);
    const done = page.locator('[data-testid=bench-result], [data-testid=bench-error]');
    await done.waitFor({ timeout: 1_200_000 });
    console.log((await done.textContent()).slice(0, 400));
  }
  const { profile } = await cdp.send('Profiler.stop');

  // Self time: each sample is charged to the node it landed in.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const f = byId.get(id).callFrame;
    const name = f.functionName || `(anonymous ${f.url.split('/').pop()}:${f.lineNumber})`;
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top));
  console.log(`self time, ${(total / 1e6).toFixed(1)} s sampled:`);
  for (const [name, us] of rows) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${name.slice(0, 160)}`);
  }
} finally {
  await browser.close();
  stop();
}
