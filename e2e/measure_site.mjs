// What the measurement scripts (bench.mjs, bench_anchors.mjs, measure_memory.mjs,
// bench_finetune.mjs) share:
// the built site served on 127.0.0.1 by serve.mjs with extra folders mounted,
// and a headless Debian Chromium with WebGPU on (its software adapter here).
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import path from 'node:path';

const here = import.meta.dirname;

/** Serves `dist` at / on `port` with `mounts` ('/url/=DIR' each) and extra `env`
 * (e.g. TINYEVAL_SERVE_ISOLATED=1 for COOP/COEP); resolves once it answers. */
export async function serveSite({ port, dist = path.join(here, '..', 'dist'), mounts = [], env = {} }) {
  const server = spawn('node', [path.join(here, 'serve.mjs'), String(port), path.resolve(dist), '/', ...mounts], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  const site = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(site)).ok) break;
    } catch {
      if (i > 100) throw new Error(`the static server did not start on ${site}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { site, stop: () => server.kill() };
}

/** Headless Chromium as the e2e tests launch it. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
