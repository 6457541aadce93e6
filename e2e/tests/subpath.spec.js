// The built site published in a sub-folder (as on GitHub Pages): the same
// dist/ works there, with no server code; the demo model and demo tasks load
// from the sub-folder.
import { test, expect, openTab, waitForRun } from './fixtures.js';

// The second server of playwright.config.js: the site under /tinyeval/, one port above the first.
const site = `http://127.0.0.1:${Number(process.env.TINYEVAL_E2E_PORT ?? 8123) + 1}/tinyeval/`;

test('the site works from a sub-path: model, tasks and a benchmark run', async ({ page, watched }, info) => {
  watched.allowedOrigins.push(new URL(site).origin);
  const outside = [];
  page.on('request', (req) => {
    // blob: URLs (the Web Workers' bootstrap script) are made in the page, not fetched from anywhere.
    if (!req.url().startsWith(site) && !req.url().startsWith('blob:')) outside.push(req.url());
  });
  await page.goto(`${site}?backend=cpu`);
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
  await openTab(page, 'benchmarks');
  await page.getByTestId('opt-limit').fill('5');
  const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
  await page.getByTestId('bench-run').click();
  expect(await waitForRun(page, 'bench-status', before)).toMatch(/^Done/);
  expect(outside).toEqual([]);
  await page.screenshot({ path: info.outputPath('subpath.png') });
});
