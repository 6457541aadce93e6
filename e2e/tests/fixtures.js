// Shared test fixtures: every page records console errors, uncaught exceptions
// and requests that leave the page's origin, and each test asserts none happened.
import { test as base, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const demoModel = path.join(repoRoot, 'public', 'models', 'llama-2k-1m-random');

export const test = base.extend({
  watched: async ({ page, baseURL }, use) => {
    const problems = { consoleErrors: [], pageErrors: [], foreignRequests: [] };
    const origin = new URL(baseURL).origin;
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.protocol.startsWith('http') && url.origin !== origin) problems.foreignRequests.push(req.url());
    });
    await use(problems);
    expect(problems.pageErrors, 'uncaught exceptions').toEqual([]);
    expect(problems.consoleErrors, 'console errors').toEqual([]);
    expect(problems.foreignRequests, 'requests leaving the page origin').toEqual([]);
  },
});
export { expect };

/** Opens the page and waits until the demo model is loaded on the expected backend. */
export async function openReady(page, query, expectedBackend) {
  await page.goto(query);
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
  await expect(page.getByTestId('backend-label')).toHaveAttribute('data-backend', expectedBackend);
}

/** Types `text`, scores it, and returns the per-token rows shown on the page. */
export async function scoreOnPage(page, text) {
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

/** Runs `tinyeval logprobs` (the native CLI, CPU backend) on one text. */
export function scoreWithCli(text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tinyeval-e2e-'));
  const input = path.join(dir, 'texts.jsonl');
  fs.writeFileSync(input, JSON.stringify({ text }) + '\n');
  const bin = path.join(repoRoot, 'target', 'release', 'tinyeval');
  const out = execFileSync(bin, ['logprobs', '--model', demoModel, '--input', input], { encoding: 'utf8' });
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
