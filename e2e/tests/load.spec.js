// A new visitor opens the page: it loads the demo model offline, says where it
// runs, and logs no errors.
import { test, expect, defaultModelName } from './fixtures.js';

test('the page loads the demo model with no console errors', async ({ page, watched }, info) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'tinyeval' })).toBeVisible();
  const status = page.getByTestId('model-status');
  await expect(status.locator('[data-ready="true"]')).toContainText(defaultModelName);
  await expect(status).toContainText('vocabulary 2000');
  await expect(page.getByTestId('backend-label')).toHaveText(/^(WebGPU · .+|CPU · burn flex)$/);
  await page.screenshot({ path: info.outputPath('loaded.png'), fullPage: true });
});

test('left to itself, the page times both backends on the model and keeps the faster, saying so', async ({ page, watched }, info) => {
  await page.goto('/');
  await expect(page.getByTestId('model-status').locator('[data-ready="true"]')).toContainText(defaultModelName);
  const note = page.getByTestId('backend-note');
  // The CPU is timed through the page's pool of workers, one a core.
  await expect(note).toHaveText(/CPU, \d+ workers?: [\d,]+ tokens\/s; WebGPU \(.+\): [\d,]+ tokens\/s: using (CPU|WebGPU)/);
  const [, cpu, gpu, using] = (await note.textContent()).match(/CPU, \d+ workers?: ([\d,]+) tokens\/s; WebGPU \(.+\): ([\d,]+) tokens\/s: using (\w+)/);
  const rate = (s) => Number(s.replaceAll(',', ''));
  // The backend in use is the faster one (on this machine's software adapter, the CPU).
  expect(using).toBe(rate(cpu) >= rate(gpu) ? 'CPU' : 'WebGPU');
  await expect(page.getByTestId('backend-label')).toHaveAttribute('data-backend', using === 'CPU' ? 'cpu' : 'webgpu');
  await page.screenshot({ path: info.outputPath('measured.png'), fullPage: true });
  // The user can switch: the link forces the other backend.
  await page.getByTestId('backend-switch').click();
  await expect(page).toHaveURL(using === 'CPU' ? /\?backend=webgpu$/ : /\?backend=cpu$/);
  await expect(page.getByTestId('backend-label')).toHaveAttribute('data-backend', using === 'CPU' ? 'webgpu' : 'cpu');
  await expect(page.getByTestId('backend-note')).not.toContainText('measured');
});
