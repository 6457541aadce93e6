// Playwright drives Debian's Chromium (never a downloaded browser) against the
// built site served on 127.0.0.1. WebGPU runs on Chromium's software adapter.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.TINYEVAL_E2E_PORT ?? 8123);

export default defineConfig({
  testDir: './tests',
  timeout: 180_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}/`,
    viewport: { width: 1280, height: 720 },
    screenshot: 'on',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--enable-unsafe-webgpu',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  webServer: [
    {
      // The tests' fixtures, and TinyHelen's files (for Leaner-GLUE) from ../shared, are mounted beside the site.
      command: `node serve.mjs ${port} ../dist / /fixtures/=../core/tests/fixtures /tinyhelen/=../../shared/data/tinyhelen`,
      url: `http://127.0.0.1:${port}/`,
      reuseExistingServer: false,
    },
    {
      // The same site published in a sub-folder, as on GitHub Pages.
      command: `node serve.mjs ${port + 1} ../dist /tinyeval/`,
      url: `http://127.0.0.1:${port + 1}/tinyeval/`,
      reuseExistingServer: false,
    },
  ],
});
