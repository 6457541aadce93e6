// n-gram overlap in Contamination, as a user runs it: a task and a corpus
// (JSONL and text files chosen together, or a URL) give the overlapping items
// and shared 13-grams of `tinyeval overlap` on the same files, run live here;
// the shared words are marked in each item; a broken corpus line is named.
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, openReady, openTab, runCli, tempDir, repoRoot, waitForRun } from './fixtures.js';

const task = 'demo_sentiment';
const limit = 40;

/** lm-eval's decontamination normalisation, to read the marked words back. */
const normalize = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[!-/:-@[-`{-~]/g, '').split(/\s+/).filter(Boolean).join(' ');

/** A corpus with some of the task's items inside (whole, or altered in case and punctuation), in two files. */
function writeCorpus(dir) {
  const docs = fs.readFileSync(path.join(repoRoot, 'public', 'tasks', 'demo', 'demo_sentiment_test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const item = (d) => `${d.sentence}\nQuestion: Is this sentence positive or negative?\nAnswer: ${['negative', 'positive'][d.label]}`;
  const jsonl = [
    { text: 'A story about a cat who liked to sleep in the sun all day long and never once went out.' },
    { text: `Some words first. ${item(docs[3])} And more words after it.` },
    { problem: `${docs[7].sentence.toUpperCase()} QUESTION -- is this sentence: positive, or negative?`, hints: ['none'] },
    { text: 'Nothing to see here.' },
  ];
  fs.writeFileSync(path.join(dir, 'corpus.jsonl'), jsonl.map((d) => JSON.stringify(d)).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'notes.txt'), `Notes.\n\n${item(docs[12])}\n${item(docs[3])}\n`);
  return [path.join(dir, 'corpus.jsonl'), path.join(dir, 'notes.txt')];
}

/** `tinyeval overlap`'s rows of the items that share an n-gram. */
function cliOverlap(corpus) {
  const out = tempDir();
  runCli(['overlap', '--tasks', task, '--corpus', corpus.join(','), '--limit', String(limit), '--output_path', out]);
  return fs.readFileSync(path.join(out, `overlap_${task}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.shared_ngrams > 0);
}

async function findOverlaps(page) {
  const before = Number(await page.getByTestId('overlap-status').getAttribute('data-finished-runs'));
  await page.getByTestId('overlap-run').click();
  return waitForRun(page, 'overlap-status', before);
}

async function pageRows(page) {
  return page.getByTestId('overlap-row').evaluateAll((rs) =>
    rs.map((r) => ({
      doc_id: Number(r.dataset.docId),
      idx: Number(r.dataset.idx),
      ngrams: Number(r.dataset.ngrams),
      fraction: Number(r.dataset.fraction),
      shared: JSON.parse(r.dataset.shared).map(([ngram, first_document]) => ({ ngram, first_document })),
      marks: [...r.querySelectorAll('mark')].map((m) => m.textContent),
    })),
  );
}

function expectSameAsCli(rows, cli, atLeast) {
  expect(cli.length).toBeGreaterThanOrEqual(atLeast);
  expect(rows.map((r) => r.doc_id)).toEqual(cli.map((r) => r.doc_id));
  for (const [r, c] of rows.map((r, i) => [r, cli[i]])) {
    expect(r.idx).toBe(c.idx);
    expect(r.ngrams).toBe(c.ngrams);
    expect(r.fraction).toBe(c.fraction);
    expect(r.shared).toEqual(c.shared);
    // Every shared n-gram lies inside one marked run of the item's text.
    const marked = r.marks.map(normalize);
    for (const s of r.shared) expect(marked.some((m) => ` ${m} `.includes(` ${s.ngram} `)), `doc ${r.doc_id}: ${s.ngram}`).toBe(true);
  }
}

test('overlap with uploaded corpus files equals tinyeval overlap, shared words marked', async ({ page, watched }, info) => {
  const corpus = writeCorpus(tempDir());
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'contamination');
  await page.getByTestId('overlap-task').selectOption(task);
  await page.getByTestId('overlap-limit').fill(String(limit));
  await page.getByTestId('overlap-corpus-upload').setInputFiles(corpus);
  await expect(page.getByTestId('overlap-corpus-info')).toHaveText('using corpus.jsonl, notes.txt');
  const text = await findOverlaps(page);
  const cli = cliOverlap(corpus);
  expect(text).toBe(`Done: ${cli.length} of ${limit} items of ${task} share a 13-gram with the corpus (5 documents)`);
  const rows = await pageRows(page);
  expectSameAsCli(rows, cli, 3);
  await page.getByTestId('overlap-table').scrollIntoViewIfNeeded();
  await page.screenshot({ path: info.outputPath('overlap.png'), fullPage: true });
});

test('overlap with a corpus URL; a broken corpus line names the file and line', async ({ page, watched, baseURL }) => {
  const dir = tempDir();
  const [jsonl] = writeCorpus(dir);
  // The corpus is served beside the page (same origin), as a user's own server would.
  await page.route('**/corpus/*.jsonl', (route) => {
    const file = path.join(dir, path.basename(new URL(route.request().url()).pathname));
    return route.fulfill({ status: 200, contentType: 'application/jsonl', body: fs.readFileSync(file) });
  });
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'contamination');
  await page.getByTestId('overlap-task').selectOption(task);
  await page.getByTestId('overlap-limit').fill(String(limit));
  await page.getByTestId('overlap-corpus-url').fill(`${baseURL}corpus/corpus.jsonl`);
  expect(await findOverlaps(page)).toMatch(/^Done: /);
  // Items 3 and 7 are in corpus.jsonl (12 is in notes.txt only).
  expectSameAsCli(await pageRows(page), cliOverlap([jsonl]), 2);

  fs.writeFileSync(path.join(dir, 'broken.jsonl'), '{"text": "fine"}\n{"text": "cut off\n');
  await page.getByTestId('overlap-corpus-url').fill(`${baseURL}corpus/broken.jsonl`);
  const text = await findOverlaps(page);
  expect(text).toContain('corpus/broken.jsonl');
  expect(text).toContain('line 2');
  // The previous result stays on screen.
  await expect(page.getByTestId('overlap-row').first()).toBeVisible();
});
