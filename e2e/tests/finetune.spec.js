// Fine-tuning in the page against PyTorch: scripts/make_finetune_goldens.py ran
// the same protocol (weights, head, batches, AdamW, schedule, clipping) in
// PyTorch + transformers on the llama-gqa reference model. The page, given the
// golden's items as Leaner-GLUE files by a stub server and the same settings
// typed into the form, must log the same per-step losses (within 1e-4 relative)
// and validation metrics within one stderr, on WebGPU and on the CPU.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, expect, repoRoot, backends, openTab, downloadFrom } from './fixtures.js';

const golden = JSON.parse(fs.readFileSync(path.join(repoRoot, 'core/tests/fixtures/finetune_goldens.json'), 'utf8'));
const modelUrl = `fixtures/${path.relative(path.join(repoRoot, 'core/tests/fixtures'), path.join(repoRoot, golden.model))}/`;
// Each task's text fields, joined by "\n" into the golden's `text` (the probe's convention).
const fields = { cola: ['sentence'], stsb: ['sentence1', 'sentence2'] };

/** The golden case's items as Leaner-GLUE JSONL files (test = validation: only validation is compared). */
function leanerFiles(name, c) {
  const jsonl = (items) =>
    items
      .map((it) => {
        const parts = it.text.split('\n');
        expect(parts.length, `${name}: a text with ${fields[c.task].length} fields`).toBe(fields[c.task].length);
        return JSON.stringify({ ...Object.fromEntries(fields[c.task].map((f, i) => [f, parts[i]])), label: it.label });
      })
      .join('\n') + '\n';
  const dir = '/data/leaner/glue';
  return {
    [`${dir}/${c.task}_train.jsonl`]: jsonl(c.train),
    [`${dir}/${c.task}_validation.jsonl`]: jsonl(c.validation),
    [`${dir}/${c.task}_test.jsonl`]: jsonl(c.validation),
  };
}

async function serveFiles(files) {
  const server = http.createServer((req, res) => {
    const body = files[new URL(req.url, 'http://x').pathname];
    res.writeHead(body === undefined ? 404 : 200, { 'access-control-allow-origin': '*' }).end(body ?? 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** Types the case's settings into the fine-tuning form, with only its task chosen. */
async function fillForm(page, c, base) {
  await page.getByTestId('tinyhelen-base').fill(base);
  for (const box of await page.locator('[data-testid^="finetune-task-"]').all()) await box.uncheck();
  await page.getByTestId(`finetune-task-${c.task}`).check();
  const o = c.options;
  const set = { 'ft-lrs': o.learning_rate, 'ft-seeds': o.seed, 'ft-epochs': o.epochs, 'ft-batch': o.batch_size, 'ft-max-length': o.max_length, 'ft-limit': '' };
  for (const [id, v] of Object.entries(set)) await page.getByTestId(id).fill(String(v));
  const optimiser = page.getByTestId('ft-optimiser');
  if (!(await optimiser.evaluate((d) => d.open))) await optimiser.locator('summary').click();
  const more = { 'ft-weight-decay': o.weight_decay, 'ft-warmup': o.warmup_ratio, 'ft-clip': o.max_grad_norm, 'ft-head-std': o.head_init_std };
  for (const [id, v] of Object.entries(more)) await page.getByTestId(id).fill(String(v));
}

async function fineTune(page) {
  const status = page.getByTestId('finetune-status');
  const before = Number(await status.getAttribute('data-finished-runs'));
  await page.getByTestId('finetune-run').click();
  // CoLA's 64 steps take about 1.5 min on SwiftShader here; a slower CI machine gets room.
  await expect(status).toHaveAttribute('data-finished-runs', String(before + 1), { timeout: 480_000 });
  await expect(status).toHaveText(/^Done: 1 task\(s\) fine-tuned/);
}

for (const [label, query, backend] of backends) {
  test(`fine-tuning on ${label} equals PyTorch step by step; its scores join Compare and a permalink`, async ({ page, context, watched }) => {
    test.setTimeout(1_000_000);
    await page.goto(`${query}&model=${encodeURIComponent(modelUrl)}`);
    await expect(page.getByTestId('backend-label')).toHaveAttribute('data-backend', backend);
    await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
    await openTab(page, 'benchmarks');
    for (const [name, c] of Object.entries(golden.cases)) {
      const server = await serveFiles(leanerFiles(name, c));
      watched.allowedOrigins.push(server.origin);
      try {
        await fillForm(page, c, server.origin);
        await fineTune(page);
      } finally {
        await server.close();
      }
      // The per-step losses, as the page's loss log has them.
      const log = (await downloadFrom(page, 'finetune-export-loss')).bytes.toString().trim().split('\n').map((l) => JSON.parse(l));
      expect(log.length, `${name}: steps`).toBe(c.steps.length);
      let worst = 0;
      for (const [i, s] of log.entries()) {
        const theirs = c.steps[i];
        expect(s.step).toBe(i + 1);
        expect(Math.abs(s.lr - theirs.lr)).toBeLessThanOrEqual(1e-12 * Math.max(theirs.lr, 1e-12));
        const rel = Math.abs(s.loss - theirs.loss) / Math.max(Math.abs(theirs.loss), 1e-12);
        worst = Math.max(worst, rel);
        expect.soft(rel, `${name} step ${i + 1}: loss ${s.loss} vs PyTorch ${theirs.loss}`).toBeLessThanOrEqual(1e-4);
      }
      // Validation metrics within one stderr of PyTorch's (the page's bootstrap stderr).
      const rows = await page.getByTestId('finetune-row').evaluateAll((rs) => rs.map((r) => ({ ...r.dataset })));
      const validation = rows.filter((r) => r.split === 'validation');
      expect(validation.length).toBe(Object.keys(c.validation_metrics).length);
      const shown = [];
      for (const r of validation) {
        const theirs = c.validation_metrics[r.metric];
        const [value, stderr] = [Number(r.value), Number(r.stderr)];
        expect(r.stderr !== '' && Number.isFinite(stderr) && stderr >= 0, `${name} ${r.metric}: a stderr`).toBe(true);
        // (CoLA's tiny run predicts one class on both sides: MCC 0 with a bootstrap stderr of 0, so equal.)
        expect.soft(Math.abs(value - theirs), `${name} ${r.metric}: ${value} vs PyTorch ${theirs} (stderr ${stderr})`).toBeLessThanOrEqual(stderr + 1e-12);
        shown.push(`${r.metric} ${value.toFixed(4)} (PyTorch ${theirs.toFixed(4)}, ± ${stderr.toFixed(4)})`);
      }
      console.log(`${name} on ${label}: ${log.length} steps, max relative loss difference ${worst.toExponential(2)}; ${shown.join(', ')}`);
      await expect(page.getByTestId('chart-finetune-loss').locator('svg')).toBeVisible();
    }
    // A permalink carries the last run's scores to a fresh page's Compare.
    await page.getByTestId('finetune-permalink-button').click();
    const link = await page.getByTestId('finetune-permalink').inputValue();
    expect(link).toContain('#');
    // The last run is in Compare, under the fine-tuning task's name.
    await openTab(page, 'compare');
    await expect(page.getByText(/fine-tuned stsb/).first()).toBeVisible();
    await expect(page.getByText('leaner_glue_finetune_stsb validation').first()).toBeVisible();
    await page.screenshot({ path: test.info().outputPath(`finetune-compare-${backend}.png`), fullPage: true });
    const fresh = await context.newPage();
    await fresh.goto(link);
    await expect(fresh.getByTestId('tab-compare')).toHaveAttribute('aria-selected', 'true');
    await expect(fresh.getByText('leaner_glue_finetune_stsb validation').first()).toBeVisible();
    await fresh.close();
  });
}

test('fine-tuning is cancelled within a second; bad settings are refused by name', async ({ page, watched }) => {
  const c = golden.cases.cola;
  await page.goto(`/?backend=cpu&model=${encodeURIComponent(modelUrl)}`);
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
  await openTab(page, 'benchmarks');
  const server = await serveFiles(leanerFiles('cola', c));
  watched.allowedOrigins.push(server.origin);
  try {
    await fillForm(page, c, server.origin);
    const status = page.getByTestId('finetune-status');
    await page.getByTestId('ft-lrs').fill('0.001, abc');
    await page.getByTestId('finetune-run').click();
    await expect(status).toHaveText('Error: learning rates: `abc` is not a number');
    await page.getByTestId('ft-lrs').fill('0.001');
    await page.getByTestId('ft-epochs').fill('500');
    await page.getByTestId('finetune-run').click();
    await expect(page.getByTestId('finetune-progress')).toBeVisible();
    await expect(status).toContainText(/steps\/s · about .* left/);
    // The loss curve grows while it trains.
    await expect(page.getByTestId('chart-finetune-loss').locator('svg')).toBeVisible();
    const started = Date.now();
    await page.getByTestId('finetune-cancel').click();
    await expect(status).toHaveText('Cancelled');
    const took = Date.now() - started;
    expect(took, 'cancel took (ms)').toBeLessThan(1000);
    await page.screenshot({ path: test.info().outputPath('finetune-cancelled.png'), fullPage: true });
  } finally {
    await server.close();
  }
});
