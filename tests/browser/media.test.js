// media.test.js: the media library in a real browser against the server on a Garage bucket, with
// the tags, durations and covers the server read from the fixtures run.sh made with ffmpeg: the
// album grid shows covers, an album page is in track order and "Play album" queues it in order,
// a track whose title and artist are HTML shows them as text and runs nothing, the Media Session
// carries title, artist, album and artwork, durations show in rows and on the seek bar before the
// media loads, the scan's progress bar, tags arriving as `changed` items update rows in place,
// and a tagged file uploaded while the page is open joins its album.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, open, rowNames, until, mediaState, put, del } from './lib/harness.js';

const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const ALBUM = 'Lighthouse Sessions';
const TRACKS = ['Opening', 'Middle', 'Closing']; // track 1, 2, 3 (files B, C, A)
const TAGS_TIMEOUT = 90000; // the server reads the tags in the background after listing
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

/** Opens a section (Folders, Songs, Albums, …) from the navigation. */
async function section(page, name) {
  await page.click(`button[data-section="${name}"]`);
  await until(() => page.evaluate((n) => document.body.dataset.section === n, name), `the ${name} section`);
}

/** Waits until the row (or card) named `name` is drawn, the tags having been read. */
async function waitForRow(page, name) {
  await until(async () => (await rowNames(page)).includes(name) || (await groupNames(page)).includes(name), `"${name}" in the view`, TAGS_TIMEOUT, 250);
}

/** The names of the album, artist and genre rows or cards drawn now. */
async function groupNames(page) {
  return page.$$eval('.layer [data-group] .row-name', (els) => els.map((e) => e.textContent));
}

/** axe-core on the page: no serious or critical violation. */
async function axe(page, what) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  assert.deepEqual(text, [], `axe on ${what}`);
}

/** The row element (list) of the item titled `name`. */
function itemRow(page, name) {
  return page.locator('.layer [data-id]').filter({ has: page.locator('.row-name').getByText(name, { exact: true }) });
}

test('the album grid shows covers, and a placeholder where there is none', async () => {
  const { context, page, log } = await open(browser);
  await section(page, 'albums');
  await waitForRow(page, ALBUM);
  const card = page.locator('.layer .card[data-group="album"]').filter({ hasText: ALBUM });
  const img = card.locator('img.art');
  await until(() => img.evaluate((i) => i.complete && i.naturalWidth > 0), 'the cover image to load');
  assert.match(await img.getAttribute('src'), /^\/art\/[0-9a-f]+\?size=300$/);
  assert.equal(await card.locator('.row-meta').textContent(), 'The Keepers · 2021');
  await waitForRow(page, 'Night Drive');
  const other = page.locator('.layer .card[data-group="album"]').filter({ hasText: 'Night Drive' });
  assert.equal(await other.locator('img').count(), 0, 'no cover: a placeholder, not a broken image');
  assert.equal(await other.locator('.row-meta').textContent(), 'Marina · 2019');
  await axe(page, 'the album grid');
  // Artists and genres list them with counts.
  await section(page, 'artists');
  await waitForRow(page, 'The Keepers');
  const keepers = page.locator('.layer [data-group="artist"]').filter({ hasText: 'The Keepers' });
  assert.equal(await keepers.locator('.row-meta').textContent(), '1 album · 3 tracks');
  await axe(page, 'the artists');
  await section(page, 'genres');
  await waitForRow(page, 'Jazz');
  await page.locator('.layer [data-group="genre"] .row-main').filter({ hasText: 'Jazz' }).click();
  await until(async () => (await groupNames(page)).includes(ALBUM), 'the Jazz page lists the album');
  assert.deepEqual(await rowNames(page), TRACKS, 'and its tracks in album order');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('an album page is in track order and "Play album" plays track 1, then 2 and 3', async () => {
  const { context, page, log } = await open(browser);
  await section(page, 'albums');
  await waitForRow(page, ALBUM);
  await page.locator('.layer .card[data-group="album"] .card-main').filter({ hasText: ALBUM }).click();
  await until(async () => JSON.stringify(await rowNames(page)) === JSON.stringify(TRACKS), 'the tracks in track order');
  assert.deepEqual(await page.$$eval('.layer [data-id] .kind', (els) => els.map((e) => e.textContent)), ['1', '2', '3']);
  assert.equal(await page.textContent('#page-head .page-title'), ALBUM);
  assert.match(await page.textContent('#page-head .page-meta'), /^The Keepers · 2021 · 3 tracks · 1:(09|10)$/);
  assert.deepEqual(await page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent)), ['Albums', ALBUM]);
  assert.match(page.url(), /#album=/);
  await axe(page, 'the album page');
  const ids = await page.$$eval('.layer [data-id]', (els) => els.map((e) => e.dataset.id));

  await page.click('#page-head button:has-text("Play album")');
  await until(async () => (await page.textContent('#now-title')) === 'Opening' && !(await mediaState(page)).paused, 'track 1 playing');
  const queue = await page.evaluate(() => JSON.parse(localStorage.getItem('bucketstream.queue')));
  assert.deepEqual(queue.ids.slice(queue.index, queue.index + 3), ids, 'tracks 2 and 3 queued after track 1');
  await page.click('#queue-btn');
  const queued = await page.$$eval('#queue-panel .queue-row .row-name', (els) => els.map((e) => e.textContent));
  assert.deepEqual(queued.slice(-3), TRACKS);
  await page.click('#queue-panel [aria-label="Close the queue"]');
  // Track 1 is 3 s long: when it ends, track 2 follows.
  await until(async () => (await page.textContent('#now-title')) === 'Middle', 'track 2 after track 1', 20000);
  assert.equal(await page.locator('.layer .row.playing .row-name').textContent(), 'Middle');
  // A reload stays on the album page.
  await page.reload();
  await until(async () => JSON.stringify(await rowNames(page)) === JSON.stringify(TRACKS), 'the album page after a reload');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('keyboard: the sections, the album grid and an album page', async () => {
  const { context, page, log } = await open(browser);
  await page.focus('button[data-section="albums"]');
  await page.keyboard.press('Enter');
  await until(() => page.evaluate(() => document.body.dataset.section === 'albums'), 'the Albums section');
  assert.equal(await page.getAttribute('button[data-section="albums"]', 'aria-current'), 'page');
  await waitForRow(page, 'Night Drive');
  await page.focus('.layer .card-main >> nth=0');
  const focused = () => page.evaluate(() => document.activeElement.querySelector('.row-name')?.textContent ?? document.activeElement.textContent);
  assert.equal(await focused(), ALBUM);
  await page.keyboard.press('End');
  assert.equal(await focused(), 'Night Drive');
  await page.keyboard.press('Home');
  assert.equal(await focused(), ALBUM);
  await page.keyboard.press('Enter');
  await until(async () => (await focused()) === 'Play album', 'focus on "Play album" on the album page');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Opening');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), 'Middle');
  await page.keyboard.press('Enter');
  await until(async () => (await page.textContent('#now-title')) === 'Middle', 'Enter plays the track');
  // Back returns to the grid.
  await page.goBack();
  await until(async () => (await groupNames(page)).includes(ALBUM), 'Back to the album grid');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('a track tagged with HTML shows it as text everywhere and runs nothing', async () => {
  const { context, page, log } = await open(browser);
  await section(page, 'songs');
  await waitForRow(page, HOSTILE);
  const row = itemRow(page, HOSTILE);
  assert.equal(await row.locator('.row-meta').textContent(), `${HOSTILE} · Night Drive · 0:03`);
  await row.locator('.row-main').click();
  await until(async () => (await page.textContent('#now-title')) === HOSTILE, 'the title in the player bar as text');
  assert.equal(await page.textContent('#now-sub'), `${HOSTILE} — Night Drive`);
  assert.equal(await page.evaluate(() => navigator.mediaSession.metadata.title), HOSTILE);
  assert.match(await page.title(), /^<img src=x onerror="window.__pwned=1"> · Bucketstream$/);
  await page.click('#queue-btn');
  assert.ok((await page.$$eval('#queue-panel .row-name', (els) => els.map((e) => e.textContent))).includes(HOSTILE));
  await page.click('#queue-panel [aria-label="Close the queue"]');
  // The artist page, its breadcrumb and head; the album page; search.
  await section(page, 'artists');
  await waitForRow(page, HOSTILE);
  await page.locator('.layer [data-group="artist"] .row-main').filter({ hasText: 'onerror' }).click();
  await until(async () => (await page.textContent('#page-head .page-title')) === HOSTILE, 'the artist page');
  assert.ok((await page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent))).includes(HOSTILE));
  await section(page, 'albums');
  await waitForRow(page, 'Night Drive');
  await page.locator('.layer .card[data-group="album"] .card-main').filter({ hasText: 'Night Drive' }).click();
  await until(async () => JSON.stringify(await rowNames(page)) === JSON.stringify(['Harbour Lights', HOSTILE]), 'Night Drive in track order');
  await section(page, 'songs');
  await page.fill('#search', 'window.__pwned');
  await until(async () => JSON.stringify(await rowNames(page)) === JSON.stringify([HOSTILE]), 'search finds the tag text');
  await page.waitForTimeout(500);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no handler ran');
  assert.equal(await page.locator('img[src="x"], [onerror], script:not([src])').count(), 0, 'no element made from a tag');
  assert.deepEqual(log.dialogs, []);
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('the Media Session has the title, artist, album and artwork of the playing track', async () => {
  const { context, page, log } = await open(browser);
  await section(page, 'songs');
  await waitForRow(page, 'Opening');
  await itemRow(page, 'Opening').locator('.row-main').click();
  await until(() => page.evaluate(() => navigator.mediaSession.metadata?.title === 'Opening'), 'the session metadata');
  const meta = await page.evaluate(() => {
    const m = navigator.mediaSession.metadata;
    return { title: m.title, artist: m.artist, album: m.album, artwork: m.artwork.map((a) => ({ src: a.src, sizes: a.sizes })) };
  });
  assert.equal(meta.artist, 'The Keepers');
  assert.equal(meta.album, ALBUM);
  assert.deepEqual(meta.artwork.map((a) => a.sizes), ['300x300', '1000x1000']);
  for (const a of meta.artwork) assert.match(a.src, /^http:\/\/127\.0\.0\.1:\d+\/art\/[0-9a-f]+\?size=(300|1000)$/);
  // Both images are there and are images.
  const loaded = await page.evaluate(async (srcs) => {
    const out = [];
    for (const src of srcs) {
      const resp = await fetch(src);
      const bitmap = await createImageBitmap(await resp.blob());
      out.push({ status: resp.status, type: resp.headers.get('content-type'), width: bitmap.width });
    }
    return out;
  }, meta.artwork.map((a) => a.src));
  for (const l of loaded) {
    assert.equal(l.status, 200);
    assert.match(l.type, /^image\//);
    assert.ok(l.width > 0 && l.width <= 1000, `artwork width ${l.width}`);
  }
  assert.equal(loaded[0].width, 300, 'the 300 px copy of the 320 px cover');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('durations show in every row, and on the seek bar before the media loads', async () => {
  const { context, page, log } = await open(browser);
  await section(page, 'songs');
  await waitForRow(page, 'Middle');
  const metaOf = (name) => itemRow(page, name).locator('.row-meta').textContent();
  assert.equal(await metaOf('Middle'), `The Keepers · ${ALBUM} · 1:01`);
  assert.equal(await metaOf('Opening'), `The Keepers · ${ALBUM} · 0:03`);
  // Untagged files: the folder and the length.
  assert.equal(await metaOf('Long tone'), 'Music · 0:30');
  // Folders view: the file names, with the length beside the kind.
  await section(page, 'folders');
  await page.click('.folder-row .row-main:has-text("Music")');
  await until(async () => (await rowNames(page)).includes('Long tone'), 'the Music folder');
  assert.match(await itemRow(page, 'Long tone').locator('.row-meta').textContent(), /^Audio · 0:30 · /);
  // Videos: poster cards with durations.
  await section(page, 'videos');
  await waitForRow(page, 'Evening Ferry');
  const ferry = page.locator('.layer .card[data-id]').filter({ hasText: 'Evening Ferry' });
  assert.match(await ferry.locator('.row-meta').textContent(), /^0:06 · 320×180 · /);
  const poster = ferry.locator('img.art');
  await until(() => poster.evaluate((i) => i.complete && i.naturalWidth > 0), 'the video poster');

  // Hold the media back: the seek bar shows the length read from the tags meanwhile.
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  await page.route('**/media/**', async (route) => {
    await held;
    await route.continue();
  });
  await section(page, 'songs');
  await itemRow(page, 'Middle').locator('.row-main').click();
  await until(async () => (await page.textContent('#time-dur')) === '1:01', 'the length before the media loads');
  assert.equal((await mediaState(page)).readyState, 0, 'the media has not loaded yet');
  assert.equal(await page.getAttribute('#seek', 'aria-valuetext'), '0:00 of 1:01');
  release();
  await until(async () => (await mediaState(page)).readyState >= 1, 'the media metadata');
  assert.equal(await page.textContent('#time-dur'), '1:01');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('scan progress shows as a progress bar; changed tags update rows in place', async () => {
  let client = null;
  const { context, page, log } = await open(browser, {
    path: '/#songs',
    viewport: { width: 1000, height: 560 },
    setup: (p) =>
      p.routeWebSocket(/\/ws$/, (ws) => {
        client = ws;
        ws.connectToServer(); // every frame passes both ways; the test adds its own to the page
      }),
  });
  await waitForRow(page, 'Middle'); // (a virtualized list: rows far below are not drawn)

  client.send(JSON.stringify({ type: 'scan_progress', running: true, done: 120, total: 5000, failed: 2, fetched_bytes: 123456 }));
  const bar = page.locator('#scan [role="progressbar"]');
  await bar.waitFor({ state: 'visible' });
  assert.equal(await bar.getAttribute('aria-valuenow'), '120');
  assert.equal(await bar.getAttribute('aria-valuemax'), '5000');
  assert.match(await page.textContent('#scan-text'), /120 of 5,000/);
  await axe(page, 'the scan progress bar');
  client.send(JSON.stringify({ type: 'scan_progress', running: false, done: 5000, total: 5000, failed: 2, fetched_bytes: 999999 }));
  await page.locator('#scan').waitFor({ state: 'hidden' });

  // Something plays, something is queued, the list is scrolled: then tags change.
  await itemRow(page, 'Middle').locator('.row-main').click();
  await until(async () => !(await mediaState(page)).paused, 'Middle playing');
  await itemRow(page, 'Closing').locator('[data-action="enqueue"]').click();
  const scroller = page.locator('#library');
  await scroller.evaluate((s) => {
    s.scrollTop = 120;
  });
  await page.waitForTimeout(200);
  const before = {
    scroll: await scroller.evaluate((s) => s.scrollTop),
    src: (await mediaState(page)).src,
    queue: await page.evaluate(() => localStorage.getItem('bucketstream.queue')),
  };
  assert.ok(before.scroll > 0, 'the list scrolls at this height');
  // The row of another track is marked: after the update it must be the same element (rows are
  // reused, not rebuilt: no flicker of covers while tags arrive).
  await itemRow(page, 'Closing').evaluate((el) => {
    el.dataset.marker = 'kept';
  });
  const items = await page.evaluate(() => fetch('/api/videos').then((r) => r.json()));
  const middle = items.find((i) => i.title === 'Middle');
  const changed = [{ ...middle, title: 'Middle (live take)', artist: 'The Keepers & Guests' }];
  client.send(JSON.stringify({ type: 'library_changed', added: [], removed: [], changed, count: items.length }));
  await until(async () => (await page.textContent('#now-title')) === 'Middle (live take)', 'the player bar follows the new title');
  // The row is redrawn on the list's next frame, which may come after the player bar's update.
  await until(async () => (await page.locator('.layer .row.playing .row-name').textContent()) === 'Middle (live take)', 'the playing row shows the new title');
  const afterState = await mediaState(page);
  assert.equal(afterState.src, before.src, 'the same media is still loaded');
  assert.ok(!afterState.paused, 'and still playing');
  assert.equal(await scroller.evaluate((s) => s.scrollTop), before.scroll, 'the scroll position stays');
  assert.equal(await page.evaluate(() => localStorage.getItem('bucketstream.queue')), before.queue, 'the queue stays');
  assert.equal(await page.evaluate(() => navigator.mediaSession.metadata.artist), 'The Keepers & Guests');
  assert.equal(await itemRow(page, 'Closing').getAttribute('data-marker'), 'kept', 'the other row was reused');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('a tagged file uploaded while the page is open joins its album with its tags', async () => {
  const { context, page, log } = await open(browser);
  await section(page, 'albums');
  await waitForRow(page, ALBUM);
  await page.locator('.layer .card[data-group="album"] .card-main').filter({ hasText: ALBUM }).click();
  await until(async () => JSON.stringify(await rowNames(page)) === JSON.stringify(TRACKS), 'the album page');
  await itemRow(page, 'Middle').locator('.row-main').click();
  await until(async () => !(await mediaState(page)).paused, 'Middle playing');
  const src = (await mediaState(page)).src;
  // A fourth track, made now with ffmpeg (tags and a small cover of its own).
  const dir = await mkdtemp(join(tmpdir(), 'bs-media-'));
  const file = join(dir, 'late.mp3');
  execFileSync('ffmpeg', [
    '-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'sine=frequency=880:duration=2',
    '-f', 'lavfi', '-i', 'color=c=0x2a9d8f:s=64x64:d=1',
    '-map', '0:a', '-map', '1:v', '-frames:v', '1', '-c:a', 'libmp3lame', '-b:a', '64k', '-c:v', 'png',
    '-disposition:v', 'attached_pic', '-metadata:s:v', 'comment=Cover (front)',
    '-metadata', 'title=Late Arrival', '-metadata', 'artist=The Keepers', '-metadata', `album=${ALBUM}`,
    '-metadata', 'track=4/4', '-metadata', 'date=2021', '-metadata', 'genre=Jazz', file,
  ], { timeout: 30000 });
  const key = `Albums/${ALBUM}/Track D.mp3`;
  await put(process.env.BS_BUCKET, key, await readFile(file));
  await rm(dir, { recursive: true, force: true });
  try {
    await until(async () => JSON.stringify(await rowNames(page)) === JSON.stringify([...TRACKS, 'Late Arrival']), 'the new track, last by its number', 60000, 250);
    assert.equal(await itemRow(page, 'Late Arrival').locator('.row-meta').textContent(), 'The Keepers · 0:02');
    assert.match(await page.textContent('#page-head .page-meta'), /4 tracks/);
    const now = await mediaState(page);
    assert.equal(now.src, src, 'the playing track is still loaded');
    assert.ok(!now.paused, 'and still playing');
    assert.equal(await page.textContent('#now-title'), 'Middle');
  } finally {
    await del(process.env.BS_BUCKET, key);
  }
  await until(async () => (await rowNames(page)).length === 3, 'the track gone again after the delete', 20000);
  assert.deepEqual(log.errors, []);
  await context.close();
});
