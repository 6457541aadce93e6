// Contamination, as a new user checks a model: a labelled set (WikiMIA
// format) or a benchmark task with a membership manifest; methods and k;
// AUROC and TPR at low FPR per method (equal to `tinyeval detect`'s), ROC
// curves, histograms, items ranked by score with a token heat map marking the
// lowest k%; a pasted passage checked on its own.
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, openReady, openTab, runCli, tempDir, defaultModel, repoRoot, waitForRun, downloadFrom } from './fixtures.js';

const demoDocs = (task) =>
  fs.readFileSync(path.join(repoRoot, 'public', 'tasks', 'demo', `${task}_test.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/** 40 demo sentences, every third one labelled a member. */
function labelledSet() {
  const dir = tempDir();
  const file = path.join(dir, 'wikimia.jsonl');
  const rows = demoDocs('demo_sentiment').slice(0, 40).map((d, i) => ({ input: d.sentence, label: i % 3 === 0 ? 1 : 0 }));
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { dir, file, rows };
}

async function runCheck(page) {
  const before = Number(await page.getByTestId('mia-status').getAttribute('data-finished-runs'));
  await page.getByTestId('mia-run').click();
  expect(await waitForRun(page, 'mia-status', before)).toMatch(/^Done/);
}

async function detectionRows(page) {
  return page.getByTestId('detection-row').evaluateAll((rows) =>
    rows.map((r) => ({ method: r.dataset.method, auroc: Number(r.dataset.auroc), tpr1: Number(r.dataset.tpr1), tpr5: Number(r.dataset.tpr5) })),
  );
}

for (const [name, query, backend] of [
  ['CPU', '/?backend=cpu', 'cpu'],
  ['WebGPU', '/?backend=webgpu', 'webgpu'],
]) {
  test(`checks a labelled set on ${name}: AUROC and TPR equal tinyeval detect's; ROC, histogram, ranking and heat map; in Compare and by permalink`, async ({ page, context, watched }, info) => {
    const set = labelledSet();
    await openReady(page, query, backend);
    await openTab(page, 'contamination');
    await page.getByTestId('source-labelled').check();
    await page.getByTestId('labelled-upload').setInputFiles(set.file);
    await expect(page.getByTestId('labelled-info')).toHaveText('wikimia.jsonl: 40 texts, 14 members');
    await page.getByTestId('method-lowercase').check();
    await page.getByTestId('mia-k').fill('0.3');
    await runCheck(page);

    const rows = await detectionRows(page);
    expect(rows.map((r) => r.method)).toEqual(['loss', 'zlib', 'lowercase', 'mink', 'minkpp']);
    const out = path.join(set.dir, 'out');
    runCli(['detect', '--model', defaultModel, '--data', set.file, '--methods', 'loss,zlib,lowercase,mink,minkpp', '--k', '0.3', '--output_path', out]);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    const cliMetrics = (m) => summary.methods?.[m] ?? summary[m] ?? summary.metrics?.[m];
    // One swap of two near-equal scores moves AUROC by 1/(members × non-members) at most.
    const oneSwap = 1 / (14 * 26);
    for (const r of rows) {
      const want = cliMetrics(r.method);
      expect(want, `CLI summary for ${r.method}: ${JSON.stringify(Object.keys(summary))}`).toBeTruthy();
      expect(Math.abs(r.auroc - want.auroc), `${r.method} AUROC ${r.auroc} vs ${want.auroc}`).toBeLessThanOrEqual(oneSwap + 1e-12);
    }
    console.log(`${name}: AUROC ${rows.map((r) => `${r.method} ${r.auroc.toFixed(4)}`).join(', ')}`);

    await expect(page.getByTestId('chart-roc').locator('svg')).toBeVisible();
    await expect(page.getByTestId('chart-roc')).toContainText('mink (AUROC');
    await expect(page.getByTestId('chart-histogram')).toContainText('non-members');
    // Ranking: highest score first.
    await page.getByTestId('shown-method').selectOption('mink');
    const scores = await page.getByTestId('item-row').evaluateAll((rs) => rs.map((r) => Number(r.dataset.score)));
    expect(scores.length).toBe(40);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // Heat map of the top item: the lowest 30% of its tokens are marked.
    await page.getByTestId('item-open').first().click();
    const chips = page.getByTestId('heatmap').first().locator('.chip');
    const n = (await chips.count()) - 1;
    await expect(page.getByTestId('heatmap').first().locator('.chip.lowk')).toHaveCount(Math.max(1, Math.floor(n * 0.3)));
    await page.screenshot({ path: info.outputPath(`contamination-${backend}.png`), fullPage: true });
    const roc = await downloadFrom(page, 'save-svg-roc');
    expect(roc.bytes.toString('utf8')).toContain('false positive rate');

    // The check joins Compare, and its permalink reopens it there on its own: the same
    // AUROCs to the last digit, the counts of members, and none of the texts.
    const exact = await page.getByTestId('detection-row').evaluateAll((rs) => rs.map((r) => ({ method: r.dataset.method, auroc: r.dataset.auroc })));
    await page.getByTestId('mia-permalink').click();
    const link = await page.getByTestId('mia-link').inputValue();
    for (const r of set.rows) expect(decodeURIComponent(link)).not.toContain(r.input);
    await openTab(page, 'compare');
    const shared = await context.newPage();
    shared.on('console', (msg) => msg.type() === 'error' && watched.consoleErrors.push(msg.text()));
    for (const view of [page, shared]) {
      if (view === shared) await shared.goto(link);
      await expect(view.getByTestId('tab-compare')).toHaveAttribute('aria-selected', 'true');
      const compared = await view.getByTestId('compare-detection-row').evaluateAll((rs) => rs.map((r) => ({ model: r.dataset.model, method: r.dataset.method, auroc: r.dataset.auroc })));
      expect(compared).toEqual(exact.map((r) => ({ model: 'tinyhelen-1m', ...r })));
      await expect(view.getByTestId('compare-detection-row').first().locator('td').first()).toHaveAttribute('title', 'k = 0.3 · 14 members, 26 non-members');
      await expect(view.getByTestId('chart-compare-roc')).toContainText('tinyhelen-1m on wikimia.jsonl · mink (AUROC');
    }
    await shared.screenshot({ path: info.outputPath(`contamination-shared-${backend}.png`), fullPage: true });
    await shared.close();
  });
}

test('checks a benchmark task with a membership manifest; a bad manifest line is named', async ({ page, watched }, info) => {
  const dir = tempDir();
  const docs = demoDocs('demo_yesno').slice(0, 30);
  const manifest = docs.map((d, i) => ({ task: 'demo_yesno', split: 'test', idx: d.idx, member: i % 2 }));
  fs.writeFileSync(path.join(dir, 'membership.jsonl'), manifest.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'contamination');
  await page.getByTestId('mia-task').selectOption('demo_yesno');
  await page.getByTestId('manifest-upload').setInputFiles(path.join(dir, 'membership.jsonl'));
  await runCheck(page);
  await expect(page.getByTestId('mia-status')).toHaveText('Done: 30 texts (15 members) checked with 4 method(s)');
  const rows = await detectionRows(page);
  expect(rows.map((r) => r.method)).toEqual(['loss', 'zlib', 'mink', 'minkpp']);
  for (const r of rows) expect(r.auroc).toBeGreaterThanOrEqual(0);
  // The ranked items are the rendered prompts with their gold answers.
  await expect(page.getByTestId('item-row').first()).toContainText('Question:');
  await page.screenshot({ path: info.outputPath('contamination-manifest.png'), fullPage: true });

  fs.writeFileSync(path.join(dir, 'bad.jsonl'), JSON.stringify(manifest[0]) + '\n{"task": "demo_yesno", "split": "test"}\n');
  await page.getByTestId('manifest-upload').setInputFiles(path.join(dir, 'bad.jsonl'));
  const before = Number(await page.getByTestId('mia-status').getAttribute('data-finished-runs'));
  await page.getByTestId('mia-run').click();
  expect(await waitForRun(page, 'mia-status', before)).toMatch(/^Error: bad\.jsonl: line 2/);
  // The last results stay on the page.
  await expect(page.getByTestId('detection-row')).toHaveCount(4);
});

test('checks a pasted passage: detection scores and the lowest k% of tokens marked', async ({ page, watched }) => {
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'contamination');
  await page.getByTestId('text-input').fill('Once upon a time, a little girl found a red ball in the park. She was very happy.');
  await page.getByTestId('passage-k').fill('0.1');
  await page.getByTestId('score-button').click();
  await expect(page.getByTestId('run-status')).toHaveText(/^Done/);
  const lps = await page.getByTestId('token-row').evaluateAll((rs) => rs.map((r) => r.dataset.logprob).filter((x) => x !== '').map(Number));
  const k = Math.max(1, Math.floor(lps.length * 0.1));
  await expect(page.getByTestId('heatmap').locator('.chip.lowk')).toHaveCount(k);
  const mink = Number(await page.getByTestId('passage-scores').locator('tr[data-method="mink"]').getAttribute('data-score'));
  const lowest = [...lps].sort((a, b) => a - b).slice(0, k);
  expect(mink).toBeCloseTo(lowest.reduce((a, b) => a + b, 0) / k, 5);
  const loss = Number(await page.getByTestId('passage-scores').locator('tr[data-method="loss"]').getAttribute('data-score'));
  expect(loss).toBeCloseTo(lps.reduce((a, b) => a + b, 0) / lps.length, 5);
});
