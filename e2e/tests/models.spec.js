// Models, as a new visitor uses them: the bundled model opens by default; a
// second (reference) model loads beside it; a model folder's files can be
// picked, a folder chosen or files dropped; a URL downloads with a progress
// bar into the browser's cache, so the next visit reads it without
// downloading; bad files name the file and keep the loaded model; what a model
// needs in memory is shown before its weights are read, as `tinyeval memory`
// computes it.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, expect, demoModel, openTab, defaultModelName, firstBundledName, backends, openReady, repoRoot, runCli } from './fixtures.js';

const demoFiles = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];

/** A static server for the demo model on 127.0.0.1 (another origin than the page), counting requests. */
async function startModelServer() {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    // /model/ is the demo model; /broken/ the same with a truncated config.json.
    const [, folder, name] = req.url.match(/^\/(model|broken)\/([\w.]+)$/) ?? [];
    const file = name && path.join(demoModel, name);
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404, { 'access-control-allow-origin': '*' }).end('not found');
      return;
    }
    const body = folder === 'broken' && name === 'config.json' ? Buffer.from('{"model_type": "llama", "hidden_size": ') : fs.readFileSync(file);
    res.writeHead(200, { 'access-control-allow-origin': '*', 'content-length': body.length, 'content-type': 'application/octet-stream' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/model/`;
  return { url, origin: new URL(url).origin, requests, close: () => new Promise((r) => server.close(r)) };
}

test('opens with the bundled model, loads a reference model beside it, and moves between tabs with the keyboard', async ({ page, watched }, info) => {
  await page.goto('/?backend=cpu');
  const target = page.getByTestId('model-status');
  await expect(target.locator('[data-ready="true"]')).toContainText(defaultModelName);
  await expect(target).toContainText('vocabulary 2000');
  await expect(target).toContainText('context');
  await expect(target).toContainText('MB in memory');
  await expect(page.getByTestId('backend-label')).toHaveText('CPU · burn flex');
  await expect(page.getByTestId('reference-model-status')).toHaveText('none loaded');
  await page.getByTestId('reference-load-builtin').click();
  await expect(page.getByTestId('reference-model-status').locator('[data-ready="true"]')).toContainText(firstBundledName);
  await page.screenshot({ path: info.outputPath('models.png'), fullPage: true });

  // Keyboard: focus the selected tab, then arrows move along the tabs.
  await page.getByTestId('tab-models').focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-benchmarks')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('tab-benchmarks')).toBeFocused();
  await expect(page.locator('#panel-benchmarks')).toBeVisible();
  await expect(page.locator('#panel-models')).toBeHidden();
  await page.keyboard.press('End');
  await expect(page.getByTestId('tab-compare')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-models')).toHaveAttribute('aria-selected', 'true');
});

for (const [name, query, backend] of backends) {
  test(`loads a model from picked files, a picked folder and dropped files on ${name}; a broken file names itself and keeps the model`, async ({ page, watched }, info) => {
    await openReady(page, query, backend);

    await page.getByTestId('target-files').setInputFiles(demoFiles.map((f) => path.join(demoModel, f)));
    await expect(page.getByTestId('target-note')).toHaveText(/read from your files/);
    await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText('vocabulary 2000');

    await page.getByTestId('reference-folder').setInputFiles(demoModel);
    await expect(page.getByTestId('reference-model-status').locator('[data-ready="true"]')).toContainText('llama-2k-1m-random');

    // Drag and drop: the files of the model folder, as a file manager drops them.
    const payload = demoFiles.map((f) => ({ name: f, bytes: [...fs.readFileSync(path.join(demoModel, f))] }));
    const dataTransfer = await page.evaluateHandle((files) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([new Uint8Array(f.bytes)], f.name));
      return dt;
    }, payload);
    await page.getByTestId('reference-drop').dispatchEvent('drop', { dataTransfer });
    await expect(page.getByTestId('reference-note')).toHaveText(/read from your files/);
    await expect(page.getByTestId('reference-model-status').locator('[data-ready="true"]')).toBeVisible();

    // A malformed config.json: the error names the file; the loaded model stays.
    const broken = info.outputPath('broken');
    fs.mkdirSync(broken, { recursive: true });
    for (const f of demoFiles) fs.copyFileSync(path.join(demoModel, f), path.join(broken, f));
    fs.writeFileSync(path.join(broken, 'config.json'), '{"model_type": "llama", "hidden_size": ');
    await page.getByTestId('target-files').setInputFiles(demoFiles.map((f) => path.join(broken, f)));
    await expect(page.getByTestId('target-error')).toContainText('config.json');
    await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText('vocabulary 2000');
    // A folder without weights says what is missing.
    await page.getByTestId('target-files').setInputFiles([path.join(demoModel, 'config.json')]);
    await expect(page.getByTestId('target-error')).toContainText('model.safetensors is missing');
    await page.screenshot({ path: info.outputPath('models-error.png'), fullPage: true });
    // Still usable.
    await openTab(page, 'contamination');
    await page.getByTestId('text-input').fill('Still works.');
    await page.getByTestId('score-button').click();
    await expect(page.getByTestId('run-status')).toHaveText(/^Done/);
  });
}

for (const [name, query, backend] of backends) {
  test(`downloads a model from a URL with progress on ${name}, and a second visit reads it from the browser cache`, async ({ context, page, watched }, info) => {
    const server = await startModelServer();
    watched.allowedOrigins.push(server.origin);
    try {
      await openReady(page, query, backend);
      await page.getByTestId('model-url').fill(server.url);
      await page.getByTestId('load-button').click();
      await expect(page.getByTestId('target-note')).toHaveText(/downloaded, and kept in the browser cache/);
      await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText(server.url.replace(/\/$/, ''));
      const downloaded = server.requests.length;
      expect(server.requests).toContain('/model/model.safetensors');
      await page.screenshot({ path: info.outputPath('url-loaded.png'), fullPage: true });

      // A second visit (same browser profile): nothing is downloaded again.
      const again = await context.newPage();
      again.on('console', (msg) => msg.type() === 'error' && watched.consoleErrors.push(msg.text()));
      again.on('pageerror', (err) => watched.pageErrors.push(String(err)));
      again.on('request', (req) => {
        const origin = new URL(req.url()).origin;
        if (origin !== new URL(page.url()).origin && origin !== server.origin) watched.foreignRequests.push(req.url());
      });
      await again.goto(`${query}${query.includes('?') ? '&' : '?'}model=${encodeURIComponent(server.url)}`);
      await expect(again.getByTestId('backend-label')).toHaveAttribute('data-backend', backend);
      await expect(again.getByTestId('target-note')).toHaveText(/loaded from the browser cache/);
      await expect(again.getByTestId('model-status').locator('[data-ready="true"]')).toContainText('vocabulary 2000');
      expect(server.requests.length).toBe(downloaded);

      // A model whose config.json is broken: the error names that file; the loaded model stays.
      await again.getByTestId('model-url').fill(`${server.origin}/broken/`);
      await again.getByTestId('load-button').click();
      await expect(again.getByTestId('target-error')).toContainText(`${server.origin}/broken/config.json`);
      await expect(again.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
    } finally {
      await server.close();
    }
  });
}

test('the download progress bar shows while a large file comes in', async ({ page, watched }) => {
  // A slow server: the weights arrive in pieces, so the bar is seen moving.
  const body = fs.readFileSync(path.join(demoModel, 'model.safetensors'));
  const server = http.createServer(async (req, res) => {
    const name = req.url.replace(/^\/slow\//, '');
    const file = path.join(demoModel, name);
    if (!fs.existsSync(file)) return res.writeHead(404, { 'access-control-allow-origin': '*' }).end();
    const data = name === 'model.safetensors' ? body : fs.readFileSync(file);
    res.writeHead(200, { 'access-control-allow-origin': '*', 'content-length': data.length });
    const step = Math.ceil(data.length / 20);
    for (let i = 0; i < data.length; i += step) {
      res.write(data.subarray(i, i + step));
      await new Promise((r) => setTimeout(r, name === 'model.safetensors' ? 150 : 0));
    }
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/slow/`;
  watched.allowedOrigins.push(new URL(url).origin);
  try {
    await page.goto('/?backend=cpu');
    await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
    await page.getByTestId('model-url').fill(url);
    await page.getByTestId('load-button').click();
    const bar = page.getByTestId('target-download');
    await expect(bar).toContainText(/model\.safetensors: [\d.]+ of [\d.]+ MB/);
    await expect(page.getByTestId('target-note')).toHaveText(/downloaded/);
    await expect(bar).toHaveCount(0);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('shows what a model needs in memory before loading it (file + weights as f32), as tinyeval memory computes it', async ({ page, watched }) => {
  await page.goto('/?backend=cpu');
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
  const memory = page.getByTestId('target-memory');
  const need = (model) => JSON.parse(runCli(['memory', '--model', model]));
  // The bundled model the page opened with.
  await expect(memory).toContainText(`${defaultModelName} needs ${need(defaultModelName).description}; this page can use at most`);

  // A quantized GGUF by URL: its weights take several times the file as f32.
  const gguf = path.join(repoRoot, 'core', 'tests', 'fixtures', 'gguf', 'llama-k-q4_k_m.gguf');
  const expected = need(gguf);
  expect(expected.weight_bytes).toBeGreaterThan(3 * expected.file_bytes);
  const url = new URL('fixtures/gguf/llama-k-q4_k_m.gguf', page.url()).href;
  await page.getByTestId('model-url').fill(url);
  await page.getByTestId('load-button').click();
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText(url);
  const escaped = `${url} needs ${expected.description}; this page can use at most`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await expect(memory).toHaveText(new RegExp(`^${escaped} [\\d.]+ GiB \\(the (largest WebAssembly heap|memory this device reports)\\)$`));

  // The same file picked, and a model folder's files picked.
  await page.getByTestId('target-files').setInputFiles(gguf);
  await expect(page.getByTestId('target-note')).toHaveText(/read from your files/);
  await expect(memory).toContainText(`llama-k-q4_k_m.gguf needs ${expected.description}`);
  await page.getByTestId('target-files').setInputFiles(demoFiles.map((f) => path.join(demoModel, f)));
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText('vocabulary 2000');
  await expect(memory).toContainText(`needs ${need(demoModel).description}`);
});
