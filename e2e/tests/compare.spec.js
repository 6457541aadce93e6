// Compare and share: lm-eval-harness results imported beside the page's own
// run, as a table and grouped bars; a permalink carries settings and scores
// (never texts) and reopens the comparison on its own; bad files and damaged
// links say so. Membership checks of two models on the same texts: their ROC
// curves overlaid in one chart, with the AUROCs Contamination showed.
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, openReady, openTab, tempDir, waitForRun, downloadFrom } from './fixtures.js';

function lmEvalFile(dir) {
  const file = path.join(dir, 'results_2026-11-26T00-00-00.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      results: {
        demo_sentiment: { alias: 'demo_sentiment', 'acc,none': 0.625, 'acc_stderr,none': 0.0765, 'acc_norm,none': 0.6, 'acc_norm_stderr,none': 0.0775 },
        demo_yesno: { alias: 'demo_yesno', 'acc,none': 0.55, 'acc_stderr,none': 0.0797 },
      },
      model_name: 'EleutherAI/pythia-14m',
      config: { model: 'hf', model_args: 'pretrained=EleutherAI/pythia-14m' },
    }),
  );
  return file;
}

test('imports lm-eval results beside a run of the page, and a permalink reopens the comparison', async ({ page, context, watched }, info) => {
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'benchmarks');
  await page.getByTestId('opt-limit').fill('20');
  const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
  await page.getByTestId('bench-run').click();
  expect(await waitForRun(page, 'bench-status', before)).toMatch(/^Done/);
  const acc = Number(await page.locator('[data-testid="result-row"][data-task="demo_sentiment"][data-metric="acc"]').getAttribute('data-value'));

  await openTab(page, 'compare');
  await page.getByTestId('import-lm-eval').setInputFiles(lmEvalFile(tempDir()));
  await expect(page.getByTestId('compare-run')).toHaveCount(2);
  const row = page.locator('[data-testid="compare-row"][data-task="demo_sentiment"][data-metric="acc"]');
  await expect(row.locator('td').nth(2)).toHaveAttribute('data-value', String(acc));
  await expect(row.locator('td').nth(3)).toHaveText('0.6250 ± 0.0765');
  await expect(page.getByTestId('chart-compare').locator('svg')).toBeVisible();
  await page.screenshot({ path: info.outputPath('compare.png'), fullPage: true });

  await page.getByTestId('compare-permalink').click();
  const link = await page.getByTestId('compare-link').inputValue();
  expect(link).toContain('#share=');
  expect(decodeURIComponent(link)).not.toContain('Question:');
  const shared = await context.newPage();
  shared.on('console', (msg) => msg.type() === 'error' && watched.consoleErrors.push(msg.text()));
  await shared.goto(link);
  await expect(shared.getByTestId('tab-compare')).toHaveAttribute('aria-selected', 'true');
  await expect(shared.getByTestId('compare-run')).toHaveCount(2);
  await expect(shared.locator('[data-testid="compare-row"][data-task="demo_sentiment"][data-metric="acc"] td').nth(2)).toHaveAttribute('data-value', String(acc));
  await shared.screenshot({ path: info.outputPath('compare-shared.png'), fullPage: true });
});

test('the permalink of a benchmark run opens in Compare with its settings', async ({ page, context, watched }) => {
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'benchmarks');
  await page.getByTestId('opt-limit').fill('10');
  await page.getByTestId('opt-seed').fill('42');
  const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
  await page.getByTestId('bench-run').click();
  await waitForRun(page, 'bench-status', before);
  await page.getByTestId('make-permalink').click();
  const link = await page.getByTestId('permalink').inputValue();
  const shared = await context.newPage();
  await shared.goto(link);
  await expect(shared.getByTestId('compare-run')).toHaveCount(1);
  await expect(shared.getByTestId('compare-run')).toHaveAttribute('title', /limit 10 · seed 42/);
});

test('a damaged link and a file that is not lm-eval results are named, and the page stays usable', async ({ page, watched }) => {
  await page.goto('/?backend=cpu#share=%7B%22view%22%3A');
  await expect(page.getByTestId('link-error')).toContainText('the link is damaged');
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'notes.json'), '{"hello": 1}');
  await page.getByTestId('import-lm-eval').setInputFiles(path.join(dir, 'notes.json'));
  await expect(page.getByTestId('import-error')).toContainText('notes.json: no `results` object');
  await expect(page.getByTestId('compare-empty')).toBeVisible();
  await openTab(page, 'models');
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
});

/** Runs a membership check of the target model on demo_sentiment with the bundled membership manifest; returns its detection rows. */
async function checkDemoTask(page) {
  await openTab(page, 'contamination');
  await page.getByTestId('mia-task').selectOption('demo_sentiment');
  await expect(page.getByTestId('manifest-url')).toHaveValue('models/tinyhelen-1m-contaminated/membership.jsonl');
  const before = Number(await page.getByTestId('mia-status').getAttribute('data-finished-runs'));
  await page.getByTestId('mia-run').click();
  expect(await waitForRun(page, 'mia-status', before)).toMatch(/^Done/);
  return page.getByTestId('detection-row').evaluateAll((rows) => rows.map((r) => ({ method: r.dataset.method, auroc: r.dataset.auroc })));
}

/** The legend entries of a chart: the texts that name a curve (they carry its AUROC). */
async function legendEntries(page, chart) {
  return page.getByTestId(chart).locator('svg text').evaluateAll((ts) => ts.map((t) => t.textContent.trim()).filter((t) => t.includes('(AUROC ')));
}

test('overlays the ROC curves of membership checks on a model and its contaminated twin, with the AUROCs of Contamination; permalinks carry them', async ({ page, context, watched }, info) => {
  await openReady(page, '/?backend=cpu', 'cpu');
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText('tinyhelen-1m · ');
  const clean = await checkDemoTask(page);

  await openTab(page, 'models');
  await page.getByTestId('target-builtin').selectOption('tinyhelen-1m-contaminated');
  await page.getByTestId('target-load-builtin').click();
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText('tinyhelen-1m-contaminated · ');
  const twin = await checkDemoTask(page);
  // Contamination's permalink: this check's numbers and curves, none of its texts.
  await page.getByTestId('mia-permalink').click();
  const checkLink = await page.getByTestId('mia-link').inputValue();
  const itemText = (await page.getByTestId('item-open').first().textContent()).trim();
  expect(decodeURIComponent(checkLink)).not.toContain(itemText.slice(0, 30));
  expect(clean.map((r) => r.method)).toEqual(['loss', 'zlib', 'mink', 'minkpp']);
  expect(twin.map((r) => r.method)).toEqual(clean.map((r) => r.method));

  await openTab(page, 'compare');
  // The table: both checks, every method, the AUROC Contamination showed (the same number, to the last digit).
  const rows = await page.getByTestId('compare-detection-row').evaluateAll((rs) => rs.map((r) => ({ model: r.dataset.model, method: r.dataset.method, auroc: r.dataset.auroc })));
  expect(rows).toEqual([
    ...clean.map((r) => ({ model: 'tinyhelen-1m', ...r })),
    ...twin.map((r) => ({ model: 'tinyhelen-1m-contaminated', ...r })),
  ]);
  // The chart: one curve per check and method, each named in the legend with its AUROC.
  const legendFor = (model, rs) => rs.map((r) => `${model} on demo_sentiment · ${r.method} (AUROC ${Number(r.auroc).toFixed(3)})`);
  const chart = page.getByTestId('chart-compare-roc');
  await expect(chart.locator('svg')).toBeVisible();
  expect(await legendEntries(page, 'chart-compare-roc')).toEqual([...legendFor('tinyhelen-1m', clean), ...legendFor('tinyhelen-1m-contaminated', twin)]);
  await page.screenshot({ path: info.outputPath('compare-roc.png'), fullPage: true });

  // Only Min-K%: two curves, the clean model's solid (one polyline) and the twin's dashed (many short ones).
  for (const m of ['loss', 'zlib', 'minkpp']) await page.getByTestId(`compare-show-method-${m}`).uncheck();
  const mink = (rs) => rs.filter((r) => r.method === 'mink');
  expect(await legendEntries(page, 'chart-compare-roc')).toEqual([...legendFor('tinyhelen-1m', mink(clean)), ...legendFor('tinyhelen-1m-contaminated', mink(twin))]);
  const strokes = await chart.locator('svg polyline[stroke-width="3"]').evaluateAll((ps) => ps.map((p) => p.getAttribute('points').trim().split(/\s+/).length));
  // Legend marks: 2 points each (one for the solid curve, two for the dashed); the solid curve has every ROC point.
  expect(strokes.filter((n) => n > 2).length).toBeGreaterThanOrEqual(1);
  expect(strokes.length).toBeGreaterThan(4);
  // Without the twin's check, one curve is left.
  await page.getByTestId('compare-show-run-1').uncheck();
  expect(await legendEntries(page, 'chart-compare-roc')).toEqual(legendFor('tinyhelen-1m', mink(clean)));
  await page.getByTestId('compare-show-run-1').check();

  // Saved like the other charts.
  const svg = (await downloadFrom(page, 'save-svg-compare-roc')).bytes.toString('utf8');
  expect(svg).toContain('tinyhelen-1m-contaminated on demo_sentiment · mink');
  expect(svg).toContain('false positive rate');
  const png = (await downloadFrom(page, 'save-png-compare-roc')).bytes;
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');

  // Compare's permalink carries both checks. Each link reopens its checks on its own: the same
  // AUROCs to the last digit, the same legend, the counts of members; the curves thinned but whole.
  await page.getByTestId('compare-permalink').click();
  const link = await page.getByTestId('compare-link').inputValue();
  expect(decodeURIComponent(link)).not.toContain(itemText.slice(0, 30));
  expect(link.length).toBeLessThan(60000);
  const members = await page.getByTestId('compare-detection-row').first().locator('td').first().getAttribute('title');
  expect(members).toMatch(/^k = 0.2 · \d+ members, \d+ non-members$/);
  for (const [url, models, checks] of [
    [checkLink, ['tinyhelen-1m-contaminated'], [twin]],
    [link, ['tinyhelen-1m', 'tinyhelen-1m-contaminated'], [clean, twin]],
  ]) {
    const shared = await context.newPage();
    shared.on('console', (msg) => msg.type() === 'error' && watched.consoleErrors.push(msg.text()));
    await shared.goto(url);
    await expect(shared.getByTestId('tab-compare')).toHaveAttribute('aria-selected', 'true');
    await expect(shared.getByTestId('compare-detections')).toBeVisible();
    const sharedRows = await shared.getByTestId('compare-detection-row').evaluateAll((rs) => rs.map((r) => ({ model: r.dataset.model, method: r.dataset.method, auroc: r.dataset.auroc })));
    expect(sharedRows).toEqual(models.flatMap((model, i) => checks[i].map((r) => ({ model, ...r }))));
    // Both checks are of the same texts: the same counts.
    await expect(shared.getByTestId('compare-detection-row').first().locator('td').first()).toHaveAttribute('title', members);
    expect(await legendEntries(shared, 'chart-compare-roc')).toEqual(models.flatMap((model, i) => legendFor(model, checks[i])));
    const points = await shared.getByTestId('chart-compare-roc').locator('svg polyline[stroke-width="3"]').evaluateAll((ps) => ps.map((p) => p.getAttribute('points').trim().split(/\s+/).length));
    expect(Math.max(...points)).toBeGreaterThan(10);
    await shared.screenshot({ path: info.outputPath(`compare-roc-shared-${models.length}.png`), fullPage: true });
    await shared.close();
  }
});
