// layout.test.js: the look and accessibility: a 360 px phone and a desktop screenshot saved to
// screenshots/ with a check that nothing overflows sideways, touch targets of at least 44 px,
// and axe-core on the main views (list, grid, video with the queue, phone, dark theme, notices)
// with no serious or critical violation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, open, mediaState, until } from './lib/harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

/** Elements wider than the viewport, or a page that scrolls sideways. */
async function overflow(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > vw) out.push(`page scrollWidth ${document.documentElement.scrollWidth} > ${vw}`);
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      if (el.closest('.visually-hidden, .skip-link')) continue;
      if (r.right > vw + 0.5 || r.left < -0.5) out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className && el.className.baseVal === undefined ? el.className : ''} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
    return out;
  });
}

/** Pieces of the player bar that overlap each other (a squeezed layout). */
async function barOverlaps(page) {
  return page.evaluate(() => {
    const parts = ['.now', '.transport', '.extras', '.seekbar'].map((sel) => [sel, document.querySelector(sel).getBoundingClientRect()]);
    const out = [];
    for (let i = 0; i < parts.length; i += 1) {
      for (let j = i + 1; j < parts.length; j += 1) {
        const [a, ra] = parts[i];
        const [b, rb] = parts[j];
        const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (x > 1 && y > 1) out.push(`${a} overlaps ${b}`);
      }
    }
    return out;
  });
}

/** Visible buttons, links, selects and sliders smaller than 44 px in both directions they need. */
async function smallTargets(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('button, a[href], select, input')) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || el.closest('[hidden], .visually-hidden, .skip-link')) continue;
      if (el.type === 'range') {
        if (r.height < 24) out.push(`${el.id} slider ${r.height}px tall`);
        continue;
      }
      if (r.height < 44 || r.width < 44) out.push(`${el.id || el.className || el.tagName} ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return out;
  });
}

async function axe(page, what) {
  // Evaluated, not added as a script tag: the page's CSP (script-src 'self') refuses inline scripts.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(text, [], `axe on ${what}`);
  return result.violations.length;
}

test('desktop: screenshot, no overflow, axe on list, grid and video with the queue', async () => {
  const { context, page, log } = await open(browser, { viewport: { width: 1280, height: 800 } });
  await axe(page, 'the desktop list');
  assert.deepEqual(await overflow(page), []);
  await page.click('.folder-row .row-main:has-text("Music")');
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("Long tone"))');
  await page.click('.layer [data-id]:has(.row-name:text-is("Follow up")) [data-action="enqueue"]');
  await page.click('#queue-btn');
  await until(async () => (await mediaState(page)).currentTime > 0.5, 'playback');
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(shots, 'desktop.png') });
  assert.deepEqual(await overflow(page), []);
  assert.deepEqual(await smallTargets(page), []);
  await axe(page, 'the desktop list with the queue open and audio playing');
  await page.click('[data-view="grid"]');
  await axe(page, 'the grid');
  await page.click('[data-view="list"]');
  await page.click('#crumbs .crumb:has-text("Library")');
  await page.click('.folder-row .row-main:has-text("Video")');
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("Test pattern"))');
  await page.waitForSelector('#video-stage:not([hidden])');
  assert.deepEqual(await overflow(page), []);
  await axe(page, 'the video view');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('360 px phone: screenshot, no overflow, touch targets, axe', async () => {
  const { context, page, log } = await open(browser, { viewport: { width: 360, height: 740 }, colorScheme: 'dark' });
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("A440 tone"))');
  await until(async () => (await mediaState(page)).currentTime > 0.3, 'playback');
  await page.$eval('#library', (s) => {
    s.scrollTop = 0;
  });
  await page.mouse.move(0, 0);
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(shots, 'phone-360.png') });
  assert.deepEqual(await overflow(page), []);
  assert.deepEqual(await smallTargets(page), []);
  await axe(page, 'the 360 px library in the dark theme');
  await page.click('#queue-btn');
  assert.deepEqual(await overflow(page), []);
  await axe(page, 'the 360 px queue sheet');
  await page.click('#queue-panel [aria-label="Close the queue"]');
  await page.click('.folder-row .row-main:has-text("Video")');
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("Noisy pattern"))');
  await page.waitForSelector('#video-stage:not([hidden])');
  assert.deepEqual(await overflow(page), []);
  await axe(page, 'the 360 px video view');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('tablets and in-between widths: no overflow, no overlap in the player bar', async () => {
  for (const viewport of [{ width: 768, height: 1024 }, { width: 1024, height: 768 }, { width: 701, height: 600 }, { width: 820, height: 600 }, { width: 360, height: 640 }]) {
    const { context, page } = await open(browser, { viewport });
    await page.click('.folder-row .row-main:has-text("Video")');
    await page.click('.layer [data-id] .row-main:has(.row-name:text-is("Test pattern"))');
    await page.waitForSelector('#video-stage:not([hidden])');
    const where = `${viewport.width}x${viewport.height}`;
    assert.deepEqual(await overflow(page), [], where);
    assert.deepEqual(await barOverlaps(page), [], where);
    await context.close();
  }
});

test('notices, errors and the shortcuts dialog pass axe too', async () => {
  const { context, page } = await open(browser);
  await page.fill('#search', 'zzzz nothing');
  await page.waitForSelector('#notice:not([hidden])');
  await axe(page, 'the no-results notice');
  await page.fill('#search', '');
  await page.click('.folder-row .row-main:has-text("Broken")');
  await page.click('.layer [data-id] .row-main');
  await page.waitForSelector('#player-error:not([hidden])', { timeout: 15000 });
  await axe(page, 'the playback error');
  await page.locator('#play-btn').focus();
  await page.keyboard.press('?');
  await page.waitForSelector('#shortcuts[open]');
  assert.match(await page.textContent('#shortcuts'), /Keyboard shortcuts.*Play or pause/s);
  await axe(page, 'the shortcuts dialog');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#shortcuts', { state: 'hidden' });
  await context.close();
});
