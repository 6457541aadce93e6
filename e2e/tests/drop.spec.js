// Drag and drop of a whole model folder, as a file manager drops it: Chromium
// gets the folder's path through the DevTools protocol (Input.dispatchDragEvent),
// so the page sees a real directory entry (DataTransferItem.webkitGetAsEntry)
// and reads the folder itself. A folder without config.json, or without any
// model file, is named with what is missing; the page stays usable.
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, openReady, openTab, defaultModel, defaultModelName, tempDir, cpuOnly } from './fixtures.js';

/** Drops the files or folders at `paths` (on this machine) onto the element with `testid`, as the OS does. */
async function dropPaths(page, testid, paths) {
  const zone = page.getByTestId(testid);
  await zone.scrollIntoViewIfNeeded();
  const box = await zone.boundingBox();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop']) await cdp.send('Input.dispatchDragEvent', { type, x, y, data });
  await cdp.detach();
}

const ready = (page, role) => page.getByTestId(role === 'target' ? 'model-status' : 'reference-model-status').locator('[data-ready="true"]');

for (const [name, query, backend] of cpuOnly) {
  test(`a dropped model folder loads on ${name}, with its parameters and vocabulary; a folder without config.json says so and the page stays usable`, async ({ page, watched }, info) => {
    await openReady(page, query, backend);
    const bundled = await ready(page, 'target').textContent();
    const config = JSON.parse(fs.readFileSync(path.join(defaultModel, 'config.json'), 'utf8'));

    // The folder as it is on disk (model card, loss curve and training log beside the model files).
    await dropPaths(page, 'reference-drop', [defaultModel]);
    await expect(page.getByTestId('reference-note')).toHaveText(/read from your files/);
    const dropped = ready(page, 'reference');
    await expect(dropped).toContainText(`${defaultModelName} · `);
    await expect(dropped).toContainText(`vocabulary ${config.vocab_size}`);
    await expect(dropped).toContainText(/[\d.]+M parameters/);
    // The same model as the bundled copy the page opened with: the same description, parameters to weights' size.
    expect(await dropped.textContent()).toBe(bundled);
    await page.screenshot({ path: info.outputPath('dropped-folder.png'), fullPage: true });

    // A folder without config.json: the error names the folder and the file; the loaded model stays.
    const broken = path.join(tempDir(), 'broken-model');
    fs.mkdirSync(broken);
    for (const f of fs.readdirSync(defaultModel).filter((f) => f !== 'config.json')) fs.copyFileSync(path.join(defaultModel, f), path.join(broken, f));
    await dropPaths(page, 'target-drop', [broken]);
    await expect(page.getByTestId('target-error')).toContainText('broken-model: config.json is missing');
    await expect(ready(page, 'target')).toHaveText(bundled);

    // A folder with no model file at all is named as such.
    const notes = path.join(tempDir(), 'just-notes');
    fs.mkdirSync(notes);
    fs.writeFileSync(path.join(notes, 'README.md'), '# not a model\n');
    await dropPaths(page, 'target-drop', [notes]);
    await expect(page.getByTestId('target-read-error')).toContainText('just-notes: no model files in this folder');
    // Only this drop's error shows, and the model loaded before stays.
    await expect(page.getByTestId('target-error')).toHaveCount(0);
    await expect(ready(page, 'target')).toHaveText(bundled);
    await page.screenshot({ path: info.outputPath('dropped-broken.png'), fullPage: true });

    // Still usable: the target model scores a passage.
    await openTab(page, 'contamination');
    await page.getByTestId('text-input').fill('Still works after a bad drop.');
    await page.getByTestId('score-button').click();
    await expect(page.getByTestId('run-status')).toHaveText(/^Done/);
  });
}

test('a dropped .gguf file loads', async ({ page, watched }) => {
  const gguf = path.resolve(import.meta.dirname, '..', '..', 'core', 'tests', 'fixtures', 'gguf', 'llama-sp-f32.gguf');
  await openReady(page, '/?backend=cpu', 'cpu');
  await dropPaths(page, 'reference-drop', [gguf]);
  await expect(page.getByTestId('reference-note')).toHaveText(/read from your files/);
  await expect(ready(page, 'reference')).toContainText('llama-sp-f32.gguf');
});
