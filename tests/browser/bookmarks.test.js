// bookmarks.test.js: the player's resume positions are the server's Subsonic bookmarks. A
// bookmark made through the Subsonic API (createBookmark, as a phone app sends it) is where the
// player resumes the item; playing then pausing in the player makes a bookmark that getBookmarks
// lists; an item played to its end loses its bookmark; and with the server's positions out of
// reach the browser's own copy still resumes after a reload. run.sh starts the server with a
// Subsonic password (BS_SUBSONIC_USER, BS_SUBSONIC_PASSWORD).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, mediaState, until, BASE } from './lib/harness.js';

const USER = process.env.BS_SUBSONIC_USER;
const PASSWORD = process.env.BS_SUBSONIC_PASSWORD;
let browser;
let items;

before(async () => {
  assert.ok(USER && PASSWORD, 'run.sh sets BS_SUBSONIC_USER and BS_SUBSONIC_PASSWORD');
  browser = await launch();
  items = await (await fetch(`${BASE}/api/videos`)).json();
});
after(async () => {
  // Leave no bookmark behind for the other test files.
  for (const name of ['Long tone', 'Follow up', 'Noisy pattern']) await rest('deleteBookmark', { id: idOf(name) }).catch(() => {});
  await browser.close();
});

function idOf(name) {
  const item = items.find((i) => i.name === name);
  assert.ok(item, `item ${name}`);
  return item.id;
}

/** A Subsonic call as an app makes it (plain password, JSON); the subsonic-response object. */
async function rest(method, params = {}) {
  const q = new URLSearchParams({ u: USER, p: PASSWORD, v: '1.16.1', c: 'browser-test', f: 'json', ...params });
  const body = await (await fetch(`${BASE}/rest/${method}?${q}`)).json();
  const answer = body['subsonic-response'];
  if (answer.status !== 'ok') throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
  return answer;
}

async function bookmarks() {
  const answer = await rest('getBookmarks');
  return ((answer.bookmarks && answer.bookmarks.bookmark) || []).map((b) => ({ title: b.entry.title, position: b.position }));
}

async function openMusic(page) {
  await page.click('.folder-row .row-main:has-text("Music")');
  await until(async () => (await page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent))).includes('Music'), 'the Music folder');
}

async function playRow(page, name) {
  await page.click(`.layer [data-id] .row-main:has(.row-name:text-is("${name}"))`);
  await until(async () => (await page.textContent('#now-title')) === name, `"${name}" loaded`);
}

test('a bookmark made by a Subsonic app is where the player resumes', async () => {
  await rest('createBookmark', { id: idOf('Long tone'), position: '17000', comment: 'from a phone' });
  const { context, page, log } = await open(browser);
  await openMusic(page);
  await playRow(page, 'Long tone');
  const resumed = await until(async () => {
    const s = await mediaState(page);
    return !s.paused && s.currentTime >= 17 ? s : null;
  }, 'playback from the bookmark at 17 s', 8000); // from the top it would take 17 s
  assert.ok(resumed.currentTime < 20, `resumed at ${resumed.currentTime} s, not later`);
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('playing then pausing in the player makes a bookmark getBookmarks lists', async () => {
  await rest('deleteBookmark', { id: idOf('Follow up') }).catch(() => {});
  const { context, page, log } = await open(browser);
  await openMusic(page);
  await playRow(page, 'Follow up');
  await until(async () => (await mediaState(page)).currentTime > 0.2, 'playback');
  await page.locator('#play-btn').focus();
  await page.keyboard.press('ArrowRight'); // +5 s
  await page.keyboard.press('ArrowRight'); // +5 s
  await until(async () => (await mediaState(page)).currentTime > 10, 'two 5 s seeks');
  await page.keyboard.press(' ');
  await until(async () => (await mediaState(page)).paused, 'paused');
  const at = (await mediaState(page)).currentTime;
  const mark = await until(async () => (await bookmarks()).find((b) => b.title === 'Follow up' && Math.abs(b.position - at * 1000) < 200), `a bookmark at ${at} s`);
  const position = await (await fetch(`${BASE}/api/items/${idOf('Follow up')}/position`)).json();
  assert.equal(position.position_ms, mark.position, 'the LAN API answers the same position');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('an item played to its end loses its bookmark', async () => {
  // Noisy pattern is ten minutes long: a bookmark 4 s before its end, then it plays out.
  const { context, page } = await open(browser);
  const video = items.find((i) => i.name === 'Noisy pattern');
  await page.click('.folder-row .row-main:has-text("Video")');
  await until(async () => (await page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent))).includes('Video'), 'the Video folder');
  await rest('createBookmark', { id: video.id, position: '1000' });
  await playRow(page, 'Noisy pattern');
  await until(async () => (await mediaState(page)).currentTime > 0.2, 'playback');
  await until(async () => (await bookmarks()).every((b) => b.title !== 'Noisy pattern'), 'the bookmark near the top forgotten');
  const duration = (await mediaState(page)).duration;
  // Paused 4 s before the end: the pause saves the position at once.
  await page.$eval('#media', (m, t) => { m.currentTime = t; m.pause(); }, duration - 4);
  await until(async () => (await bookmarks()).some((b) => b.title === 'Noisy pattern' && b.position > (duration - 5) * 1000), 'a bookmark near the end');
  await page.$eval('#media', (m) => m.play());
  await until(async () => (await bookmarks()).every((b) => b.title !== 'Noisy pattern'), 'no bookmark once it ended', 20000);
  await context.close();
});

test('without the server\'s positions, a reload resumes from the browser\'s copy', async () => {
  await rest('deleteBookmark', { id: idOf('Long tone') }).catch(() => {});
  const block = async (page) => {
    await page.route('**/api/items/*/position', (route) => route.abort());
  };
  const { context, page } = await open(browser, { setup: block });
  await openMusic(page);
  await playRow(page, 'Long tone');
  await until(async () => (await mediaState(page)).currentTime > 0.2, 'playback');
  await page.$eval('#media', (m) => { m.currentTime = 12; });
  await until(async () => (await mediaState(page)).currentTime >= 12, 'the seek');
  await page.locator('#play-btn').focus();
  await page.keyboard.press(' ');
  await until(async () => (await mediaState(page)).paused, 'paused');
  const at = (await mediaState(page)).currentTime;
  assert.equal((await bookmarks()).find((b) => b.title === 'Long tone'), undefined, 'the server never heard of it');
  await page.reload();
  await until(async () => (await page.textContent('#now-title')) === 'Long tone', 'the item restored');
  await until(async () => {
    const s = await mediaState(page);
    return s.readyState >= 1 && Math.abs(s.currentTime - at) < 0.6 ? s : null;
  }, `the position ${at} restored from localStorage`);
  await context.close();
});
