// Shared test fixtures: every page records console errors, uncaught exceptions
// and requests that leave the page's origin, and each test asserts none happened.
import { test as base, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const demoModel = path.join(repoRoot, 'public', 'models', 'llama-2k-1m-random');
/** The page loads this model ahead of the transformers goldens' llama-2k-1m-random. */
export const demoModelQuery = 'model=models/llama-2k-1m-random/';
const bundled = JSON.parse(fs.readFileSync(path.join(repoRoot, 'public', 'models', 'index.json'), 'utf8')).models;
/** The model the page opens with: tinyhelen-1m when bundled, else the first listed (as the app picks it). */
export const defaultModelName = (bundled.find((m) => m.name === 'tinyhelen-1m') ?? bundled[0]).name;
export const defaultModel = path.join(repoRoot, 'public', 'models', defaultModelName);
/** The first model of the bundled list (what the reference slot's Load picks). */
export const firstBundledName = bundled[0].name;
/** TinyHelen's files (Leaner-GLUE), served to the page at /tinyhelen/ by the test server. */
export const tinyhelenDir = path.resolve(repoRoot, '..', 'shared', 'data', 'tinyhelen');

export const test = base.extend({
  watched: async ({ page, baseURL }, use) => {
    // `allowedOrigins`: origins of URLs the test typed into the page as a user would.
    const problems = { consoleErrors: [], pageErrors: [], foreignRequests: [], allowedOrigins: [] };
    const origin = new URL(baseURL).origin;
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.protocol.startsWith('http') && url.origin !== origin && !problems.allowedOrigins.includes(url.origin)) {
        problems.foreignRequests.push(req.url());
      }
    });
    await use(problems);
    expect(problems.pageErrors, 'uncaught exceptions').toEqual([]);
    expect(problems.consoleErrors, 'console errors').toEqual([]);
    expect(problems.foreignRequests, 'requests leaving the page origin').toEqual([]);
  },
});
export { expect };

/** The two backends every flow runs on: [name, the page's query, the backend it reports]. */
export const backends = [
  // Forced: left to itself the page measures both and, on the software
  // adapter, picks the CPU (load.spec.js checks that choice).
  ['WebGPU', '/?backend=webgpu', 'webgpu'],
  ['CPU', '/?backend=cpu', 'cpu'],
];

/** The CPU alone, for flows whose behaviour does not depend on the backend
 * (error messages, escaping, dropping files): their WebGPU legs only repeated
 * them on SwiftShader, minutes of CI. The numbers on WebGPU stay checked by the
 * goldens, benchmarks, contamination, fine-tuning, Leaner-Eval and workers specs,
 * and loading on WebGPU by bad model files and picked files. */
export const cpuOnly = backends.filter(([, , backend]) => backend === 'cpu');

/** Opens the page and waits until the demo model is loaded on the expected backend. */
export async function openReady(page, query, expectedBackend) {
  await page.goto(query);
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
  await expect(page.getByTestId('backend-label')).toHaveAttribute('data-backend', expectedBackend);
}

/** Opens the tab named `name` (models, benchmarks, contamination, compare). */
export async function openTab(page, name) {
  await page.getByTestId(`tab-${name}`).click();
  await expect(page.getByTestId(`tab-${name}`)).toHaveAttribute('aria-selected', 'true');
}

/** Types `text` into Contamination's passage box, scores it, and returns the per-token rows shown on the page. */
export async function scoreOnPage(page, text) {
  if ((await page.getByTestId('tab-contamination').getAttribute('aria-selected')) !== 'true') await openTab(page, 'contamination');
  const status = page.getByTestId('run-status');
  const before = Number(await status.getAttribute('data-finished-runs'));
  await page.getByTestId('text-input').fill(text);
  await page.getByTestId('score-button').click();
  await expect(status).toHaveAttribute('data-finished-runs', String(before + 1));
  await expect(status).toHaveText(/^Done/);
  return page.getByTestId('token-row').evaluateAll((rows) =>
    rows.map((r) => ({
      id: Number(r.dataset.tokenId),
      logprob: r.dataset.logprob === '' ? null : Number(r.dataset.logprob),
    })),
  );
}

/** The native CLI (built by scripts/test.sh; TINYEVAL_BIN overrides). */
export const cliBinary = process.env.TINYEVAL_BIN ?? path.join(repoRoot, 'target', 'release', 'tinyeval');

/** Runs the CLI with `args`; returns its stdout. */
export function runCli(args) {
  return execFileSync(cliBinary, args, { encoding: 'utf8', cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A fresh temporary folder. */
export function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tinyeval-e2e-'));
}

/** Runs `tinyeval logprobs` (the native CLI, CPU backend) on one text. */
export function scoreWithCli(text) {
  const dir = tempDir();
  const input = path.join(dir, 'texts.jsonl');
  fs.writeFileSync(input, JSON.stringify({ text }) + '\n');
  const out = runCli(['logprobs', '--model', demoModel, '--input', input]);
  return JSON.parse(out.trim().split('\n')[0]);
}

/** The transformers golden for the demo model (written by scripts/make_goldens.py). */
export function transformersGolden() {
  const file = path.join(repoRoot, 'core', 'tests', 'fixtures', 'goldens', 'llama-2k-1m-random.json');
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

export function maxAbsDiff(a, b) {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === null || b[i] === null) {
      expect(a[i]).toBe(b[i]);
      continue;
    }
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

/** Waits for the run shown by `statusId` to finish (its data-finished-runs counter moves on) and returns its text. */
export async function waitForRun(page, statusId, before, timeout = 170_000) {
  const status = page.getByTestId(statusId);
  await expect(status).toHaveAttribute('data-finished-runs', String(before + 1), { timeout });
  return status.textContent();
}

/** Clicks `button` and returns the file the page offers for download: { name, bytes }. */
export async function downloadFrom(page, button) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(button).click()]);
  const file = await download.path();
  return { name: download.suggestedFilename(), bytes: fs.readFileSync(file) };
}
