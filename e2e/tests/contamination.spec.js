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

// The CPU only: the charts, Compare and the permalink do not depend on the
// backend, and detection's numbers on WebGPU are checked by the ReCaLL and
// DC-PDD test below and the dose-response test (this leg took 1.3 min on SwiftShader).
for (const [name, query, backend] of [
  ['CPU', '/?backend=cpu', 'cpu'],
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

/** Writes `rows` ({input, label}) as a labelled set; returns its path and counts. */
function writeSet(name, rows) {
  const dir = tempDir();
  const file = path.join(dir, name);
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { dir, file, rows, members: rows.filter((r) => r.label === 1).length };
}

const frequencies = path.join('public', 'data', 'token_frequencies_gpt-2K_leaner-pretrain-10M-train.json');

// ReCaLL reads every text after a prefix: on the software WebGPU adapter the set is small and short.
for (const [name, query, backend, size] of [
  ['CPU', '/?backend=cpu', 'cpu', 40],
  ['WebGPU', '/?backend=webgpu', 'webgpu', 20],
]) {
  test(`checks a labelled set with ReCaLL and DC-PDD on ${name}: every method's AUROC and the blind baseline's equal tinyeval detect's; AUROC against k`, async ({ page, watched }, info) => {
    const docs = demoDocs('demo_sentiment').slice(0, size);
    const text = (d) => (backend === 'webgpu' ? d.sentence.split('. ')[0] + '.' : d.sentence);
    const set = writeSet('recall.jsonl', docs.map((d, i) => ({ input: text(d), label: i % 3 === 0 ? 1 : 0 })));
    await openReady(page, query, backend);
    await openTab(page, 'contamination');
    await page.getByTestId('source-labelled').check();
    await page.getByTestId('labelled-upload').setInputFiles(set.file);
    await expect(page.getByTestId('labelled-info')).toHaveText(`recall.jsonl: ${size} texts, ${set.members} members`);
    await expect(page.getByTestId('recall-shots')).toBeHidden();
    await page.getByTestId('method-recall').check();
    await page.getByTestId('method-dcpdd').check();
    await expect(page.getByTestId('recall-shots')).toHaveValue('4');
    await expect(page.getByTestId('dcpdd-note')).toContainText('bundled with the site');
    await runCheck(page);

    // The prefix: the first 4 non-members, left out of the check.
    const shots = set.rows.map((r, i) => [r, String(i + 1)]).filter(([r]) => r.label === 0).slice(0, 4).map(([, line]) => line);
    await expect(page.getByTestId('recall-prefix-info')).toHaveAttribute('data-count', '4');
    await expect(page.getByTestId('recall-prefix-info')).toContainText(`(${shots.join(', ')})`);
    const checked = size - 4;
    await expect(page.getByTestId('mia-status')).toHaveText(`Done: ${checked} texts (${set.members} members) checked with 6 method(s)`);

    const rows = await detectionRows(page);
    expect(rows.map((r) => r.method)).toEqual(['loss', 'zlib', 'mink', 'minkpp', 'recall', 'dcpdd']);
    const out = path.join(set.dir, 'out');
    runCli(['detect', '--model', defaultModel, '--data', set.file, '--methods', 'loss,zlib,mink,minkpp,recall,dcpdd', '--recall_shots', '4',
      '--frequencies', frequencies, '--output_path', out]);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.recall_prefix.items).toEqual(shots);
    expect(summary.n).toBe(checked);
    const oneSwap = 1 / (set.members * (checked - set.members));
    for (const r of rows) {
      const want = summary.methods[r.method];
      expect(want, `CLI summary for ${r.method}`).toBeTruthy();
      expect(Math.abs(r.auroc - want.auroc), `${r.method} AUROC ${r.auroc} vs ${want.auroc}`).toBeLessThanOrEqual(oneSwap + 1e-12);
    }
    // The blind baseline never sees the model: the same folds and the same numbers.
    const blind = Number(await page.getByTestId('blind-row').getAttribute('data-auroc'));
    expect(Math.abs(blind - summary.blind_baseline.metrics.auroc), `blind ${blind} vs ${summary.blind_baseline.metrics.auroc}`).toBeLessThanOrEqual(1e-9);
    await expect(page.getByTestId('blind-warning')).toHaveCount(summary.warning ? 1 : 0);
    console.log(`${name}: AUROC ${rows.map((r) => `${r.method} ${r.auroc.toFixed(4)}`).join(', ')}, blind ${blind.toFixed(4)}`);

    await expect(page.getByTestId('chart-roc')).toContainText('blind baseline (AUROC');
    await expect(page.getByTestId('chart-roc')).toContainText('recall (AUROC');
    const sweep = page.getByTestId('chart-k-sweep');
    await expect(sweep.locator('svg')).toBeVisible();
    await expect(sweep).toContainText('AUROC against k');
    for (const m of ['mink', 'minkpp']) await expect(sweep).toContainText(m);
    // One line per method (legend marks have 2 points), 11 values of k each.
    const lines = await sweep.locator('svg polyline[stroke-width="3"]').evaluateAll((ps) => ps.map((p) => p.getAttribute('points').trim().split(/\s+/).length));
    expect(lines.filter((n) => n === summary.k_sweep[0].k.length)).toHaveLength(2);
    await page.getByTestId('chart-k-sweep').scrollIntoViewIfNeeded();
    await page.screenshot({ path: info.outputPath(`contamination-recall-${backend}.png`), fullPage: true });
  });
}

test('DC-PDD on a model of another vocabulary needs a corpus of its own: counted on the page as tinyeval detect counts it', async ({ page, watched }) => {
  // llama-sp: a random reference model with a SentencePiece vocabulary of 1000 (the bundled counts are gpt-2K's 2000).
  const model = path.join(repoRoot, 'core', 'tests', 'fixtures', 'models', 'llama-sp');
  const docs = demoDocs('demo_sentiment');
  const set = writeSet('sp.jsonl', docs.slice(0, 20).map((d, i) => ({ input: d.sentence, label: i % 2 })));
  const corpus = path.join(set.dir, 'corpus.jsonl');
  fs.writeFileSync(corpus, docs.slice(100, 160).map((d) => JSON.stringify({ text: d.sentence })).join('\n') + '\n');
  await openReady(page, `/?backend=cpu&model=${encodeURIComponent('fixtures/models/llama-sp/')}`, 'cpu');
  await openTab(page, 'contamination');
  await page.getByTestId('source-labelled').check();
  await page.getByTestId('labelled-upload').setInputFiles(set.file);
  for (const m of ['zlib', 'mink', 'minkpp']) await page.getByTestId(`method-${m}`).uncheck();
  await page.getByTestId('method-dcpdd').check();
  await expect(page.getByTestId('dcpdd-note')).toContainText("This model's vocabulary has 1000 tokens");
  await expect(page.getByTestId('dcpdd-note')).toContainText('DC-PDD needs a corpus of its own');
  const before = Number(await page.getByTestId('mia-status').getAttribute('data-finished-runs'));
  await page.getByTestId('mia-run').click();
  expect(await waitForRun(page, 'mia-status', before)).toMatch(/^Error: dcpdd: This model's vocabulary has 1000 tokens/);
  await page.getByTestId('dcpdd-corpus').setInputFiles(corpus);
  await expect(page.getByTestId('dcpdd-note')).toContainText('corpus.jsonl (counted with the target model');
  await runCheck(page);
  const rows = await detectionRows(page);
  expect(rows.map((r) => r.method)).toEqual(['loss', 'dcpdd']);
  const out = path.join(set.dir, 'out');
  runCli(['detect', '--model', model, '--data', set.file, '--methods', 'loss,dcpdd', '--frequencies', corpus, '--output_path', out]);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  for (const r of rows) expect(Math.abs(r.auroc - summary.methods[r.method].auroc), r.method).toBeLessThanOrEqual(1 / 100 + 1e-12);
});

test('warns when the blind baseline tells members from non-members by their words alone', async ({ page, watched }, info) => {
  const castles = ['old', 'tall', 'stone', 'grey', 'quiet', 'big', 'dark', 'cold', 'high', 'royal', 'empty', 'red'];
  const phones = ['new', 'small', 'black', 'cheap', 'loud', 'thin', 'smart', 'broken', 'blue', 'white', 'fast', 'old'];
  const rows = [
    ...castles.map((w) => ({ input: `The ${w} castle stood on the hill. Its towers and walls were made of stone.`, label: 1 })),
    ...phones.map((w) => ({ input: `My ${w} phone rang in my bag. I looked at the screen and the battery.`, label: 0 })),
  ];
  const set = writeSet('castles.jsonl', rows);
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'contamination');
  await page.getByTestId('source-labelled').check();
  await page.getByTestId('labelled-upload').setInputFiles(set.file);
  await runCheck(page);
  await expect(page.getByTestId('detection-row')).toHaveCount(4);
  const blind = Number(await page.getByTestId('blind-row').getAttribute('data-auroc'));
  expect(blind).toBeGreaterThanOrEqual(0.9);
  await expect(page.getByTestId('blind-warning')).toBeVisible();
  await expect(page.getByTestId('blind-warning')).toContainText('the blind baseline, which never sees the model, reaches AUROC');
  await page.screenshot({ path: info.outputPath('contamination-blind-warning.png'), fullPage: true });
});

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

// WebGPU here is a slow software adapter: a smaller slice of the manifest there.
for (const [name, query, backend, limit] of [
  ['CPU', '/?backend=cpu', 'cpu', 120],
  ['WebGPU', '/?backend=webgpu', 'webgpu', 36],
]) test(`the dose response of the dose-response twin on a demo task equals tinyeval contamination's on ${name}: a table per exposure count and AUROC against exposures`, async ({ page, watched }, info) => {
  const model = 'tinyhelen-1m-dose';
  const manifest = path.join(repoRoot, 'public', 'models', model, 'membership.jsonl');
  await openReady(page, query, backend);
  await page.getByTestId('target-builtin').selectOption(model);
  await page.getByTestId('target-load-builtin').click();
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText(`${model} · `);
  await openTab(page, 'contamination');
  // The manifest follows the target model when it has one.
  await expect(page.getByTestId('manifest-url')).toHaveValue(`models/${model}/membership.jsonl`);
  await page.getByTestId('mia-task').selectOption('demo_sentiment');
  await page.getByTestId('mia-limit').fill(String(limit));
  await runCheck(page);

  const rows = await page.getByTestId('dose-row').evaluateAll((rs) =>
    rs.map((r) => ({
      count: Number(r.dataset.count),
      members: Number(r.dataset.members),
      held_out: Number(r.dataset.heldOut),
      aurocs: [...r.querySelectorAll('[data-testid="dose-cell"]')].map((c) => [c.dataset.method, Number(c.dataset.auroc)]),
    })),
  );
  const dir = tempDir();
  runCli(['contamination', '--model', path.join(repoRoot, 'public', 'models', model), '--tasks', 'demo_sentiment', '--manifest', manifest,
    '--methods', 'loss,zlib,mink,minkpp', '--limit', String(limit), '--output_path', dir]);
  const want = JSON.parse(fs.readFileSync(path.join(dir, 'contamination_summary.json'), 'utf8')).tasks.demo_sentiment.dose_response;
  expect(want.length).toBeGreaterThan(1);
  expect(rows.map((r) => [r.count, r.members, r.held_out])).toEqual(want.map((r) => [r.count, r.members, r.held_out]));
  for (const [i, r] of rows.entries()) {
    expect(r.aurocs.map(([m]) => m)).toEqual(want[i].aurocs.map(([m]) => m));
    const oneSwap = 1 / (r.members * r.held_out);
    for (const [j, [m, a]] of r.aurocs.entries()) {
      expect(Math.abs(a - want[i].aurocs[j][1]), `${r.count}x ${m}: ${a} vs ${want[i].aurocs[j][1]}`).toBeLessThanOrEqual(oneSwap + 1e-12);
    }
  }
  console.log(`dose response (mink): ${rows.map((r) => `${r.count}x ${r.aurocs.find(([m]) => m === 'mink')[1].toFixed(3)}`).join(', ')}`);
  const chart = page.getByTestId('chart-dose');
  await expect(chart.locator('svg')).toBeVisible();
  await expect(chart).toContainText('AUROC against exposures');
  for (const r of rows) await expect(chart).toContainText(`${r.count}×`);
  const lines = await chart.locator('svg polyline[stroke-width="3"]').evaluateAll((ps) => ps.map((p) => p.getAttribute('points').trim().split(/\s+/).length));
  expect(lines.filter((n) => n === rows.length)).toHaveLength(4);
  await chart.scrollIntoViewIfNeeded();
  await page.screenshot({ path: info.outputPath(`contamination-dose-${backend}.png`), fullPage: true });
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
