// library.test.js: the library in a real browser against the server on a Garage bucket: the
// list loads, search and the kind filter narrow it, folders open with a breadcrumb, sorting and
// the grid work, a hostile key shows as text and runs nothing, and an object uploaded while the
// page is open appears without a reload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, rowNames, until, put, del } from './lib/harness.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const FOLDER = '"><svg onload=alert(2)>';
const SCRIPT = '<iframe src=javascript:alert(3)>';
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

test('the list loads with folders, items and counts', async () => {
  const { context, page, log } = await open(browser);
  const names = await rowNames(page);
  assert.ok(names.includes('A440 tone'), `top-level items: ${names}`);
  assert.ok(names.includes('E660 tone'));
  const folders = await page.$$eval('.folder-row .row-name', (els) => els.map((e) => e.textContent));
  for (const f of ['Broken', 'Clips', 'Music', 'Video']) assert.ok(folders.includes(f), `folders: ${folders}`);
  const counts = await page.textContent('#counts');
  assert.match(counts, /folders/);
  assert.match(counts, /items/);
  assert.equal(await page.getAttribute('#conn', 'data-state'), 'open');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('search and the kind filter narrow the list', async () => {
  const { context, page } = await open(browser);
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
  await page.keyboard.type('tone');
  // The top level before the search applies also shows three items (the hostile key is one),
  // so wait for the search's own answer, not for a count.
  const tones = ['A440 tone', 'E660 tone', 'Long tone'];
  await until(
    async () => JSON.stringify((await rowNames(page)).sort()) === JSON.stringify(tones),
    'the three "tone" matches',
  );
  let names = await rowNames(page);
  assert.deepEqual(names.slice().sort(), tones);
  for (const n of names) assert.match(n.toLowerCase(), /tone/);
  assert.match(await page.textContent('#counts'), /matching/);

  await page.fill('#search', 'pattern');
  // The "tone" answer still on screen is three rows too: wait for three that match.
  await until(async () => {
    const rows = await rowNames(page);
    return rows.length === 3 && rows.every((n) => /pattern/i.test(n));
  }, 'three "pattern" matches');
  await page.click('[data-kind="video"]');
  names = await rowNames(page);
  assert.equal(names.length, 3);
  await page.fill('#search', 'VP9');
  await until(async () => (await rowNames(page)).length === 1, 'one VP9 match');
  assert.deepEqual(await rowNames(page), ['Test pattern (VP9)']);

  await page.fill('#search', '');
  await page.click('[data-kind="audio"]');
  // An empty list in between (the rows being replaced) matches "no pattern" too: wait for the tones.
  await until(async () => {
    const rows = await rowNames(page);
    return rows.length >= 2 && rows.includes('A440 tone') && rows.every((n) => !/pattern/i.test(n));
  }, 'audio only');
  const audio = await rowNames(page);
  assert.ok(audio.length >= 2 && audio.includes('A440 tone'));
  const folders = await page.$$eval('.folder-row .row-name', (els) => els.map((e) => e.textContent));
  assert.ok(!folders.includes('Video') && !folders.includes('Clips'), `audio folders: ${folders}`);

  await page.fill('#search', 'no such thing anywhere');
  await until(() => page.isVisible('#notice'), 'the no-results notice');
  assert.match(await page.textContent('#notice'), /Nothing matches/);
  await page.click('#notice button:has-text("Clear the search")');
  await until(async () => (await rowNames(page)).length > 0, 'rows back');
  await page.click('[data-kind="all"]');
  await context.close();
});

test('folders open with a breadcrumb, sort and grid work', async () => {
  const { context, page } = await open(browser);
  await page.click('.folder-row .row-main:has-text("Music")');
  // The top level also shows three items: wait for the folder's own.
  const music = ['Follow up', 'Long tone', 'Short chime'];
  await until(
    async () => JSON.stringify(await rowNames(page)) === JSON.stringify(music),
    'the Music folder',
  );
  const crumbs = await page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent));
  assert.deepEqual(crumbs, ['Library', 'Music']);
  assert.deepEqual(await rowNames(page), music);
  await page.selectOption('#sort', 'size-desc');
  await until(async () => (await rowNames(page))[0] === 'Long tone', 'largest first');
  await page.selectOption('#sort', 'name-desc');
  await until(async () => (await rowNames(page))[0] === 'Short chime', 'Z to A');
  await page.selectOption('#sort', 'name-asc');
  await page.click('[data-view="grid"]');
  await page.waitForSelector('.layer .card');
  assert.equal(await page.locator('.layer .card').count(), 3);
  await page.click('[data-view="list"]');
  // The folder is in the address: a reload stays there, Back goes up.
  assert.match(page.url(), /#folder=Music$/);
  await page.reload();
  await until(async () => (await rowNames(page)).includes('Long tone'), 'still in Music after a reload');
  await page.click('#crumbs .crumb:has-text("Library")');
  await until(async () => (await rowNames(page)).includes('A440 tone'), 'back at the top');
  await page.goBack();
  await until(async () => (await rowNames(page)).includes('Long tone'), 'Back returns to Music');
  await page.goBack();
  await until(async () => (await rowNames(page)).includes('A440 tone'), 'Back again: the top');
  await context.close();
});

test('arrow keys move between rows, Enter opens a folder', async () => {
  const { context, page } = await open(browser);
  await page.focus('.layer .row-main >> nth=0');
  const focusedName = () => page.evaluate(() => document.activeElement.querySelector('.row-name')?.textContent);
  const first = await focusedName();
  await page.keyboard.press('ArrowDown');
  const second = await focusedName();
  assert.notEqual(first, second);
  await page.keyboard.press('ArrowUp');
  assert.equal(await focusedName(), first);
  await page.keyboard.press('End');
  const names = await page.$$eval('.layer [role="listitem"] .row-name', (els) => els.map((e) => e.textContent));
  assert.equal(await focusedName(), names[names.length - 1]);
  await page.keyboard.press('Home');
  // The first row is a folder: Enter opens it.
  await page.keyboard.press('Enter');
  await until(async () => (await page.$$eval('#crumbs .crumb', (els) => els.length)) === 2, 'Enter opened the folder');
  await context.close();
});

test('a hostile key is shown as text and runs nothing', async () => {
  const { context, page, log } = await open(browser);
  // The real alert stays: any script run from a name would open a dialog, which the harness logs.
  const names = await rowNames(page);
  assert.ok(names.includes(HOSTILE), `the hostile name is listed as text: ${names}`);
  assert.equal(await page.locator('.layer img').count(), 0, 'no <img> element was created from the key');
  await page.click(`.row-main:has-text("${HOSTILE}")`);
  await until(async () => (await page.textContent('#now-title')) === HOSTILE, 'the title shown as text');
  // (Not "onerror": media.test.js's fixtures hold a title with it.)
  await page.fill('#search', 'alert(1)');
  await until(async () => (await rowNames(page)).length === 1, 'search by the hostile text');
  await page.click('#queue-btn');
  assert.equal(await page.locator('#queue-panel img').count(), 0);
  await page.click('#queue-panel [aria-label="Close the queue"]');
  // A hostile folder name and a hostile name inside it: breadcrumb, rows, player bar.
  await page.fill('#search', '');
  await page.locator('.folder-row .row-main').filter({ hasText: FOLDER }).click();
  await until(async () => (await page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent))).includes(FOLDER), 'the hostile folder');
  assert.deepEqual(await rowNames(page), [SCRIPT]);
  await page.click('.layer [data-id] .row-main');
  await until(async () => (await page.textContent('#now-sub')) === FOLDER, 'the folder shown as text');
  assert.equal(await page.textContent('#now-title'), SCRIPT);
  await page.waitForTimeout(500);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.equal(await page.locator('svg[onload], body script, iframe').count(), 0, 'no element made from a name');
  assert.deepEqual(log.dialogs, [], 'no dialog opened');
  await context.close();
});

test('an object uploaded during the test appears without a reload', async () => {
  const { context, page } = await open(browser);
  await page.evaluate(() => {
    window.__marker = 'same page';
  });
  // Something plays while the change arrives: it must keep playing.
  await page.click('.folder-row .row-main:has-text("Music")');
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("Long tone"))');
  await until(() => page.$eval('#media', (m) => m.currentTime > 0.3 && !m.paused), 'Long tone playing');
  const src = await page.$eval('#media', (m) => m.currentSrc);
  const t0 = await page.$eval('#media', (m) => m.currentTime);
  await page.click('#crumbs .crumb:has-text("Library")');
  await until(async () => (await rowNames(page)).includes('A440 tone'), 'back at the top');
  const key = `Live/Uploaded ${Date.now()}.mp3`;
  const name = key.slice(5, -4);
  const { readFile } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  const here = dirname(new URL(import.meta.url).pathname);
  await put(process.env.BS_BUCKET, key, await readFile(join(here, '../../samples/A440 tone.mp3')));
  // Keyboard focus sits on a row while the change arrives; it must stay there.
  await page.focus('.layer [data-id] .row-main:has(.row-name:text-is("A440 tone"))');
  await page.waitForSelector('.folder-row .row-name:text-is("Live")', { timeout: 20000 });
  const focused = await page.evaluate(() => document.activeElement.querySelector('.row-name')?.textContent);
  assert.equal(focused, 'A440 tone', 'focus stays on the same row after a live update');
  const playing = await page.$eval('#media', (m) => ({ src: m.currentSrc, t: m.currentTime, paused: m.paused }));
  assert.equal(playing.src, src, 'the same item is still loaded');
  assert.ok(!playing.paused && playing.t > t0, `still playing on from ${t0}: ${JSON.stringify(playing)}`);
  await page.click('.folder-row .row-main:has-text("Live")');
  await until(async () => (await rowNames(page)).includes(name), 'the uploaded item');
  assert.equal(await page.evaluate(() => window.__marker), 'same page', 'no reload happened');
  // And it goes away again when deleted.
  await del(process.env.BS_BUCKET, key);
  await until(async () => !(await rowNames(page)).includes(name), 'the deleted item to vanish', 20000);
  await context.close();
});
