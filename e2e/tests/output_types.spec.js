// Benchmarks beyond multiple choice, and the linear probe, as a user runs them:
// a Leaner-Pretrain perplexity task (loglikelihood_rolling, TinyHelen's files
// from a URL base) and uploaded generate_until and loglikelihood task YAMLs
// (core/tests/fixtures/tasks; their {tinyhelen} data paths read from the same
// base) give every metric, stderr and 95% interval of `tinyeval run` on the
// same docs, run live here; per-sample log-likelihoods and generated texts
// match too. leaner_glue_probe_rte gives `tinyeval run --tasks
// leaner_glue_probe_rte`'s metrics. On WebGPU and on the wasm CPU backend.
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, openReady, openTab, runCli, tempDir, defaultModel, repoRoot, waitForRun, tinyhelenDir } from './fixtures.js';

const fixtureTasks = path.join(repoRoot, 'core', 'tests', 'fixtures', 'tasks');
const seed = 1234;
const batch = 8;

/** `tinyeval run` on the page's model; returns the results JSON and the samples per task (or, for the probe, its results.json). */
function cliRun(tasks, limit, extra = []) {
  const out = tempDir();
  runCli(['run', '--model', defaultModel, '--tasks', tasks, '--limit', String(limit), '--num_fewshot', '0', '--seed', String(seed),
    '--batch_size', String(batch), '--output_path', out, ...extra]);
  const files = fs.readdirSync(out, { recursive: true }).map((f) => path.join(out, f));
  const samples = {};
  for (const f of files.filter((f) => /samples_.*\.jsonl$/.test(f))) {
    const task = path.basename(f).match(/^samples_(.+)_[^_]+\.jsonl$/)[1];
    samples[task] = fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  }
  const results = files.find((f) => /results[^/]*\.json$/.test(f));
  return { results: JSON.parse(fs.readFileSync(results, 'utf8')), samples };
}

/** |a - b| / max(|b|, tiny): the relative difference, 0 for two equal numbers. */
function relative(a, b) {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

const num = (s) => (s === '' || s === undefined ? null : Number(s));

async function startRun(page, limit) {
  await page.getByTestId('opt-limit').fill(String(limit));
  await page.getByTestId('opt-fewshot').fill('0');
  await page.getByTestId('opt-batch').fill(String(batch));
  await page.getByTestId('opt-seed').fill(String(seed));
  const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
  await page.getByTestId('bench-run').click();
  const text = await waitForRun(page, 'bench-status', before);
  expect(text).toMatch(/^Done/);
}

async function chooseOnly(page, names) {
  for (const box of await page.locator('input[type=checkbox][data-testid^="task-"]').all()) {
    if (await box.isChecked()) await box.uncheck();
  }
  for (const n of names) await page.getByTestId(`task-${n}`).check();
}

// Chromium's WebGPU here is SwiftShader (a CPU emulating a GPU): fewer probe items there.
for (const [name, query, backend, probeLimit] of [
  ['WebGPU', '/?backend=webgpu', 'webgpu', 8],
  ['CPU', '/?backend=cpu', 'cpu', 24],
]) {
  test(`rolling, generate_until and loglikelihood tasks on ${name} equal tinyeval run`, async ({ page, watched, baseURL }, info) => {
    test.skip(!fs.existsSync(tinyhelenDir), `no TinyHelen data at ${tinyhelenDir}`);
    const limit = 4;
    await openReady(page, query, backend);
    await openTab(page, 'benchmarks');
    await page.getByTestId('tinyhelen-base').fill(`${baseURL}tinyhelen`);
    // Only the YAMLs: their {tinyhelen}/… data files come from the base URL.
    await page.getByTestId('task-upload').setInputFiles(path.join(fixtureTasks, 'gen_sst2.yaml'));
    await page.getByTestId('task-upload').setInputFiles(path.join(fixtureTasks, 'll_sst2.yaml'));
    await expect(page.getByTestId('uploaded-task')).toHaveText([/tinyeval_gen_sst2 \(generate_until\)/, /tinyeval_ll_sst2 \(loglikelihood\)/]);
    await chooseOnly(page, ['leaner_pretrain_ppl_wiki', 'tinyeval_gen_sst2', 'tinyeval_ll_sst2']);
    await startRun(page, limit);
    await page.screenshot({ path: info.outputPath(`output-types-${backend}.png`), fullPage: true });

    const cli = cliRun('leaner_pretrain_ppl_wiki,tinyeval_gen_sst2,tinyeval_ll_sst2', limit, ['--include_path', fixtureTasks, '--log_samples']);
    const rows = await page.getByTestId('result-row').evaluateAll((rs) => rs.map((r) => ({ ...r.dataset })));
    const expected = Object.entries(cli.results.results).flatMap(([task, r]) =>
      Object.keys(r).filter((k) => k.endsWith(',none') && !k.includes('_stderr')).map((k) => `${task} ${k.slice(0, -5)}`));
    expect(rows.map((r) => `${r.task} ${r.metric}`).sort()).toEqual(expected.sort());
    // loglikelihood's `perplexity` is exp(-mean log-likelihood) of a few-token
    // answer: its relative difference is the log-likelihoods' absolute one
    // (float32 sums: ~2e-6 on the CPU backend), so it gets 1e-5; every other
    // metric 1e-6.
    const tolerance = (metric) => (metric === 'perplexity' ? 1e-5 : 1e-6);
    let worst = 0;
    for (const r of rows) {
      const want = cli.results.results[r.task];
      const ci = cli.results.confidence_intervals[r.task][`${r.metric},none`];
      const pairs = [
        [num(r.value), want[`${r.metric},none`]],
        [num(r.stderr), want[`${r.metric}_stderr,none`]],
        [num(r.ciLow), ci.low],
        [num(r.ciHigh), ci.high],
      ];
      for (const [got, exp] of pairs) {
        expect(got, `${r.task} ${r.metric}`).not.toBeNull();
        expect(relative(got, exp), `${r.task} ${r.metric}: page ${got}, CLI ${exp}`).toBeLessThanOrEqual(tolerance(r.metric));
        worst = Math.max(worst, relative(got, exp) / tolerance(r.metric));
      }
    }
    console.log(`${name}: ${rows.length} metrics, max relative |page - CLI| / tolerance = ${worst.toExponential(2)}`);

    // Per sample: the rolling texts' log-likelihoods, the continuations' and the generated texts.
    const samples = async (task) => {
      await page.getByTestId('samples-task').selectOption(task);
      await expect(page.getByTestId('sample-row')).toHaveCount(limit);
      return page.getByTestId('sample-row').evaluateAll((rs) => rs.map((r) => ({ doc: Number(r.dataset.docId), lls: JSON.parse(r.dataset.lls), generated: r.dataset.generated })));
    };
    for (const task of ['leaner_pretrain_ppl_wiki', 'tinyeval_ll_sst2']) {
      const cliLls = new Map(cli.samples[task].map((s) => [s.doc_id, s.resps[0][0]]));
      for (const s of await samples(task)) {
        const want = Array.isArray(cliLls.get(s.doc)) ? cliLls.get(s.doc)[0] : cliLls.get(s.doc);
        expect(s.lls.length).toBe(1);
        expect(relative(s.lls[0], want), `${task} doc ${s.doc}`).toBeLessThanOrEqual(1e-6);
      }
    }
    const generated = await samples('tinyeval_gen_sst2');
    const cliGenerated = new Map(cli.samples.tinyeval_gen_sst2.map((s) => [s.doc_id, s.resps[0][0]]));
    for (const s of generated) expect(s.generated, `generation of doc ${s.doc}`).toBe(cliGenerated.get(s.doc));
    expect(generated.some((s) => s.generated.length > 0)).toBe(true);
  });

  test(`leaner_glue_probe_rte on ${name} equals tinyeval run`, async ({ page, watched, baseURL }, info) => {
    test.skip(!fs.existsSync(tinyhelenDir), `no TinyHelen data at ${tinyhelenDir}`);
    const limit = probeLimit;
    await openReady(page, query, backend);
    await openTab(page, 'benchmarks');
    await page.getByTestId('tinyhelen-base').fill(`${baseURL}tinyhelen`);
    await chooseOnly(page, ['leaner_glue_probe_rte']);
    await startRun(page, limit);
    await expect(page.getByTestId('bench-status')).toHaveText('Done: 1 task(s) probed; added to Compare');
    await page.getByTestId('probe-table').scrollIntoViewIfNeeded();
    await page.screenshot({ path: info.outputPath(`probe-${backend}.png`), fullPage: true });

    const cli = cliRun('leaner_glue_probe_rte', limit).results.results.leaner_glue_probe_rte;
    const rows = await page.getByTestId('probe-row').evaluateAll((rs) => rs.map((r) => ({ ...r.dataset })));
    expect(rows.map((r) => `${r.metric},${r.split}`).sort()).toEqual(Object.keys(cli).filter((k) => /^acc,/.test(k)).sort());
    for (const r of rows) {
      const key = `${r.metric},${r.split}`;
      expect(r.task).toBe('leaner_glue_probe_rte');
      expect(Number(r.n)).toBe(cli[`n,${r.split}`]);
      // Accuracies of the same predictions on the same items: equal, as are the seeded bootstraps.
      expect(num(r.value), key).toBe(cli[key]);
      expect(num(r.stderr), `${key} stderr`).toBeCloseTo(cli[`${r.metric}_stderr,${r.split}`], 12);
      expect(num(r.ciLow), `${key} CI`).toBeCloseTo(cli[`${r.metric}_ci95,${r.split}`].low, 12);
      expect(num(r.ciHigh), `${key} CI`).toBeCloseTo(cli[`${r.metric}_ci95,${r.split}`].high, 12);
    }

    // The probe's run in Compare, named as an import of the CLI's results file names it.
    await openTab(page, 'compare');
    for (const r of rows) {
      const cell = page.locator(`[data-testid="compare-row"][data-task="leaner_glue_probe_rte ${r.split}"][data-metric="${r.metric}"] td`).nth(2);
      await expect(cell).toHaveAttribute('data-value', String(cli[`${r.metric},${r.split}`]));
    }
  });
}

test('a whole suite is one choice, and a missing TinyHelen file is named', async ({ page, watched, baseURL }) => {
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'benchmarks');
  const genres = ['book', 'code', 'conversation', 'math', 'textbook', 'web', 'wiki'].map((g) => `leaner_pretrain_ppl_${g}`);
  await page.getByTestId('suite-leaner_pretrain_ppl').check();
  for (const t of genres) await expect(page.getByTestId(`task-${t}`)).toBeChecked();
  await page.getByTestId(`task-${genres[0]}`).uncheck();
  await expect(page.getByTestId('suite-leaner_pretrain_ppl')).not.toBeChecked();
  await page.getByTestId('suite-leaner_pretrain_ppl').check();
  for (const t of genres) await expect(page.getByTestId(`task-${t}`)).toBeChecked();
  await page.getByTestId('suite-leaner_pretrain_ppl').uncheck();
  for (const t of genres) await expect(page.getByTestId(`task-${t}`)).not.toBeChecked();

  // A base URL without the files: the error names the file, the page stays usable.
  await chooseOnly(page, ['leaner_pretrain_ppl_wiki']);
  await page.getByTestId('tinyhelen-base').fill(`${baseURL}no-such-folder`);
  await page.getByTestId('opt-limit').fill('2');
  const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
  await page.getByTestId('bench-run').click();
  const text = await waitForRun(page, 'bench-status', before);
  expect(text).toContain('no-such-folder/data/leaner/10M/test/wiki0000.jsonl');
  expect(text).toContain('404');
  // The browser logs the failed fetch itself: that one console error is expected, and only it.
  const refused = watched.consoleErrors.filter((m) => m.includes('status of 404'));
  expect(refused.length).toBe(1);
  watched.consoleErrors.splice(watched.consoleErrors.indexOf(refused[0]), 1);
  await expect(page.getByTestId('bench-run')).toBeEnabled();
});
