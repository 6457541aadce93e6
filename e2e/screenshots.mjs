// Takes the README's screenshots of a running site, as a visitor sees it.
// Usage: node screenshots.mjs [site URL] [output folder]
import { chromium } from '@playwright/test';
import path from 'node:path';

const site = process.argv[2] ?? 'http://127.0.0.1:8080/';
const out = path.resolve(process.argv[3] ?? path.join(import.meta.dirname, '..', 'docs', 'screenshots'));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
for (const [name, viewport] of [['tokens-webgpu', { width: 1280, height: 720 }], ['tokens-phone', { width: 390, height: 844 }]]) {
  const page = await browser.newPage({ viewport });
  await page.goto(site);
  await page.getByTestId('model-status').locator('[data-ready="true"]').waitFor({ timeout: 120_000 });
  await page.getByTestId('text-input').fill('Once upon a time, a little girl found a red ball in the park.');
  await page.getByTestId('score-button').click();
  await page.getByText(/^Done/).waitFor({ timeout: 120_000 });
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
  console.log(`wrote ${path.join(out, `${name}.png`)}`);
  await page.close();
}
await browser.close();
