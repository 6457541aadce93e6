// The page's look and access, as the issue asks of every view: light and dark
// themes follow the system (charts included); a 390-pixel phone never scrolls
// sideways (wide tables and charts scroll inside their own boxes); every
// control has an accessible name; a run can be started with the keyboard alone.
import { test, expect, openReady, openTab, waitForRun } from './fixtures.js';

const TABS = ['models', 'benchmarks', 'leaner-eval', 'contamination', 'compare'];

/** Runs the demo benchmark on 10 docs, so that tables and charts are on the page. */
async function smallRun(page) {
  await openTab(page, 'benchmarks');
  await page.getByTestId('opt-limit').fill('10');
  const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
  await page.getByTestId('bench-run').click();
  expect(await waitForRun(page, 'bench-status', before)).toMatch(/^Done/);
}

/** Relative luminance (0 = black, 1 = white) of a CSS `rgb(...)` colour. */
function luminance(css) {
  const [r, g, b] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

for (const scheme of ['light', 'dark']) {
  test(`follows the system's ${scheme} theme, charts and text legible on it`, async ({ page, watched }, info) => {
    await page.emulateMedia({ colorScheme: scheme });
    await openReady(page, '/?backend=cpu', 'cpu');
    await smallRun(page);
    const colours = await page.evaluate(() => {
      const style = (el) => getComputedStyle(el);
      const card = document.querySelector('.card');
      const chart = document.querySelector('[data-testid="chart-benchmark"] svg');
      return { page: style(document.body).backgroundColor, text: style(document.body).color, card: style(card).backgroundColor, chart: style(chart).color };
    });
    const [bg, fg] = [luminance(colours.page), luminance(colours.text)];
    if (scheme === 'dark') expect(bg).toBeLessThan(0.05);
    else expect(bg).toBeGreaterThan(0.8);
    // WCAG contrast of the text on the page and on a card: at least 4.5.
    const contrast = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    expect(contrast(fg, bg)).toBeGreaterThan(4.5);
    expect(contrast(fg, luminance(colours.card))).toBeGreaterThan(4.5);
    // Charts draw their axes and labels in the text's colour (currentColor).
    expect(colours.chart).toBe(colours.text);
    await page.getByTestId('chart-benchmark').scrollIntoViewIfNeeded();
    await page.screenshot({ path: info.outputPath(`theme-${scheme}.png`), fullPage: true });
  });
}

test('on a 390-pixel phone no view scrolls sideways; wide tables and charts scroll in their own boxes', async ({ page, watched }, info) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openReady(page, '/?backend=cpu', 'cpu');
  await smallRun(page);
  for (const tab of TABS) {
    await openTab(page, tab);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${tab}: the page is ${width} px wide`).toBeLessThanOrEqual(390);
    await page.screenshot({ path: info.outputPath(`phone-${tab}.png`), fullPage: true });
  }
  // The benchmark chart keeps a legible size and scrolls inside its box.
  await openTab(page, 'benchmarks');
  const chart = await page.getByTestId('chart-benchmark').locator('svg').boundingBox();
  expect(chart.width).toBeGreaterThanOrEqual(470);
});

test('every control has an accessible name, and a benchmark runs from the keyboard alone', async ({ page, watched }) => {
  await openReady(page, '/?backend=cpu', 'cpu');
  await smallRun(page);
  for (const tab of TABS) {
    await openTab(page, tab);
    const unnamed = await page.evaluate((id) => {
      const panel = document.getElementById(`panel-${id}`);
      const name = (el) =>
        el.getAttribute('aria-label') ||
        (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby'))?.textContent) ||
        [...(el.labels ?? [])].map((l) => l.textContent).join(' ') ||
        (el.tagName === 'BUTTON' ? el.textContent : '') ||
        el.getAttribute('title') ||
        '';
      return [...panel.querySelectorAll('input, select, textarea, button')]
        .filter((el) => el.getClientRects().length > 0 && !name(el).trim())
        .map((el) => el.outerHTML.slice(0, 120));
    }, tab);
    expect(unnamed, `${tab}: controls without a name`).toEqual([]);
  }

  // Keyboard only: arrow keys to the Benchmarks tab, Tab to the Run button, Enter.
  await page.getByTestId('tab-models').click();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-benchmarks')).toBeFocused();
  await expect(page.getByTestId('tab-benchmarks')).toHaveAttribute('aria-selected', 'true');
  let onRun = false;
  for (let i = 0; i < 60 && !onRun; i++) {
    await page.keyboard.press('Tab');
    onRun = await page.evaluate(() => document.activeElement?.dataset.testid === 'bench-run');
    // Each stop shows where the focus is (an outline).
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    if (await page.evaluate(() => document.activeElement?.matches('button, input, select'))) expect(outline).not.toBe('none');
  }
  expect(onRun, 'Tab reaches the Run button').toBe(true);
  const before = Number(await page.getByTestId('bench-status').getAttribute('data-finished-runs'));
  await page.keyboard.press('Enter');
  expect(await waitForRun(page, 'bench-status', before)).toMatch(/^Done/);
});
