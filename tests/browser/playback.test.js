// playback.test.js: playback in a real browser: an mp3 plays, an mp4 seeks to its middle over
// a ranged request (206) and plays on, the queue moves to the next item when one ends, a reload
// resumes the position, keyboard shortcuts work, the Media Session has the title, and a file
// the browser cannot decode shows a message with a download link.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, mediaState, rowNames, until, BASE } from './lib/harness.js';

let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

async function openFolder(page, name) {
  await page.click(`.folder-row .row-main:has-text("${name}")`);
  await until(async () => (await page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent))).includes(name), `folder ${name}`);
}

async function playRow(page, name) {
  await page.click(`.layer [data-id] .row-main:has(.row-name:text-is("${name}"))`);
  await until(async () => (await page.textContent('#now-title')) === name, `"${name}" loaded`);
}

test('an mp3 plays: currentTime advances', async () => {
  const { context, page, log } = await open(browser);
  await openFolder(page, 'Music');
  await playRow(page, 'Long tone');
  const first = await until(async () => {
    const s = await mediaState(page);
    return s.currentTime > 0.3 && !s.paused ? s : null;
  }, 'the mp3 to play');
  await page.waitForTimeout(700);
  const later = await mediaState(page);
  assert.ok(later.currentTime > first.currentTime, `time advanced: ${first.currentTime} -> ${later.currentTime}`);
  assert.match(later.src, /\/media\/[0-9a-f]{32}$/);
  assert.equal(await page.getAttribute('#play-btn', 'aria-label'), 'Pause');
  assert.equal(await page.locator('.layer .row.playing .row-name').textContent(), 'Long tone');
  const session = await page.evaluate(() => navigator.mediaSession.metadata && navigator.mediaSession.metadata.title);
  assert.equal(session, 'Long tone');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('the play button with nothing loaded plays the first item on screen', async () => {
  const { context, page } = await open(browser);
  await openFolder(page, 'Music');
  await page.click('#play-btn');
  await until(async () => (await page.textContent('#now-title')) === 'Follow up', 'the first row');
  await until(async () => (await mediaState(page)).currentTime > 0.2, 'it plays');
  await context.close();
});

test('a key with unicode, spaces, #, ?, & and % plays', async () => {
  const { context, page, log } = await open(browser);
  await openFolder(page, 'Música');
  await playRow(page, 'Canción #1 ?&%+');
  await until(async () => (await mediaState(page)).currentTime > 0.2, 'playback');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('repeat one restarts the item; shuffle toggles', async () => {
  const { context, page } = await open(browser);
  await openFolder(page, 'Music');
  await page.click('#repeat-btn');
  await page.click('#repeat-btn');
  assert.equal(await page.getAttribute('#repeat-btn', 'aria-label'), 'Repeat: one');
  await playRow(page, 'Short chime');
  await until(async () => (await mediaState(page)).currentTime > 1.2, 'near the end');
  await until(async () => {
    const s = await mediaState(page);
    return s.currentTime < 1 && !s.paused;
  }, 'the same item again', 10000);
  assert.equal(await page.textContent('#now-title'), 'Short chime');
  await page.click('#shuffle-btn');
  assert.equal(await page.getAttribute('#shuffle-btn', 'aria-pressed'), 'true');
  await context.close();
});

test('f toggles fullscreen for a video', async () => {
  const { context, page } = await open(browser);
  await openFolder(page, 'Video');
  await playRow(page, 'Test pattern');
  await page.locator('#play-btn').focus();
  await page.keyboard.press('f');
  await until(() => page.evaluate(() => document.fullscreenElement && document.fullscreenElement.id), 'fullscreen');
  assert.equal(await page.evaluate(() => document.fullscreenElement.id), 'video-stage');
  await page.keyboard.press('f');
  await until(async () => !(await page.evaluate(() => document.fullscreenElement)), 'fullscreen left');
  await context.close();
});

test('an mp4 seeks to the middle over a 206 and plays', async () => {
  const { context, page, log } = await open(browser);
  await openFolder(page, 'Video');
  await playRow(page, 'Noisy pattern');
  const s0 = await until(async () => {
    const s = await mediaState(page);
    return Number.isFinite(s.duration) && s.currentTime > 0.2 ? s : null;
  }, 'the video to start');
  assert.ok(await page.isVisible('#video-stage'), 'the video view is shown');
  const before = log.responses.length;
  // Click the middle of the seek bar, as a person would.
  const box = await page.locator('#seek').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const mid = s0.duration / 2;
  const s1 = await until(async () => {
    const s = await mediaState(page);
    return Math.abs(s.currentTime - mid) < 4 && !s.paused ? s : null;
  }, 'the seek to the middle');
  await page.waitForTimeout(1000);
  const s2 = await mediaState(page);
  assert.ok(s2.currentTime > s1.currentTime, `plays on after the seek: ${s1.currentTime} -> ${s2.currentTime}`);
  const ranged = log.responses.slice(before).filter((r) => r.status === 206 && !/^bytes 0-/.test(r.contentRange));
  assert.ok(ranged.length > 0, `a 206 from the middle of the file: ${JSON.stringify(log.responses)}`);
  const painted = await page.$eval('#buffered', (el) => el.style.background);
  assert.match(painted, /linear-gradient/, 'buffered ranges are painted');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('the queue plays the next item when one ends', async () => {
  const { context, page } = await open(browser);
  await openFolder(page, 'Music');
  await playRow(page, 'Short chime');
  // Paused while the queue is built, so a slow machine cannot reach the end first.
  await until(async () => !(await mediaState(page)).paused, 'playing');
  await page.click('#play-btn');
  await until(async () => (await mediaState(page)).paused, 'paused');
  await page.click('.layer [data-id]:has(.row-name:text-is("Long tone")) [data-action="enqueue"]');
  await page.click('.layer [data-id]:has(.row-name:text-is("Follow up")) [data-action="next"]');
  assert.equal(await page.textContent('#queue-count'), '2');
  await page.click('#queue-btn');
  const queued = await page.$$eval('.queue-list .row-name', (els) => els.map((e) => e.textContent));
  assert.deepEqual(queued, ['Short chime', 'Follow up', 'Long tone']);
  // Reorder: Long tone up, before Follow up.
  await page.click('.queue-list li:nth-child(3) [aria-label^="Move up"]');
  const reordered = await page.$$eval('.queue-list .row-name', (els) => els.map((e) => e.textContent));
  assert.deepEqual(reordered, ['Short chime', 'Long tone', 'Follow up']);
  // Drag and drop: Follow up (3rd) onto Long tone (2nd) and back.
  await page.dragAndDrop('.queue-list li:nth-child(3) .queue-main', '.queue-list li:nth-child(2) .queue-main');
  assert.deepEqual(await page.$$eval('.queue-list .row-name', (els) => els.map((e) => e.textContent)), ['Short chime', 'Follow up', 'Long tone']);
  await page.dragAndDrop('.queue-list li:nth-child(2) .queue-main', '.queue-list li:nth-child(3) .queue-main');
  assert.deepEqual(await page.$$eval('.queue-list .row-name', (els) => els.map((e) => e.textContent)), ['Short chime', 'Long tone', 'Follow up']);
  // Short chime is 2 s long: from near its end, Long tone starts by itself when it ends.
  await page.$eval('#media', (m) => {
    m.currentTime = Math.max(0, m.duration - 0.5);
  });
  await page.click('#play-btn');
  await until(async () => (await page.textContent('#now-title')) === 'Long tone', 'the next item', 15000);
  await until(async () => {
    const s = await mediaState(page);
    return s.currentTime > 0.3 && !s.paused;
  }, 'the next item to play');
  assert.equal(await page.getAttribute('.queue-list li.current .row-name', 'class'), 'row-name');
  assert.equal(await page.textContent('.queue-list li.current .row-name'), 'Long tone');
  // n skips to the next, Clear leaves only the current one.
  await page.locator('#play-btn').focus();
  await page.keyboard.press('n');
  await until(async () => (await page.textContent('#now-title')) === 'Follow up', 'n: next');
  await page.click('.queue-head button:has-text("Clear")');
  assert.deepEqual(await page.$$eval('.queue-list .row-name', (els) => els.map((e) => e.textContent)), ['Follow up']);
  await context.close();
});

test('when the queue runs out, the list it was started from goes on', async () => {
  const { context, page } = await open(browser);
  await openFolder(page, 'Music');
  await page.selectOption('#sort', 'name-desc'); // Short chime, Long tone, Follow up
  await playRow(page, 'Short chime');
  await until(async () => (await page.textContent('#now-title')) === 'Long tone', 'the next row of the list', 15000);
  await until(async () => (await mediaState(page)).currentTime > 0.2, 'it plays');
  await context.close();
});

test('a reload resumes the position', async () => {
  const { context, page } = await open(browser);
  await openFolder(page, 'Music');
  await playRow(page, 'Long tone');
  await until(async () => (await mediaState(page)).currentTime > 0.2, 'playback');
  await page.locator('#play-btn').focus();
  await page.keyboard.press('ArrowRight'); // +5 s
  await page.keyboard.press('ArrowRight'); // +5 s
  await until(async () => (await mediaState(page)).currentTime > 10, 'two 5 s seeks');
  await page.keyboard.press(' '); // pause
  await until(async () => (await mediaState(page)).paused, 'paused');
  const at = (await mediaState(page)).currentTime;
  await page.reload();
  await until(async () => (await page.textContent('#now-title')) === 'Long tone', 'the item restored');
  const restored = await until(async () => {
    const s = await mediaState(page);
    return s.readyState >= 1 && Math.abs(s.currentTime - at) < 0.6 ? s : null;
  }, `the position ${at} restored`);
  assert.ok(restored.paused, 'restored paused: no sound without a gesture');
  await page.keyboard.press(' ');
  await until(async () => {
    const s = await mediaState(page);
    return !s.paused && s.currentTime > at;
  }, 'playing on from the restored position');
  // The position is the server's bookmark now: leave none for the tests that follow.
  const id = (await mediaState(page)).src.split('/media/')[1];
  await page.keyboard.press(' ');
  await until(async () => (await mediaState(page)).paused, 'paused again');
  const gone = await fetch(`${BASE}/api/items/${id}/position`, { method: 'DELETE' });
  assert.equal(gone.status, 200);
  await context.close();
});

test('keyboard: mute, volume and play/pause', async () => {
  const { context, page } = await open(browser);
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("A440 tone"))');
  await until(async () => !(await mediaState(page)).paused, 'playing');
  await page.locator('#play-btn').focus();
  await page.keyboard.press('m');
  assert.equal(await page.$eval('#media', (m) => m.muted), true);
  await until(async () => (await page.getAttribute('#mute-btn', 'aria-label')) === 'Unmute', 'the mute button to say Unmute');
  await page.keyboard.press('m');
  await page.keyboard.press('ArrowDown');
  assert.ok((await page.$eval('#media', (m) => m.volume)) < 1);
  await page.keyboard.press(' ');
  await until(async () => (await mediaState(page)).paused, 'space pauses');
  await page.selectOption('#speed', '1.5');
  assert.equal(await page.$eval('#media', (m) => m.playbackRate), 1.5);
  await context.close();
});

test('a file the browser cannot play shows a message and a download', async () => {
  const { context, page } = await open(browser);
  await openFolder(page, 'Broken');
  assert.deepEqual(await rowNames(page), ['Not really audio']);
  await playRow(page, 'Not really audio');
  await page.waitForSelector('#player-error:not([hidden])', { timeout: 15000 });
  const text = await page.textContent('#player-error');
  assert.match(text, /Cannot play “Not really audio”/);
  const link = page.locator('#player-error a');
  assert.equal(await link.getAttribute('download'), 'Not really audio.mp3');
  assert.match(await link.getAttribute('href'), /^\/media\/[0-9a-f]{32}$/);
  await context.close();
});
