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
