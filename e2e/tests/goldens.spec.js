// Every reference model (llama with GQA, SentencePiece, bf16/f16 weights and
// scaled rotary positions, Qwen 2, Qwen 3, Gemma 3, OLMo 2, GPT-2, GPT-Neo,
// GPT-NeoX, and GGUF files), loaded by URL into the page and
// scored in the browser, on WebGPU and on the CPU backend (wasm): each
// log-probability within 1e-4 of transformers' (goldens from scripts/make_goldens.py
// and scripts/make_gguf_fixtures.py).
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, repoRoot, scoreOnPage, maxAbsDiff } from './fixtures.js';

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

for (const backend of ['webgpu', 'cpu']) {
  for (const c of cases) {
    test(`${c.name} on ${backend} matches transformers`, async ({ page, watched }) => {
      const golden = JSON.parse(fs.readFileSync(c.golden, 'utf8'));
      const query = `/?backend=${backend === 'cpu' ? 'cpu' : 'auto'}&model=${encodeURIComponent(c.url)}`;
      await page.goto(query);
      await expect(page.getByTestId('backend-label')).toHaveAttribute('data-backend', backend);
      await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toBeVisible();
      // Texts that fit the context whole, with at least one predicted token.
      const texts = golden.texts.filter((t) => !t.truncated_to && t.tokens.length >= 2).slice(0, 4);
      expect(texts.length).toBeGreaterThan(0);
      let worst = 0;
      for (const t of texts) {
        const rows = await scoreOnPage(page, t.text);
        expect(rows.map((r) => r.id), `token ids of ${JSON.stringify(t.text)}`).toEqual(t.tokens);
        worst = Math.max(worst, maxAbsDiff(rows.map((r) => r.logprob), t.logprobs));
      }
      console.log(`${c.name} on ${backend}: max |page - transformers| = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(1e-4);
    });
  }
}
