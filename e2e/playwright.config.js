// Playwright drives Debian's Chromium (never a downloaded browser) against the
// built site served on 127.0.0.1. WebGPU runs on Chromium's software adapter.
import { defineConfig } from '@playwright/test';

const port = 8123;

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
  webServer: {
    command: `node serve.mjs ${port} ../dist / /fixtures/=../core/tests/fixtures`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
  },
});
