// Every reference model (llama with GQA, SentencePiece, bf16/f16 weights and
// scaled rotary positions, Qwen 2, Qwen 3, Gemma 3, OLMo 2, GPT-2, GPT-Neo,
// GPT-NeoX, and GGUF files), loaded by URL into the page and
// scored in the browser, on WebGPU and on the CPU backend (wasm): each
// log-probability within 1e-4 of transformers' (goldens from scripts/make_goldens.py
// and scripts/make_gguf_fixtures.py).
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, repoRoot, scoreOnPage, maxAbsDiff, openTab } from './fixtures.js';

const fixtures = path.join(repoRoot, 'core', 'tests', 'fixtures');
const cases = [
  ...fs
    .readdirSync(path.join(fixtures, 'goldens'))
    .filter((f) => f.endsWith('.json') && !f.startsWith('tokenizer_') && f !== 'llama-2k-1m-random.json')
    .map((f) => f.replace('.json', ''))
    // Models bundled with the site (public/models) are served at models/, the reference models at fixtures/models/.
    .map((name) => ({
      name,
      golden: path.join(fixtures, 'goldens', `${name}.json`),
      url: fs.existsSync(path.join(repoRoot, 'public', 'models', name)) ? `models/${name}/` : `fixtures/models/${name}/`,
    })),
  ...fs
    .readdirSync(path.join(fixtures, 'gguf'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ name: f.replace('.json', ''), golden: path.join(fixtures, 'gguf', f), url: `fixtures/gguf/${f.replace('.json', '.gguf')}` })),
];

test('there is a golden for every architecture', () => {
  const architectures = new Set(cases.map((c) => JSON.parse(fs.readFileSync(c.golden, 'utf8')).architecture));
  for (const a of [
    'LlamaForCausalLM',
    'Qwen2ForCausalLM',
    'Qwen3ForCausalLM',
    'Gemma3ForCausalLM',
    'Olmo2ForCausalLM',
    'GPT2LMHeadModel',
    'GPTNeoForCausalLM',
    'GPTNeoXForCausalLM',
  ])
    expect(architectures).toContain(a);
});

/** The case's texts that fit the context whole, with at least one predicted token, scored on the page. */
async function worstDifference(page, c) {
  const golden = JSON.parse(fs.readFileSync(c.golden, 'utf8'));
  const texts = golden.texts.filter((t) => !t.truncated_to && t.tokens.length >= 2).slice(0, 4);
  expect(texts.length, c.name).toBeGreaterThan(0);
  let worst = 0;
  for (const t of texts) {
    const rows = await scoreOnPage(page, t.text);
    expect(rows.map((r) => r.id), `${c.name}: token ids of ${JSON.stringify(t.text)}`).toEqual(t.tokens);
    worst = Math.max(worst, maxAbsDiff(rows.map((r) => r.logprob), t.logprobs));
  }
  return worst;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Several models a page: the first comes with the URL, the others are loaded
// through the Models tab as a user would, so that the page (and WebGPU's
// compiled kernels) are made once per group rather than once per model.
const GROUP = 8;
const groups = [];
for (let i = 0; i < cases.length; i += GROUP) groups.push(cases.slice(i, i + GROUP));

for (const backend of ['webgpu', 'cpu']) {
  for (const group of groups) {
    const names = group.map((c) => c.name).join(', ');
    test(`${names} on ${backend} match transformers`, async ({ page, watched }) => {
      const [first, ...rest] = group;
      await page.goto(`/?backend=${backend === 'cpu' ? 'cpu' : 'auto'}&model=${encodeURIComponent(first.url)}`);
      await expect(page.getByTestId('backend-label')).toHaveAttribute('data-backend', backend);
      const ready = page.getByTestId('model-status').locator('[data-ready="true"]');
      await expect(ready).toBeVisible();
      for (const c of [first, ...rest]) {
        if (c !== first) {
          // The URL field takes absolute URLs (type="url"), as a user would paste one.
          const url = new URL(c.url, page.url()).href;
          await openTab(page, 'models');
          await page.getByTestId('model-url').fill(url);
          await page.getByTestId('load-button').click();
          await expect(ready).toHaveText(new RegExp(`^${escapeRe(url.replace(/\/$/, ''))} · `), { timeout: 60_000 });
        }
        const worst = await worstDifference(page, c);
        console.log(`${c.name} on ${backend}: max |page - transformers| = ${worst.toExponential(2)}`);
        expect.soft(worst, `${c.name} on ${backend}`).toBeLessThanOrEqual(1e-4);
      }
    });
  }
}
