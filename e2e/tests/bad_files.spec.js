// Bad and hostile files, as a user hands them to the page: broken model files
// (picked, or by URL), a model too large for the page (refused before its
// weights are downloaded or read), broken task YAMLs and data, labelled sets,
// membership manifests and Leaner-Eval questions. Each names the file and the
// problem; the loaded model and earlier results stay; the tabs still switch and
// a run still works. Texts, task, file and model names holding HTML/SVG
// payloads are shown as text in every view (tables, per-sample view, heat map,
// charts, Compare, a reopened permalink, exports): no script runs, no element
// is injected. Every bad file is made here, in memory.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, expect, backends, cpuOnly, openReady, openTab, repoRoot, demoModel, defaultModelName, waitForRun, downloadFrom } from './fixtures.js';

/** A file for `setInputFiles`, made in memory. */
const file = (name, content) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.isBuffer(content) ? content : Buffer.from(content) });
const demo = (name) => fs.readFileSync(path.join(demoModel, name));
const demoConfig = () => JSON.parse(demo('config.json').toString('utf8'));
const gguf = fs.readFileSync(path.join(repoRoot, 'core', 'tests', 'fixtures', 'gguf', 'llama-gqa-q4_0.gguf'));
const demoDocs = fs.readFileSync(path.join(repoRoot, 'public', 'tasks', 'demo', 'demo_yesno_test.jsonl'), 'utf8').trim().split('\n');

/** A safetensors file whose header says `header` (a string), followed by `data`. */
function safetensors(header, data = Buffer.alloc(0)) {
  const h = Buffer.from(header);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

/** A config.json like the demo model's with `changes`. */
const configWith = (changes) => JSON.stringify({ ...demoConfig(), ...changes });
/** About 70 billion parameters (a Llama-3-70B's shape): 260 GiB as f32. */
const hugeConfig = () => configWith({ hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8, head_dim: 128, vocab_size: 128256 });

/** The demo model's files with `changes` (name → content, or null to leave one out). */
function modelFiles(changes = {}) {
  const files = { 'config.json': demo('config.json'), 'tokenizer.json': demo('tokenizer.json'), 'model.safetensors': demo('model.safetensors'), ...changes };
  return Object.entries(files).filter(([, c]) => c !== null).map(([n, c]) => file(n, c));
}

/** A task YAML (JSON values are YAML) of demo_yesno's kind reading `data` as JSONL. */
function taskYaml(name, data, extra = []) {
  return [
    `task: ${JSON.stringify(name)}`,
    'dataset_path: json',
    'dataset_kwargs:',
    '  data_files:',
    `    test: ${JSON.stringify(data)}`,
    'test_split: test',
    'output_type: multiple_choice',
    'doc_to_text: "{{sentence1}}\\nQuestion: {{sentence2}}\\nAnswer:"',
    'doc_to_target: label',
    'doc_to_choice: ["no", "yes"]',
    ...extra,
    '',
  ].join('\n');
}

const notUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x20, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]);

/** The page still answers: every tab opens, and a passage is scored. */
async function stillUsable(page) {
  for (const tab of ['benchmarks', 'leaner-eval', 'compare', 'models', 'contamination']) await openTab(page, tab);
  const status = page.getByTestId('run-status');
  const before = Number(await status.getAttribute('data-finished-runs'));
  await page.getByTestId('text-input').fill('Still works after the bad files.');
  await page.getByTestId('score-button').click();
  await expect(status).toHaveAttribute('data-finished-runs', String(before + 1));
  await expect(status).toHaveText(/^Done/);
}

/** The model the page opened with is still the one loaded. */
async function modelStays(page) {
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText(defaultModelName);
}

/**
 * The message `testid` shows after `act`: one whose text differs from the
 * message shown before (the page updates that element in place), so that a
 * check never passes on the last try's message.
 */
async function messageAfter(page, testid, act) {
  const shown = page.getByTestId(testid);
  const before = (await shown.count()) ? await shown.first().textContent() : null;
  await act();
  if (before === null) return shown;
  const same = new RegExp(`^${before.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return shown.filter({ hasNotText: same });
}

/** Picks `files` in the target slot and expects an error naming `name` and matching `problem`. */
async function pickBad(page, files, name, problem) {
  const error = await messageAfter(page, 'target-error', () => page.getByTestId('target-files').setInputFiles(files));
  await expect(error).toContainText(name);
  await expect(error).toContainText(problem);
  await modelStays(page);
}

/**
 * A server on 127.0.0.1 (another origin, as a model host is): /model/ is the
 * demo model; /huge/ declares 70 billion parameters; /big/ has the demo
 * config but weights declaring 10 GiB (it sends a few bytes, then waits);
 * /bad.gguf and /short.gguf are broken GGUF files; /m/ANY/ is the demo model
 * under any folder name.
 */
async function startServer() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(url);
    const cors = { 'access-control-allow-origin': '*' };
    const send = (body) => res.writeHead(200, { ...cors, 'content-length': body.length }).end(body);
    const name = url.split('/').pop();
    if (url === '/bad.gguf') return send(Buffer.concat([Buffer.from('NOPE'), gguf.subarray(4, 4096)]));
    if (url === '/short.gguf') return send(gguf.subarray(0, 200));
    if (url.startsWith('/huge/') && name === 'config.json') return send(Buffer.from(hugeConfig()));
    if (url.startsWith('/big/') && name === 'model.safetensors') {
      res.writeHead(200, { ...cors, 'content-length': String(10 * 2 ** 30) });
      res.write(Buffer.alloc(1024));
      res.on('close', () => res.destroy());
      return;
    }
    const file = path.join(demoModel, name);
    if (/^\/(model|huge|big|m\/.+)\/[\w.]+$/.test(url) && fs.existsSync(file)) return send(fs.readFileSync(file));
    res.writeHead(404, cors).end('not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, requests, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

for (const [name, query, backend] of backends) {
  test(`bad model files, picked or by URL, are named with their problem on ${name}; a model too large is refused before download; the loaded model stays`, async ({ page, watched }, info) => {
    await openReady(page, query, backend);
    const weights = demo('model.safetensors');

    // Safetensors: cut off, a header longer than the file, a header that is not JSON.
    await pickBad(page, modelFiles({ 'model.safetensors': weights.subarray(0, weights.length >> 1) }), 'model.safetensors', /safetensors|truncat|short|incomplete|length|size/i);
    const tooLong = Buffer.from(weights);
    tooLong.writeBigUInt64LE(2n ** 40n);
    await pickBad(page, modelFiles({ 'model.safetensors': tooLong }), 'model.safetensors', /safetensors|header|length|size/i);
    await pickBad(page, modelFiles({ 'model.safetensors': safetensors('{"not json') }), 'model.safetensors', /safetensors|header|JSON/i);
    // config.json with absurd dimensions.
    await pickBad(page, modelFiles({ 'config.json': configWith({ num_attention_heads: 0 }) }), 'config.json', /attention/);
    await pickBad(page, modelFiles({ 'config.json': configWith({ num_hidden_layers: 1099511627776 }) }), 'config.json', 'num_hidden_layers');
    // A missing and a broken tokenizer.json.
    await pickBad(page, modelFiles({ 'tokenizer.json': null }), 'tokenizer.json', 'missing');
    await pickBad(page, modelFiles({ 'tokenizer.json': '{"model": ' }), 'tokenizer.json', /tokenizer/);
    // GGUF: a wrong magic number, a file cut off in its header.
    await pickBad(page, [file('bad.gguf', Buffer.concat([Buffer.from('NOPE'), gguf.subarray(4, 4096)]))], 'bad.gguf', 'not a GGUF file');
    await pickBad(page, [file('short.gguf', gguf.subarray(0, 200))], 'short.gguf', /end|truncat|short|cut/i);
    // A model too large for the page: refused from its config before the weights are read.
    await pickBad(page, modelFiles({ 'config.json': hugeConfig() }), 'model.safetensors', /this model needs about [\d.]+ GiB of memory; this page can use at most [\d.]+ GiB/);
    await page.screenshot({ path: info.outputPath(`bad-model-${backend}.png`), fullPage: true });

    const server = await startServer();
    watched.allowedOrigins.push(server.origin);
    try {
      /** Loads `url` in the target slot; returns the error it shows. */
      const loadUrl = async (url) => {
        await page.getByTestId('model-url').fill(url);
        return messageAfter(page, 'target-error', () => page.getByTestId('load-button').click());
      };
      // By URL: 70 billion declared parameters are refused after config.json, before any weights are asked for.
      let error = await loadUrl(`${server.origin}/huge/`);
      await expect(error).toContainText(`${server.origin}/huge/config.json: this model needs about 26`);
      await expect(error).toContainText(/this page can use at most [\d.]+ GiB/);
      expect(server.requests.filter((r) => r.startsWith('/huge/'))).toEqual(['/huge/config.json']);
      // Weights declaring 10 GiB (Content-Length) are refused before their body is read.
      error = await loadUrl(`${server.origin}/big/`);
      await expect(error).toContainText(`${server.origin}/big/model.safetensors: this model needs about 10 GiB of memory`);
      await expect(page.getByTestId('target-download')).toHaveCount(0);
      // Broken GGUF files by URL.
      error = await loadUrl(`${server.origin}/bad.gguf`);
      await expect(error).toContainText(`${server.origin}/bad.gguf: not a GGUF file`);
      error = await loadUrl(`${server.origin}/short.gguf`);
      await expect(error).toContainText(`${server.origin}/short.gguf: truncated`);
      await modelStays(page);
      // A good model by URL still loads after all that.
      await loadUrl(`${server.origin}/model/`);
      await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText(`${server.origin}/model`);
    } finally {
      await server.close();
    }
    await stillUsable(page);
  });
}

for (const [name, query, backend] of cpuOnly) {
  test(`bad task YAMLs and data, labelled sets, manifests and Leaner-Eval questions are named on ${name}; the results on screen stay and a run still works`, async ({ page, watched }, info) => {
    await openReady(page, query, backend);
    await openTab(page, 'benchmarks');
    const good = demoDocs.slice(0, 4).join('\n') + '\n';
    const upload = (files) => page.getByTestId('task-upload').setInputFiles(files);
    /** Uploads `files`; returns the error shown for them. */
    const uploadBad = (files) => messageAfter(page, 'upload-error', () => upload(files));
    const uploadError = page.getByTestId('upload-error');
    const runBench = async () => {
      await page.getByTestId('opt-limit').fill('4');
      await page.getByTestId('opt-fewshot').fill('0');
      await page.getByTestId('opt-batch').fill('4');
      const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
      await page.getByTestId('bench-run').click();
      expect(await waitForRun(page, 'bench-status', before)).toMatch(/^Done/);
    };
    await upload([file('tiny.yaml', taskYaml('tiny', 'tiny.jsonl')), file('tiny.jsonl', good)]);
    await expect(page.getByTestId('uploaded-task')).toContainText('tiny');
    await page.getByTestId('task-demo_sentiment').uncheck();
    await page.getByTestId('task-demo_yesno').uncheck();
    await runBench();
    await expect(page.getByTestId('result-row').first()).toHaveAttribute('data-task', 'tiny');

    // Task YAMLs: not YAML, an unknown output type, a data file not given.
    let error = await uploadBad([file('broken.yaml', 'task: [tiny\n  output_type: : :\n'), file('tiny.jsonl', good)]);
    await expect(error).toContainText('broken.yaml');
    error = await uploadBad([file('odd.yaml', taskYaml('odd', 'tiny.jsonl').replace('multiple_choice', 'telepathy')), file('tiny.jsonl', good)]);
    await expect(error).toContainText('odd.yaml');
    await expect(error).toContainText('telepathy');
    error = await uploadBad([file('nodata.yaml', taskYaml('nodata', 'elsewhere.jsonl'))]);
    await expect(error).toContainText('nodata.yaml: data file elsewhere.jsonl was not uploaded');
    // Task data: a broken JSONL line, not UTF-8.
    error = await uploadBad([file('tiny.yaml', taskYaml('tiny', 'tiny.jsonl')), file('tiny.jsonl', demoDocs[0] + '\n{"sentence1": "cut off\n')]);
    await expect(error).toContainText('tiny.jsonl');
    await expect(error).toContainText('line 2');
    error = await uploadBad([file('tiny.yaml', taskYaml('tiny', 'tiny.jsonl')), file('tiny.jsonl', notUtf8)]);
    await expect(error).toContainText('tiny.jsonl');
    await expect(error).toContainText(/UTF-8/);
    // A task YAML by URL that is not there.
    await page.getByTestId('task-url').fill('fixtures/no-such-task.yaml');
    error = await messageAfter(page, 'upload-error', () => page.getByTestId('task-url-load').click());
    await expect(error).toContainText('no-such-task.yaml');
    await expect(error).toContainText('404');
    const missing = watched.consoleErrors.findIndex((m) => m.includes('404'));
    expect(missing, 'the 404 is on the console').toBeGreaterThanOrEqual(0);
    watched.consoleErrors.splice(missing, 1);
    // The results shown before are still there.
    await expect(page.getByTestId('result-row').first()).toHaveAttribute('data-task', 'tiny');

    // Contamination: a labelled set without labels, with a broken line, not UTF-8; bad membership manifests.
    await openTab(page, 'contamination');
    await page.getByTestId('source-labelled').check();
    const labelled = (name, content) => messageAfter(page, 'labelled-error', () => page.getByTestId('labelled-upload').setInputFiles(file(name, content)));
    error = await labelled('nolabels.jsonl', '{"input": "a text"}\n{"input": "another"}\n');
    await expect(error).toContainText('nolabels.jsonl: line 1: `label` must be 0 or 1');
    error = await labelled('cut.jsonl', '{"input": "a text", "label": 1}\n{"input": "cut\n');
    await expect(error).toContainText('cut.jsonl: line 2');
    error = await labelled('latin1.jsonl', notUtf8);
    await expect(error).toContainText('latin1.jsonl: not valid UTF-8');
    await page.getByTestId('source-task').check();
    await page.getByTestId('mia-task').selectOption('demo_yesno');
    const manifest = async (name, content, problem) => {
      await page.getByTestId('manifest-upload').setInputFiles(file(name, content));
      const before = Number(await page.getByTestId('mia-status').getAttribute('data-finished-runs'));
      await page.getByTestId('mia-run').click();
      const text = await waitForRun(page, 'mia-status', before);
      expect(text).toContain(`Error: ${name}: `);
      expect(text).toMatch(problem);
    };
    await manifest('members.jsonl', '{"task": "demo_yesno", "split": "test", "idx": 0, "member": 1}\n{"task": "demo_yesno", "split": "test"}\n', /line 2/);
    await manifest('twos.jsonl', '{"task": "demo_yesno", "split": "test", "idx": 0, "member": 2}\n', /member/);
    await manifest('empty.jsonl', '', /no rows \(the file is empty\)/);
    await manifest('othertask.jsonl', '{"task": "demo_sentiment", "split": "test", "idx": 0, "member": 1}\n', /no rows for task demo_yesno/);

    // Leaner-Eval questions: a broken line, a line without a question, not UTF-8.
    await openTab(page, 'leaner-eval');
    const questions = (name, content) => messageAfter(page, 'le-questions-status', () => page.getByTestId('le-questions-upload').setInputFiles(file(name, content)));
    error = await questions('questions.jsonl', '{"question": "Why is the sky blue?"}\n{"question": "cut\n');
    await expect(error).toContainText('questions.jsonl: line 2: not valid JSON');
    error = await questions('noquestion.jsonl', '{"prompt": "no question here"}\n');
    await expect(error).toContainText('noquestion.jsonl: line 1: no `question` field');
    error = await questions('latin1.jsonl', notUtf8);
    await expect(error).toContainText('latin1.jsonl: line 1: not valid UTF-8');
    await page.screenshot({ path: info.outputPath(`bad-data-${backend}.png`), fullPage: true });

    // Everything still works: the earlier results stay, the task runs again, a passage is scored.
    await openTab(page, 'benchmarks');
    await expect(page.getByTestId('result-row').first()).toHaveAttribute('data-task', 'tiny');
    await upload([file('tiny.yaml', taskYaml('tiny', 'tiny.jsonl')), file('tiny.jsonl', good)]);
    await expect(uploadError).toHaveCount(0);
    await runBench();
    await modelStays(page);
    await stillUsable(page);
  });
}

// The payloads: each would set window.__xss (and open a dialog) if it ever ran.
const payloads = [
  `<img src=x onerror="window.__xss='img';alert('img')">`,
  `</svg><script>window.__xss='script';alert('script')</script>`,
  `"><svg onload="window.__xss='svg';alert('svg')">`,
  `javascript:window.__xss='link';alert('link')`,
  `</text></svg><img src=x onerror=window.__xss='text'>`,
];
const hostileTask = `=1+1 <img src=x onerror="window.__xss='task'">`;
const hostileFile = `"><svg onload="window.__xss='file'">.jsonl`;
const hostileFolder = `<img src=x onerror="window.__xss='model'">`;

/** Watches `p` for dialogs; returns a function asserting that no payload ran or left an element. */
function inertness(p) {
  const dialogs = [];
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  return async (where) => {
    expect(dialogs, `dialogs in ${where}`).toEqual([]);
    expect(await p.evaluate(() => window.__xss), `window.__xss in ${where}`).toBeUndefined();
    const injected = await p.evaluate(() => ({
      elements: [...document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload], a[href^="javascript:"], foreignObject')].map((e) => e.outerHTML),
      scripts: [...document.scripts].filter((s) => s.textContent.includes('__xss')).length,
    }));
    expect(injected, `injected markup in ${where}`).toEqual({ elements: [], scripts: 0 });
  };
}

for (const [name, query, backend] of cpuOnly) {
  test(`hostile texts and names stay text on ${name}: tables, per-sample view, heat map, charts, Compare, permalink, exports`, async ({ page, context, watched }, info) => {
    const inert = inertness(page);
    const server = await startServer();
    watched.allowedOrigins.push(server.origin);
    try {
      await openReady(page, query, backend);
      // A model whose name (its URL) holds a payload.
      const modelUrl = `${server.origin}/m/${hostileFolder}/`;
      await page.getByTestId('model-url').fill(modelUrl);
      await page.getByTestId('load-button').click();
      await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText(hostileFolder);
      await inert('the model status');

      // A task whose name, metadata, texts and choices hold payloads.
      const docs = payloads.map((p, i) => ({ sentence1: p, sentence2: payloads[(i + 1) % payloads.length], label: i % 2 }));
      const yaml = taskYaml(hostileTask, 'hostile.jsonl', [`metadata: ${JSON.stringify({ version: 1, description: payloads[0] })}`]).replace(
        'doc_to_choice: ["no", "yes"]',
        `doc_to_choice: ${JSON.stringify([payloads[2], payloads[1]])}`,
      );
      await openTab(page, 'benchmarks');
      await page.getByTestId('task-upload').setInputFiles([file('hostile.yaml', yaml), file('hostile.jsonl', docs.map((d) => JSON.stringify(d)).join('\n') + '\n')]);
      await expect(page.getByTestId('uploaded-task')).toContainText(hostileTask);
      await page.getByTestId('task-demo_sentiment').uncheck();
      await page.getByTestId('task-demo_yesno').uncheck();
      await expect(page.getByTestId(`task-${hostileTask}`)).toBeChecked();
      await page.getByTestId('opt-limit').fill('');
      await page.getByTestId('opt-fewshot').fill('0');
      const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
      await page.getByTestId('bench-run').click();
      expect(await waitForRun(page, 'bench-status', before)).toMatch(/^Done/);
      await expect(page.getByTestId('result-row').first()).toHaveAttribute('data-task', hostileTask);
      await expect(page.getByTestId('results-table')).toContainText(hostileTask);
      await expect(page.getByTestId('samples-table')).toContainText(payloads[0]);
      await expect(page.getByTestId('samples-table')).toContainText(payloads[1]);
      await page.getByTestId('samples-search').fill('<script>');
      await expect(page.getByTestId('sample-row')).not.toHaveCount(0);
      const chart = page.getByTestId('chart-benchmark').locator('svg');
      await expect(chart).toBeVisible();
      expect(await chart.locator('text').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('<img src=x')]));
      await inert('Benchmarks');
      // Exports: the names are data; the CSV cell a spreadsheet would run as a formula starts with '.
      const json = JSON.parse((await downloadFrom(page, 'export-json')).bytes.toString('utf8'));
      expect(Object.keys(json.results)).toContain(hostileTask);
      const csv = (await downloadFrom(page, 'export-csv')).bytes.toString('utf8').trim().split('\n');
      expect(csv[1].startsWith(`"'${hostileTask.replace(/"/g, '""')}"`), csv[1]).toBe(true);
      await page.screenshot({ path: info.outputPath(`hostile-benchmarks-${backend}.png`), fullPage: true });

      // A labelled set whose file name and texts hold payloads: ranking, heat map, ROC and histogram.
      await openTab(page, 'contamination');
      await page.getByTestId('source-labelled').check();
      const items = [...payloads, ...payloads.map((p) => `Once upon a time ${p} the end.`)].map((input, i) => ({ input, label: i % 2 }));
      await page.getByTestId('labelled-upload').setInputFiles(file(hostileFile, items.map((r) => JSON.stringify(r)).join('\n') + '\n'));
      await expect(page.getByTestId('labelled-info')).toHaveText(`${hostileFile}: 10 texts, 5 members`);
      const miaBefore = Number(await page.getByTestId('mia-status').getAttribute('data-finished-runs'));
      await page.getByTestId('mia-run').click();
      expect(await waitForRun(page, 'mia-status', miaBefore)).toMatch(/^Done/);
      await expect(page.getByTestId('items-table')).toContainText(payloads[1]);
      await page.getByTestId('item-open').first().click();
      await expect(page.getByTestId('heatmap')).toBeVisible();
      await expect(page.getByTestId('heatmap').locator('.chip')).not.toHaveCount(0);
      await expect(page.getByTestId('chart-roc').locator('svg')).toBeVisible();
      await expect(page.getByTestId('chart-histogram').locator('svg')).toBeVisible();
      await page.getByTestId('text-input').fill(payloads.join(' '));
      await page.getByTestId('score-button').click();
      await expect(page.getByTestId('run-status')).toHaveText(/^Done/);
      await inert('Contamination');

      // Leaner-Eval: questions holding payloads, answered and listed.
      await openTab(page, 'leaner-eval');
      await page.getByTestId('le-questions-upload').setInputFiles(file('hostile-questions.jsonl', payloads.slice(0, 2).map((q) => JSON.stringify({ question: q })).join('\n') + '\n'));
      await expect(page.getByTestId('le-questions-status')).toHaveText('2 questions from hostile-questions.jsonl');
      // The Leaner vocabulary from a train file of the user's (nothing is fetched from TinyHelen's host).
      await page.getByTestId('le-train-upload').setInputFiles(file('train.jsonl', ['Once upon a time there was a dog.', ...payloads].map((text) => JSON.stringify({ text })).join('\n') + '\n'));
      await expect(page.getByTestId('le-train-status')).toContainText('1 train file(s) chosen');
      await page.getByTestId('le-opt-max-tokens').fill('3');
      const leBefore = Number(await page.getByTestId('le-status').getAttribute('data-finished-runs'));
      await page.getByTestId('le-run').click();
      expect(await waitForRun(page, 'le-status', leBefore)).toMatch(/^Done/);
      await expect(page.locator('#panel-leaner-eval')).toContainText(payloads[1]);
      await inert('Leaner-Eval');

      // Compare: the runs' names in its tables and charts; then its permalink, reopened.
      await openTab(page, 'compare');
      await expect(page.getByTestId('compare-table')).toContainText(hostileTask);
      await expect(page.getByTestId('chart-compare').locator('svg')).toBeVisible();
      await expect(page.getByTestId('chart-compare-roc').locator('svg')).toContainText(hostileFile);
      await inert('Compare');
      await page.screenshot({ path: info.outputPath(`hostile-compare-${backend}.png`), fullPage: true });
      await page.getByTestId('compare-permalink').click();
      const link = await page.getByTestId('compare-link').inputValue();
      const shared = await context.newPage();
      const sharedInert = inertness(shared);
      shared.on('console', (msg) => msg.type() === 'error' && watched.consoleErrors.push(msg.text()));
      shared.on('pageerror', (err) => watched.pageErrors.push(String(err)));
      await shared.goto(link);
      await expect(shared.getByTestId('tab-compare')).toHaveAttribute('aria-selected', 'true');
      await expect(shared.getByTestId('compare-table')).toContainText(hostileTask);
      await expect(shared.getByTestId('compare-run').first()).toContainText(hostileFolder);
      await expect(shared.getByTestId('chart-compare-roc').locator('svg')).toContainText(hostileFile);
      await sharedInert('the reopened permalink');
      // A hand-made link whose labels are markup is shown as text too.
      const forged = { view: 'compare', runs: [{ label: payloads[1], model: payloads[2], backend: payloads[4], metrics: [{ task: payloads[0], metric: payloads[3], value: 0.5, stderr: 0.1 }] }] };
      await shared.goto(`${query}${query.includes('?') ? '&' : '?'}forged=1#share=${encodeURIComponent(JSON.stringify(forged))}`);
      await expect(shared.getByTestId('compare-table')).toContainText(payloads[0]);
      await expect(shared.getByTestId('chart-compare').locator('svg')).toBeVisible();
      await sharedInert('a forged permalink');
      await shared.screenshot({ path: info.outputPath(`hostile-permalink-${backend}.png`), fullPage: true });
      await shared.close();
      await inert('the end');
    } finally {
      await server.close();
    }
  });
}
