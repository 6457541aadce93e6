// Instruction following (Leaner-Eval), as a new user runs it: the demo model
// answers TinyHelen's questions (read from a URL) token by token; every
// response's text and judge-free metrics, and their means, equal those of
// `tinyeval leaner-eval` run on the same questions with the same settings (on
// WebGPU and CPU); an OpenAI-compatible judge (a stub on 127.0.0.1 in this
// file) scores the responses, its errors shown per response; the key stays out
// of localStorage unless asked; ratings by hand survive a reload; exports
// carry responses, metrics, judge scores and ratings; cancel stops a run
// within a second while the page keeps answering.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, expect, openReady, openTab, runCli, tempDir, defaultModel, tinyhelenDir, waitForRun, downloadFrom, backends } from './fixtures.js';

const LIMIT = 5;
const MAX_TOKENS = 24;
const SEED = 0;

/** `tinyeval leaner-eval` on the demo model, greedy: { results, samples }. */
let cliCache;
function cliRun() {
  if (!cliCache) {
    const out = tempDir();
    runCli([
      'leaner-eval', '--model', defaultModel, '--tinyhelen_dir', tinyhelenDir, '--limit', String(LIMIT),
      '--max_new_tokens', String(MAX_TOKENS), '--temperature', '0', '--seed', String(SEED), '--output_path', out,
    ]);
    cliCache = {
      results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).results.leaner_eval,
      samples: fs.readFileSync(path.join(out, 'samples_leaner_eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)),
    };
  }
  return cliCache;
}

/** Opens the tab, loads the questions from the test server's TinyHelen folder, and sets the options. */
async function prepare(page, baseURL, { limit = LIMIT, maxTokens = MAX_TOKENS } = {}) {
  await openTab(page, 'leaner-eval');
  await page.getByTestId('le-questions-url').fill(`${baseURL}tinyhelen/data/leaner/eval/all.jsonl`);
  await page.getByTestId('le-questions-load').click();
  await expect(page.getByTestId('le-questions-status')).toHaveText(/^1594 questions from /);
  await page.getByTestId('le-tinyhelen-base').fill(`${baseURL}tinyhelen`);
  await page.getByTestId('le-opt-limit').fill(String(limit));
  await page.getByTestId('le-opt-max-tokens').fill(String(maxTokens));
  await page.getByTestId('le-opt-temperature').fill('0');
  await page.getByTestId('le-opt-seed').fill(String(SEED));
}

async function runToEnd(page) {
  const before = Number(await page.getByTestId('le-status').getAttribute('data-finished-runs'));
  await page.getByTestId('le-run').click();
  const text = await waitForRun(page, 'le-status', before);
  expect(text).toBe(`Done: ${LIMIT} responses; added to Compare`);
}

async function pageResponses(page) {
  return page.getByTestId('le-response').evaluateAll((items) =>
    items.map((li) => ({
      doc: Number(li.dataset.docId),
      text: li.querySelector('[data-testid="le-response-text"]').textContent,
      metrics: JSON.parse(li.dataset.metrics),
    })),
  );
}

async function pageMeans(page) {
  return page.getByTestId('le-mean-row').evaluateAll((rows) =>
    rows.map((r) => ({ metric: r.dataset.metric, mean: Number(r.dataset.mean), stderr: r.dataset.stderr === '' ? null : Number(r.dataset.stderr), n: Number(r.dataset.n) })),
  );
}

/** Rows of a CSV text (RFC 4180: quoted fields may hold commas, quotes and newlines). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

test.beforeEach(() => {
  test.skip(!fs.existsSync(tinyhelenDir), `no TinyHelen data at ${tinyhelenDir}`);
});

for (const [name, query, backend] of [
  ['WebGPU', '/?backend=webgpu', 'webgpu'],
  ['CPU', '/?backend=cpu', 'cpu'],
]) {
  test(`answers Leaner-Eval on ${name}, streaming; texts, metrics and means equal the CLI's`, async ({ page, watched, baseURL }, info) => {
    await openReady(page, query, backend);
    await prepare(page, baseURL);
    // Records the first response's text length at every change of the panel, and whether it was finished then.
    await page.evaluate(() => {
      window.firstResponse = [];
      new MutationObserver(() => {
        const first = document.querySelector('[data-testid="le-response"]');
        if (!first) return;
        const length = first.querySelector('[data-testid="le-response-text"]').textContent.length;
        const last = window.firstResponse.at(-1);
        if (!last || last.length !== length || last.done !== first.dataset.done) window.firstResponse.push({ length, done: first.dataset.done });
      }).observe(document.getElementById('panel-leaner-eval'), { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await runToEnd(page);
    await page.screenshot({ path: info.outputPath(`leaner-eval-${backend}.png`), fullPage: true });

    // Streaming: the first response grew, step by step, before it (and so the run) was finished.
    const seen = await page.evaluate(() => window.firstResponse);
    const whileRunning = [...new Set(seen.filter((s) => s.done === 'false' && s.length > 0).map((s) => s.length))];
    console.log(`${name}: first response's lengths while streaming: ${whileRunning.join(', ')}`);
    expect(whileRunning.length).toBeGreaterThanOrEqual(3);
    expect(whileRunning).toEqual([...whileRunning].sort((a, b) => a - b));

    const cli = cliRun();
    const shown = await pageResponses(page);
    expect(shown.length).toBe(LIMIT);
    for (const r of shown) {
      const want = cli.samples[r.doc];
      expect(r.text, `response ${r.doc}`).toBe(want.resps[0][0]);
      expect(Object.keys(r.metrics).sort()).toEqual(Object.keys(want.metrics).sort());
      for (const [metric, value] of Object.entries(want.metrics)) expect(r.metrics[metric], `response ${r.doc} ${metric}`).toBe(value);
    }
    const means = await pageMeans(page);
    expect(means.map((m) => m.metric).sort()).toEqual(Object.keys(cli.samples[0].metrics).sort());
    for (const m of means) {
      expect(m.mean, m.metric).toBe(cli.results[`${m.metric},none`]);
      const stderr = cli.results[`${m.metric}_stderr,none`];
      if (stderr === 'N/A') expect(m.stderr).toBeNull();
      else expect(m.stderr, `${m.metric} stderr`).toBeCloseTo(stderr, 12);
    }
  });
}

/** An OpenAI-compatible chat endpoint on 127.0.0.1 that answers the i-th request with scores `A. i\t3\t2`, except the second, refused with HTTP 429. */
async function stubJudge() {
  const seen = [];
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type', 'access-control-allow-methods': 'POST, OPTIONS' };
  const server = http.createServer((req, res) => {
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body: JSON.parse(body) });
      const headers = { ...cors, 'content-type': 'application/json' };
      if (seen.length === 2) return res.writeHead(429, headers).end(JSON.stringify({ error: { message: 'rate limit reached, try again later' } }));
      res.writeHead(200, headers).end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: `A. ${seen.length}\\t3\\t2` } }] }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

test('judges through an OpenAI-compatible endpoint, keeps the key out of storage, keeps ratings across a reload, and exports and links them', async ({ page, context, watched, baseURL }, info) => {
  const judge = await stubJudge();
  watched.allowedOrigins.push(judge.origin);
  const key = 'sk-test-not-a-real-key-123';
  try {
    await openReady(page, '/?backend=cpu', 'cpu');
    await prepare(page, baseURL);
    await runToEnd(page);
    const cli = cliRun();

    // The judge.
    await page.getByTestId('le-judge-url').fill(`${judge.origin}/v1`);
    await page.getByTestId('le-judge-model').fill('stub-judge');
    await page.getByTestId('le-judge-key').fill(key);
    await expect(page.getByTestId('le-judge-remember')).not.toBeChecked();
    const before = Number(await page.getByTestId('le-judge-status').getAttribute('data-finished-runs'));
    await page.getByTestId('le-judge-run').click();
    const status = await waitForRun(page, 'le-judge-status', before);
    expect(status).toBe(`Done: ${LIMIT} responses judged, 1 without scores (see each response)`);
    expect(judge.seen.length).toBe(LIMIT);
    for (const [i, s] of judge.seen.entries()) {
      expect(s.method).toBe('POST');
      expect(s.url).toBe('/v1/chat/completions');
      expect(s.authorization).toBe(`Bearer ${key}`);
      expect(s.body.model).toBe('stub-judge');
      expect(s.body.temperature).toBe(0);
      // TinyHelen's prompt with the question and the response as generation A.
      expect(s.body.messages[0].content).toContain(`##QUESTION\n${cli.samples[i].doc.question}\n`);
      expect(s.body.messages[0].content).toContain(`###A\n${cli.samples[i].resps[0][0]}\n`);
    }
    const items = page.getByTestId('le-response');
    for (const i of [0, 2, 3, 4]) {
      const scores = items.nth(i).getByTestId('le-judge-scores');
      await expect(scores).toHaveText(`judge: grammar ${i + 1} · coherence 3 · specificity 2`);
    }
    await expect(items.nth(1).getByTestId('le-judge-error')).toHaveText(
      `judge: POST ${judge.origin}/v1/chat/completions: HTTP 429: the endpoint answered with an error: rate limit reached, try again later`,
    );
    // Chromium reports the refused request on the console; that one message is expected.
    const refused = watched.consoleErrors.findIndex((m) => m.includes('status of 429'));
    expect(refused, 'the 429 is on the console').toBeGreaterThanOrEqual(0);
    watched.consoleErrors.splice(refused, 1);
    // The judge's means beside the judge-free ones: the four scored responses.
    const means = Object.fromEntries((await pageMeans(page)).map((m) => [m.metric, m]));
    expect(means.judge_grammar.mean).toBe((1 + 3 + 4 + 5) / 4);
    expect(means.judge_grammar.n).toBe(4);
    // Compare's entry for the run now has the judge's means too, beside the judge-free ones.
    await openTab(page, 'compare');
    await expect(page.getByTestId('compare-run')).toHaveCount(1);
    const compared = (metric) => page.locator(`[data-testid="compare-row"][data-task="leaner_eval"][data-metric="${metric}"] td`).nth(2);
    await expect(compared('judge_grammar')).toHaveAttribute('data-value', String(3.25));
    await expect(compared('distinct_1')).toHaveAttribute('data-value', String(cli.results['distinct_1,none']));
    await openTab(page, 'leaner-eval');

    // The key: only in memory by default; in localStorage only while "remember" is ticked.
    const storage = () => page.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(await storage()).not.toContain(key);
    await page.getByTestId('le-judge-remember').check();
    expect(await storage()).toContain(key);
    await page.getByTestId('le-judge-remember').uncheck();
    expect(await storage()).not.toContain(key);

    // Ratings by hand.
    await items.nth(0).getByTestId('le-rate-grammar').selectOption('4');
    await items.nth(0).getByTestId('le-rate-coherence').selectOption('2');
    await items.nth(0).getByTestId('le-rate-specificity').selectOption('5');
    await items.nth(2).getByTestId('le-rate-grammar').selectOption('1');
    await page.screenshot({ path: info.outputPath('leaner-eval-judged.png'), fullPage: true });

    // A permalink: the means (the judge's and the ratings' too) and the sampling settings, no key, question or response.
    await page.getByTestId('le-permalink').click();
    const link = await page.getByTestId('le-link').inputValue();
    const decoded = decodeURIComponent(link);
    expect(decoded).not.toContain(key);
    expect(decoded).not.toContain(cli.samples[0].doc.question);
    expect(decoded).not.toContain(cli.samples[0].resps[0][0]);
    const shared = await context.newPage();
    shared.on('console', (msg) => msg.type() === 'error' && watched.consoleErrors.push(msg.text()));
    await shared.goto(link);
    await expect(shared.getByTestId('compare-run')).toHaveAttribute('title', `tinyhelen-1m · cpu · k=0 · limit ${LIMIT} · seed ${SEED} · ${MAX_TOKENS} new tokens, temperature 0, top-p 1`);
    const sharedMean = (metric) => shared.locator(`[data-testid="compare-row"][data-task="leaner_eval"][data-metric="${metric}"] td`).nth(2);
    await expect(sharedMean('human_grammar')).toHaveAttribute('data-value', String(2.5));
    await expect(sharedMean('judge_grammar')).toHaveAttribute('data-value', String(3.25));
    await expect(sharedMean('distinct_1')).toHaveAttribute('data-value', String(cli.results['distinct_1,none']));
    await shared.close();

    // Exports.
    const jsonl = (await downloadFrom(page, 'le-export-jsonl')).bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(jsonl.length).toBe(LIMIT);
    for (const [i, row] of jsonl.entries()) {
      expect(row.model).toBe('tinyhelen-1m');
      expect(row.doc.question).toBe(cli.samples[i].doc.question);
      expect(row.question_id).toBe(cli.samples[i].doc.hash);
      expect(row.response).toBe(cli.samples[i].resps[0][0]);
      expect(row.metrics).toEqual(cli.samples[i].metrics);
    }
    expect(jsonl[0].judge).toEqual({ grammar: 1, coherence: 3, specificity: 2 });
    expect(jsonl[1].judge.error).toContain('rate limit reached');
    expect(jsonl[0].human).toEqual({ grammar: 4, coherence: 2, specificity: 5 });
    expect(jsonl[2].human).toEqual({ grammar: 1, coherence: null, specificity: null });
    expect(jsonl[1].human).toEqual({ grammar: null, coherence: null, specificity: null });

    const [header, ...csv] = parseCsv((await downloadFrom(page, 'le-export-csv')).bytes.toString('utf8'));
    expect(header.slice(0, 6)).toEqual(['model', 'doc_id', 'question_id', 'question', 'response', 'stop_reason']);
    expect(header.slice(-3)).toEqual(['human_grammar', 'human_coherence', 'human_specificity']);
    expect(csv.length).toBe(LIMIT);
    const column = (row, name) => row[header.indexOf(name)];
    for (const [i, row] of csv.entries()) {
      expect(row.length).toBe(header.length);
      expect(column(row, 'response')).toBe(cli.samples[i].resps[0][0]);
      expect(Number(column(row, 'distinct_1'))).toBe(cli.samples[i].metrics.distinct_1);
    }
    expect(csv[0].slice(-3)).toEqual(['4', '2', '5']);
    expect(column(csv[0], 'judge_grammar')).toBe('1');
    expect(column(csv[1], 'judge_error')).toContain('rate limit reached');

    const results = JSON.parse((await downloadFrom(page, 'le-export-json')).bytes.toString('utf8'));
    for (const metric of Object.keys(cli.samples[0].metrics)) expect(results.results.leaner_eval[`${metric},none`]).toBe(cli.results[`${metric},none`]);
    expect(results.results.leaner_eval['judge_grammar,none']).toBe(3.25);
    expect(results.results.leaner_eval['human_grammar,none']).toBe(2.5);
    expect(results['n-samples'].leaner_eval.effective).toBe(LIMIT);
    expect(results.configs.leaner_eval.generation_kwargs).toEqual({ max_new_tokens: MAX_TOKENS, temperature: 0, top_p: 1, seed: SEED, stop: ['\n###'] });
    expect(results.configs.leaner_eval.judge).toEqual({ url: `${judge.origin}/v1/chat/completions`, model: 'stub-judge', failures: 1 });
    expect(JSON.stringify(results)).not.toContain(key);

    // After a reload, the same model's answers to the same questions show the ratings again.
    await page.reload();
    await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
    await prepare(page, baseURL);
    await runToEnd(page);
    await expect(items.nth(0).getByTestId('le-rate-grammar')).toHaveValue('4');
    await expect(items.nth(0).getByTestId('le-rate-coherence')).toHaveValue('2');
    await expect(items.nth(0).getByTestId('le-rate-specificity')).toHaveValue('5');
    await expect(items.nth(2).getByTestId('le-rate-grammar')).toHaveValue('1');
    await expect(items.nth(1).getByTestId('le-rate-grammar')).toHaveValue('');
    await expect(page.getByTestId('le-judge-key')).toHaveValue('');
    expect(await storage()).not.toContain(key);
  } finally {
    await judge.close();
  }
});

for (const [name, query, backend] of backends) {
  test(`the page answers clicks while the model writes on ${name}, and cancel stops it within a second`, async ({ page, watched, baseURL }) => {
    await openReady(page, query, backend);
    await prepare(page, baseURL, { limit: 50, maxTokens: 128 });
    await page.getByTestId('le-run').click();
    const status = page.getByTestId('le-status');
    await expect(status).toHaveText(/^Running: question \d+ of 50 · \d+ tokens · \d+ tokens\/s$/);
    await expect(page.getByTestId('le-progress')).toBeVisible();
    let t = Date.now();
    await page.getByTestId('tab-models').click();
    await expect(page.getByTestId('tab-models')).toHaveAttribute('aria-selected', 'true', { timeout: 1000 });
    console.log(`tab switch during generation: ${Date.now() - t} ms`);
    await openTab(page, 'leaner-eval');
    // A few tokens in (past the first step, which compiles the GPU's kernels).
    await expect(status).toHaveText(/ · ([3-9]|\d\d+) tokens · /);
    t = Date.now();
    await page.getByTestId('le-cancel').click({ force: true, timeout: 1000 });
    await expect(status).toHaveText('Cancelled', { timeout: 1000 });
    console.log(`cancel took ${Date.now() - t} ms`);
    await expect(page.getByTestId('le-run')).toBeEnabled();
  });
}

test('a broken questions file names the file and line; a run needs questions', async ({ page, watched }) => {
  const dir = tempDir();
  const file = path.join(dir, 'questions.jsonl');
  fs.writeFileSync(file, '{"question": "Why is the sky blue?"}\n{"prompt": "no question here"}\n');
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'leaner-eval');
  await page.getByTestId('le-run').click();
  await expect(page.getByTestId('le-status')).toHaveText('Error: load the questions first (a URL or a file)');
  await page.getByTestId('le-questions-upload').setInputFiles(file);
  await expect(page.getByTestId('le-questions-status')).toHaveText('questions.jsonl: line 2: no `question` field');
  fs.writeFileSync(file, '{"question": "Why is the sky blue?"}\n');
  await page.getByTestId('le-questions-upload').setInputFiles(file);
  await expect(page.getByTestId('le-questions-status')).toHaveText('1 question from questions.jsonl');
});
