// paging.test.js: the player above the paging threshold (issue #15), against its own
// bucketstream-server run with --paging-threshold 5 over a temporary folder of about 270 files:
// the count at once, every item reachable by scrolling (pages fetched as they come into view),
// search as you type (a later keystroke's answer wins over a slow earlier one), folders, an
// album, playing an item of a fetched page, a change pushed while open, and the whole-list mode
// below the threshold. The paging arithmetic of ui/paged.js is table-tested here too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, copyFile, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, rowNames, until, waitForLibrary, mediaState, serveFolder } from './lib/harness.js';
import { pagesFor, pageQuery, serverSort, viewParams } from '../../ui/paged.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = !process.env.BS_SERVER_BIN && 'BS_SERVER_BIN is not set';
const TRACKS = 250;
const name = (i) => `track ${String(i).padStart(3, '0')}`;
let browser;
let dir;
let server;
const children = [];

/** A server over `dir` with `flags`; resolves to its URL. */
async function serve(flags) {
  const started = serveFolder(dir, join(dir, `.data-${children.length}`), flags);
  const { url, child } = await started;
  children.push(child);
  return url;
}

before(async () => {
  browser = await launch();
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'bs-paging-'));
  const sample = join(root, 'samples', 'A440 tone.mp3');
  // 250 tracks at the top (empty files but one, which plays), folders, an album of two.
  for (let i = 0; i < TRACKS; i += 1) await writeFile(join(dir, `${name(i)}.mp3`), '');
  await copyFile(sample, join(dir, `${name(230)}.mp3`));
  await mkdir(join(dir, 'Alpha', 'Deep'), { recursive: true });
  for (let i = 0; i < 12; i += 1) await writeFile(join(dir, 'Alpha', `alpha ${i}.mp3`), '');
  for (let i = 0; i < 3; i += 1) await writeFile(join(dir, 'Alpha', 'Deep', `deep ${i}.mp3`), '');
  await mkdir(join(dir, 'Beta'));
  for (let i = 0; i < 5; i += 1) await writeFile(join(dir, 'Beta', `beta song ${i}.mp3`), '');
  await mkdir(join(dir, 'Albums', 'Paged'), { recursive: true });
  for (const [file, title, track] of [['b.mp3', 'Second Wind', 2], ['a.mp3', 'First Light', 1]]) {
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'libmp3lame', '-b:a', '64k',
      '-metadata', `title=${title}`, '-metadata', 'artist=The Pagers', '-metadata', 'album=Paged Album', '-metadata', `track=${track}`, join(dir, 'Albums', 'Paged', file)]);
  }
  server = await serve(['--paging-threshold', '5']);
});

after(async () => {
  await browser.close();
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A page on `url`, with its errors collected. */
async function openPage(url) {
  const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto('/');
  await waitForLibrary(page);
  return { context, page, errors };
}

/** The item rows drawn now, in list order (the DOM order of a virtual list is not). */
async function ordered(page) {
  const rows = await page.$$eval('.layer [data-id]', (els) => els.map((e) => [Number(e.getAttribute('aria-posinset')), e.querySelector('.row-name').textContent]));
  return rows.sort((a, b) => a[0] - b[0]).map((r) => r[1]);
}

/** Whether no placeholder row is drawn (every page in view has landed). */
async function settled(page) {
  return (await page.$$('.layer .pending-row')).length === 0;
}

/** Scrolls the list to `top` px and waits for its rows. */
async function scrollTo(page, top) {
  await page.$eval(
    '#library',
    (el, y) =>
      new Promise((resolve) => {
        el.scrollTop = y;
        // The view draws on the next frame: wait for it before looking at the rows.
        requestAnimationFrame(() => requestAnimationFrame(resolve));
      }),
    top,
  );
  await until(() => settled(page), 'the rows in view to load');
}

test('paging arithmetic', () => {
  // pagesFor(first, last, head, total, size)
  const cases = [
    [[0, 40, 0, 0, 100], []],
    [[0, 40, 0, 250, 100], [0]],
    [[0, 40, 3, 250, 100], [0]],
    [[95, 130, 0, 250, 100], [0, 1]],
    [[0, 2, 3, 250, 100], []],
    [[240, 260, 3, 250, 100], [2]],
    [[99, 101, 0, 1000, 100], [0, 1]],
    [[1000, 1010, 0, 1000, 100], []],
  ];
  for (const [args, want] of cases) assert.deepEqual(pagesFor(...args), want, JSON.stringify(args));
  assert.equal(serverSort('name-asc', 'folders'), 'name');
  assert.equal(serverSort('name-desc', 'songs'), '-title');
  assert.equal(serverSort('date-desc', 'videos'), '-modified');
  assert.equal(serverSort('nonsense', 'folders'), 'name');
  const view = { section: 'folders', folder: 'A/B', query: '', kind: 'all', sort: 'size-asc', page: null };
  assert.deepEqual(viewParams(view), { folder: 'A/B', sort: 'size' });
  assert.deepEqual(viewParams({ ...view, query: ' x y ', kind: 'video' }), { under: 'A/B', q: 'x y', kind: 'video', sort: 'size' });
  assert.deepEqual(viewParams({ ...view, folder: '', query: 'x' }), { q: 'x', sort: 'size' });
  assert.deepEqual(viewParams({ ...view, section: 'songs', query: 'z' }), { kind: 'audio', q: 'z', sort: 'size' });
  assert.equal(viewParams({ ...view, section: 'albums' }), null);
  assert.equal(viewParams({ ...view, section: 'songs', page: { type: 'album', key: 'k' } }), null);
  assert.equal(pageQuery({ folder: '', sort: 'name' }, 2, 100), 'folder=&sort=name&offset=200&limit=100');
});

test('the count at once, then every item by scrolling', { skip }, async () => {
  const { context, page, errors } = await openPage(server);
  try {
    assert.equal(await page.getAttribute('body', 'data-paged'), 'true');
    await until(async () => (await page.textContent('#counts')) === '3 folders · 250 items', 'the counts');
    const folders = await page.$$eval('.folder-row .row-name', (els) => els.map((e) => e.textContent));
    assert.deepEqual(folders, ['Albums', 'Alpha', 'Beta']);
    await until(async () => (await rowNames(page)).includes(name(0)), 'the first page');
    // No request for the whole list: the rows come in pages.
    const whole = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => /\/api\/videos$/.test(e.name)).length);
    assert.equal(whole, 0);
    const seen = new Set();
    const height = await page.$eval('#library', (el) => el.clientHeight);
    const total = await page.$eval('#library', (el) => el.scrollHeight);
    for (let y = 0; y < total; y += height - 60) {
      await scrollTo(page, y);
      for (const n of await rowNames(page)) seen.add(n);
    }
    await scrollTo(page, total);
    for (const n of await rowNames(page)) seen.add(n);
    const missing = [];
    for (let i = 0; i < TRACKS; i += 1) if (!seen.has(name(i))) missing.push(name(i));
    assert.deepEqual(missing, [], 'every item was drawn on the way down');
    assert.ok((await rowNames(page)).includes(name(249)), 'the last item at the end');
    const pages = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/videos?')).length);
    assert.ok(pages >= 3 && pages < 20, `a few pages fetched (${pages})`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('search as you type: the last keystroke wins over a slow earlier answer', { skip }, async () => {
  const { context, page, errors } = await openPage(server);
  try {
    await until(async () => (await rowNames(page)).includes(name(0)), 'the first page');
    let releaseSlow;
    const slowHeld = new Promise((resolve) => {
      releaseSlow = resolve;
    });
    let slowSeen = false;
    await page.route(/\/api\/videos\?.*q=track\+1(&|$)/, async (route) => {
      slowSeen = true;
      await slowHeld;
      await route.continue().catch(() => {}); // aborted by the page meanwhile: fine
    });
    await page.fill('#search', 'track 1');
    await until(() => slowSeen, 'the request for "track 1"');
    await page.fill('#search', 'track 12');
    // Every word must occur: "track" and "12".
    const want = Array.from({ length: TRACKS }, (_, i) => name(i)).filter((n) => n.includes('12'));
    await until(async () => JSON.stringify(await ordered(page)) === JSON.stringify(want), 'the "track 12" matches');
    releaseSlow();
    // The slow answer (all 250 tracks hold a 1 or 'track') is never drawn over the newer one.
    await page.waitForTimeout(500);
    assert.deepEqual(await ordered(page), want);
    assert.match(await page.textContent('#counts'), /^13 items matching, of 272$/);
    await page.unroute(/\/api\/videos\?.*q=track\+1(&|$)/);
    await page.fill('#search', 'beta');
    await until(async () => (await rowNames(page)).length === 5, 'the five beta songs');
    for (const n of await rowNames(page)) assert.match(n, /^beta song \d$/);
    await page.fill('#search', '');
    await until(async () => (await rowNames(page)).includes(name(0)), 'the top again');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('folders open with their subfolders; an album lists its tracks', { skip }, async () => {
  const { context, page, errors } = await openPage(server);
  try {
    await page.click('.folder-row .row-main:has-text("Alpha")');
    // The top level also shows 12 rows at a time: wait for Alpha's own level (its subfolder
    // row), not only for the row count.
    const folderRows = () => page.$$eval('.folder-row .row-name', (els) => els.map((e) => e.textContent));
    await until(
      async () => JSON.stringify(await folderRows()) === '["Deep"]' && (await rowNames(page)).length === 12,
      'the twelve Alpha items',
    );
    assert.deepEqual(await page.$$eval('.folder-row .row-name', (els) => els.map((e) => e.textContent)), ['Deep']);
    assert.deepEqual(await page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent)), ['Library', 'Alpha']);
    assert.equal(await page.textContent('#counts'), '1 folder · 12 items · 272 in the library');
    await page.click('.folder-row .row-main:has-text("Deep")');
    await until(async () => JSON.stringify(await ordered(page)) === JSON.stringify(['deep 0', 'deep 1', 'deep 2']), 'the Deep items');
    await page.goBack();
    await until(async () => (await rowNames(page)).length === 12, 'back in Alpha');

    await page.click('button[data-section="albums"]');
    const card = '.layer [data-group="album"] .row-name';
    // The tags are read in the background: the album appears with a pushed change.
    await until(async () => (await page.$$eval(card, (els) => els.map((e) => e.textContent))).includes('Paged Album'), 'the album', 30000, 250);
    await page.click('.layer [data-group="album"] .card-main:has-text("Paged Album")');
    await until(async () => JSON.stringify(await ordered(page)) === JSON.stringify(['First Light', 'Second Wind']), 'its tracks in order');
    assert.equal(await page.textContent('#page-head .page-title'), 'Paged Album');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('an item of a fetched page plays; a pushed change updates the count and the rows', { skip }, async () => {
  const { context, page, errors } = await openPage(server);
  try {
    await until(async () => (await rowNames(page)).includes(name(0)), 'the first page');
    const top = await page.$eval('#library', (el) => el.scrollHeight);
    // Row 233 (3 folders first) is on the third page.
    await scrollTo(page, 60 * 233 - 200);
    await page.click(`.layer [data-id] .row-main:has(.row-name:text-is("${name(230)}"))`);
    await until(async () => {
      const s = await mediaState(page);
      return s.src.includes('/media/') && s.currentTime > 0;
    }, 'the fetched item playing');
    assert.ok(top > 60 * 250);

    // (A live update keeps the focused row in view: take the focus off the played row.)
    await page.evaluate(() => document.activeElement.blur());
    await scrollTo(page, 0);
    await writeFile(join(dir, 'a new first.mp3'), '');
    const resp = await fetch(`${server}/api/refresh`, { method: 'POST' });
    assert.equal(resp.status, 200);
    await until(async () => (await page.textContent('#counts')) === '3 folders · 251 items', 'the new count');
    await until(async () => (await ordered(page))[0] === 'a new first', 'the new row on top');
    assert.ok((await mediaState(page)).src.includes('/media/'), 'still playing');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a list of 1,000,000 rows is taller than a browser allows: every row is still reachable', { skip }, async () => {
  const { context, page, errors } = await openPage(server);
  try {
    const out = await page.evaluate(async () => {
      const { LibraryView } = await import('/views.js');
      const box = document.createElement('div');
      box.style.cssText = 'position:fixed;left:0;top:0;width:800px;height:600px;overflow:auto;z-index:99;background:white';
      document.body.append(box);
      const item = (i) => ({ id: `i${i}`, name: `row ${i}`, key: `row ${i}`, folder: '', kind: 'audio', size: 0, modified_ms: 0, url: '/x' });
      const rows = { length: 1000000, get: (i) => ({ type: 'item', item: item(i) }), findIndex: () => -1 };
      const view = new LibraryView(box, { showFolder: () => false });
      view.setRows(rows, false, 'files');
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const shown = () => {
        const b = box.getBoundingClientRect();
        return [...box.querySelectorAll('[data-id]')]
          .filter((n) => {
            const r = n.getBoundingClientRect();
            return r.top >= b.top && r.bottom <= b.bottom;
          })
          .map((n) => Number(n.getAttribute('aria-posinset')))
          .sort((a, b) => a - b);
      };
      const out = { height: box.scrollHeight };
      box.scrollTop = box.scrollHeight;
      await frame();
      out.end = shown();
      box.scrollTop = (box.scrollHeight - box.clientHeight) / 2;
      await frame();
      out.middle = shown();
      view.focusIndex(123456);
      await frame();
      out.focused = Number(document.activeElement.closest('[data-id]').getAttribute('aria-posinset'));
      out.focusShown = shown().includes(123457);
      box.remove();
      return out;
    });
    assert.ok(out.height <= 8000000, `the sizer stays under the browsers' limits (${out.height})`);
    assert.equal(out.end[out.end.length - 1], 1000000, `the last row at the end: ${out.end}`);
    assert.ok(out.end.length >= 9, 'a screenful of rows');
    for (let k = 1; k < out.middle.length; k += 1) assert.equal(out.middle[k], out.middle[k - 1] + 1, 'contiguous rows');
    assert.ok(Math.abs(out.middle[0] - 500000) < 100, `the middle of the list: ${out.middle[0]}`);
    assert.equal(out.focused, 123457);
    assert.ok(out.focusShown, 'a focused row is scrolled into view');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('below the threshold the whole list is loaded as before', { skip }, async () => {
  const url = await serve(['--paging-threshold', '100000']);
  const { context, page, errors } = await openPage(url);
  try {
    assert.equal(await page.getAttribute('body', 'data-paged'), 'false');
    await until(async () => (await rowNames(page)).includes(name(0)), 'the first rows');
    const health = await (await fetch(`${url}/api/health`)).json();
    assert.equal(health.paging_threshold, 100000);
    assert.match(await page.textContent('#counts'), /^3 folders · 25\d items$/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
