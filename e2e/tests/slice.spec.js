// The first end-to-end slice: type a sentence, see each token's log-probability,
// computed in the browser on WebGPU or on the CPU backend, equal to the CLI's
// and to transformers' numbers.
import { test, expect, openReady, openTab, scoreOnPage, scoreWithCli, transformersGolden, maxAbsDiff, demoModelQuery } from './fixtures.js';

const golden = transformersGolden().texts.find((t) => t.text === 'The cat sat on the mat.');

// The transformers goldens are of llama-2k-1m-random, loaded by its URL.
for (const [name, query, backend] of [
  ['WebGPU', `/?backend=webgpu&${demoModelQuery}`, 'webgpu'],
  ['CPU', `/?backend=cpu&${demoModelQuery}`, 'cpu'],
]) {
  test(`scores a sentence on ${name}, equal to the CLI and to transformers`, async ({ page, watched }, info) => {
    await openReady(page, query, backend);
    const rows = await scoreOnPage(page, golden.text);
    await page.screenshot({ path: info.outputPath(`tokens-${backend}.png`), fullPage: true });

    expect(rows.map((r) => r.id)).toEqual(golden.tokens);
    const ours = rows.map((r) => r.logprob);
    const diffGolden = maxAbsDiff(ours, golden.logprobs);
    const cli = scoreWithCli(golden.text);
    expect(cli.tokens).toEqual(golden.tokens);
    const diffCli = maxAbsDiff(ours, cli.logprobs);
    console.log(`${name}: max |page - transformers| = ${diffGolden.toExponential(2)}, max |page - CLI| = ${diffCli.toExponential(2)}`);
    expect(diffGolden).toBeLessThanOrEqual(1e-4);
    expect(diffCli).toBeLessThanOrEqual(1e-4);
  });
}

test('WebGPU and CPU give the same numbers for the same text', async ({ browser }) => {
  const text = 'Tom has a red ball. He likes to play with it every day!';
  const results = {};
  for (const [query, backend] of [[`/?backend=webgpu&${demoModelQuery}`, 'webgpu'], [`/?backend=cpu&${demoModelQuery}`, 'cpu']]) {
    const page = await browser.newPage();
    await openReady(page, query, backend);
    results[backend] = (await scoreOnPage(page, text)).map((r) => r.logprob);
    await page.close();
  }
  expect(maxAbsDiff(results.webgpu, results.cpu)).toBeLessThanOrEqual(1e-4);
});

test('the page answers clicks while a long text is being scored, and cancel stops it', async ({ page, watched }, info) => {
  await openReady(page, '/?backend=cpu', 'cpu');
  await openTab(page, 'contamination');
  const story = transformersGolden().texts.reduce((a, t) => (t.text.length > a.length ? t.text : a), '');
  await page.getByTestId('text-input').fill(Array(8).fill(story).join('\n\n'));
  await page.getByTestId('score-button').click();
  await expect(page.getByTestId('run-status')).toHaveText(/^Running/);
  const clicked = Date.now();
  await page.getByTestId('cancel-button').click({ timeout: 1000 });
  await expect(page.getByTestId('run-status')).toHaveText('Cancelled', { timeout: 1000 });
  console.log(`cancel took ${Date.now() - clicked} ms`);
  await page.screenshot({ path: info.outputPath('cancelled.png') });
  // Still usable: a new run completes.
  await scoreOnPage(page, 'A short one.');
});
