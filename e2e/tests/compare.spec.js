// Compare and share: lm-eval-harness results imported beside the page's own
// run, as a table and grouped bars; a permalink carries settings and scores
// (never texts) and reopens the comparison on its own; bad files and damaged
// links say so.
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, openReady, openTab, tempDir, waitForRun } from './fixtures.js';

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
