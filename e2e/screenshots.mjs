// Takes the README's screenshots of a running site, as a visitor sees it.
// Usage: node screenshots.mjs [site URL] [output folder]
import { chromium } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

const site = process.argv[2] ?? 'http://127.0.0.1:8080/';
const out = path.resolve(process.argv[3] ?? path.join(import.meta.dirname, '..', 'docs', 'screenshots'));
const repo = path.join(import.meta.dirname, '..');

// Leaner-Eval's questions and the Leaner-Pretrain train files (the Leaner vocabulary), picked as files.
const tinyhelen = path.resolve(repo, '..', 'shared', 'data', 'tinyhelen');
const leanerTrain = path.join(tinyhelen, 'data', 'leaner', '10M', 'train');
const haveTinyhelen = fs.existsSync(leanerTrain);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});

async function finished(page, statusId) {
  const status = page.getByTestId(statusId);
  const before = Number(await status.getAttribute('data-finished-runs'));
  return () => page.waitForFunction(([id, n]) => Number(document.querySelector(`[data-testid="${id}"]`).dataset.finishedRuns) > n, [statusId, before], { timeout: 300_000 });
}

for (const [suffix, viewport] of [['', { width: 1280, height: 720 }], ['-phone', { width: 390, height: 844 }]]) {
  const page = await browser.newPage({ viewport });
  await page.goto(site);
  await page.getByTestId('model-status').locator('[data-ready="true"]').waitFor({ timeout: 120_000 });
  await page.screenshot({ path: path.join(out, `models${suffix}.png`), fullPage: true });

  await page.getByTestId('tab-benchmarks').click();
  await page.getByTestId('opt-limit').fill('60');
  let done = await finished(page, 'bench-status');
  await page.getByTestId('bench-run').click();
  await done();
  await page.getByTestId('results-table').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(out, `benchmarks${suffix}.png`), fullPage: true });

  if (haveTinyhelen) {
    await page.getByTestId('tab-leaner-eval').click();
    await page.getByTestId('le-questions-upload').setInputFiles(path.join(tinyhelen, 'data', 'leaner', 'eval', 'all.jsonl'));
    await page.getByTestId('le-train-upload').setInputFiles(fs.readdirSync(leanerTrain).filter((f) => f.endsWith('.jsonl')).map((f) => path.join(leanerTrain, f)));
    await page.getByTestId('le-opt-limit').fill('4');
    await page.getByTestId('le-opt-max-tokens').fill('48');
    done = await finished(page, 'le-status');
    await page.getByTestId('le-run').click();
    await done();
    await page.getByTestId('le-response').first().getByTestId('le-rate-grammar').selectOption('3');
    await page.screenshot({ path: path.join(out, `leaner-eval${suffix}.png`), fullPage: true });
  } else {
    console.log(`no TinyHelen data at ${tinyhelen}: no Leaner-Eval screenshot`);
  }

  // Contamination: demo_sentiment with the bundled membership manifest, checked
  // on tinyhelen-1m and then on its contaminated twin (Compare overlays both).
  const check = async () => {
    await page.getByTestId('tab-contamination').click();
    await page.getByTestId('mia-task').selectOption('demo_sentiment');
    done = await finished(page, 'mia-status');
    await page.getByTestId('mia-run').click();
    await done();
  };
  await check();
  await page.getByTestId('tab-models').click();
  await page.getByTestId('target-builtin').selectOption('tinyhelen-1m-contaminated');
  await page.getByTestId('target-load-builtin').click();
  await page.getByTestId('model-status').locator('[data-ready="true"]', { hasText: 'tinyhelen-1m-contaminated' }).waitFor({ timeout: 120_000 });
  await check();
  await page.getByTestId('item-open').first().click();
  await page.screenshot({ path: path.join(out, `contamination${suffix}.png`), fullPage: true });

  await page.getByTestId('text-input').fill('Once upon a time, a little girl found a red ball in the park.');
  done = await finished(page, 'run-status');
  await page.getByTestId('score-button').click();
  await done();
  await page.getByTestId('heatmap').last().scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(out, `passage${suffix}.png`), fullPage: true });

  await page.getByTestId('tab-compare').click();
  await page.getByTestId('compare-permalink').click();
  await page.screenshot({ path: path.join(out, `compare${suffix}.png`), fullPage: true });
  console.log(`wrote the${suffix || ' desktop'} screenshots to ${out}`);
  await page.close();
}
await browser.close();
