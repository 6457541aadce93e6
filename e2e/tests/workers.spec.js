// The page's pool of Web Workers (one copy of the model each, on the CPU):
// a run's numbers are the same whatever the number of workers, the batch size
// or the backend; during a run the main thread never does a forward pass
// (no task near a batch's 0.5-0.8 s there), and cancel stops the run within
// half a second. Issue 12 asks for no task over 100 ms: on this 2-core machine
// the longest was 53 ms over a whole demo run (`node e2e/profile_bench.mjs
// --flow benchmarks`, 2026-12-02), once the module's static constructors no
// longer ran on every call into the wasm (app/src/main.rs); before, tasks of
// 180 ms here and seconds at a run's end. This test holds 200 ms (room for a
// slower CI machine) and prints every task over 50 ms.
import { test, expect, openReady, openTab, waitForRun } from './fixtures.js';

/** Runs the demo tasks; returns the results table and the first task's per-choice log-likelihoods. */
async function runDemo(page, { limit, batch }) {
  await openTab(page, 'benchmarks');
  await page.getByTestId('opt-limit').fill(String(limit));
  await page.getByTestId('opt-fewshot').fill('1');
  await page.getByTestId('opt-batch').fill(String(batch));
  const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
  await page.getByTestId('bench-run').click();
  expect(await waitForRun(page, 'bench-status', before)).toMatch(/^Done/);
  const results = await page.getByTestId('result-row').evaluateAll((rows) =>
    rows.map((r) => ({ task: r.dataset.task, metric: r.dataset.metric, value: Number(r.dataset.value), stderr: r.dataset.stderr })),
  );
  const lls = await page.getByTestId('sample-row').evaluateAll((rs) => rs.map((r) => ({ doc: Number(r.dataset.docId), lls: JSON.parse(r.dataset.lls) })));
  return { results, lls };
}

function worstRelative(a, b) {
  expect(b.lls.map((s) => s.doc)).toEqual(a.lls.map((s) => s.doc));
  let worst = 0;
  a.lls.forEach((s, i) => s.lls.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b.lls[i].lls[j]) / Math.max(1, Math.abs(x))))));
  return worst;
}

test('the same log-likelihoods, picks, metrics and stderrs with 0, 1 and 3 workers, batches of 1 and 8, and on WebGPU', async ({ page, watched }) => {
  // Three CPU runs and one on SwiftShader (about a minute for these 6 docs).
  test.setTimeout(420_000);
  const runs = [];
  for (const [workers, batch, note] of [[0, 8, /main thread/], [1, 1, /scoring in 1 Web Worker/], [3, 8, /scoring in 3 Web Workers/]]) {
    await openReady(page, `/?backend=cpu&workers=${workers}`, 'cpu');
    await expect(page.getByTestId('target-note')).toContainText(note);
    runs.push({ label: `${workers} workers, batch ${batch}`, ...(await runDemo(page, { limit: 6, batch })) });
  }
  await openReady(page, '/?backend=webgpu', 'webgpu');
  runs.push({ label: 'WebGPU, batch 8', ...(await runDemo(page, { limit: 6, batch: 8 })) });
  const [first, ...rest] = runs;
  expect(first.lls.length).toBe(6);
  for (const run of rest) {
    const worst = worstRelative(first, run);
    console.log(`${run.label} against ${first.label}: max relative difference in log-likelihood ${worst.toExponential(2)}`);
    expect(worst, run.label).toBeLessThanOrEqual(1e-6);
    // Same picks, so the same metrics and the same stderrs, exactly.
    expect(run.results, run.label).toEqual(first.results);
  }
});

test('with workers no main-thread task comes near a forward pass during a run, and cancel takes under 0.5 s', async ({ page, watched }, info) => {
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__longTasks.push({ start: e.startTime, ms: e.duration }))).observe({ type: 'longtask', buffered: true });
  });
  await openReady(page, '/?backend=cpu', 'cpu');
  await expect(page.getByTestId('target-note')).toContainText(/scoring in \d+ Web Workers?/);
  await openTab(page, 'benchmarks');
  await page.getByTestId('opt-limit').fill('');
  await page.getByTestId('opt-fewshot').fill('2');
  await page.getByTestId('opt-batch').fill('8');
  const started = await page.evaluate(() => performance.now());
  await page.getByTestId('bench-run').click();
  const status = page.getByTestId('bench-status');
  await expect(status).toHaveText(/ · (\d\d\d+)\/\d+ requests · .*about .* left/, { timeout: 60_000 });
  await page.screenshot({ path: info.outputPath('workers-running.png') });
  const t = Date.now();
  await page.getByTestId('bench-cancel').click({ force: true, timeout: 1000 });
  await expect(status).toHaveText('Cancelled', { timeout: 500 });
  console.log(`cancel took ${Date.now() - t} ms`);
  const ended = await page.evaluate(() => performance.now());
  const long = await page.evaluate(([a, b]) => window.__longTasks.filter((e) => e.start >= a && e.start <= b), [started, ended]);
  console.log(`main-thread tasks over 50 ms during ${((ended - started) / 1000).toFixed(1)} s of run: ${JSON.stringify(long.map((e) => Math.round(e.ms)))}`);
  for (const e of long) expect(e.ms, 'a main-thread task during the run').toBeLessThanOrEqual(200);
});
