// subtitles.test.js: subtitles in a real browser, from the server run.sh starts on a folder of
// three videos: Film.mp4 beside Film.en.srt and Film.de.vtt, Second.mp4 beside Second.en.srt and
// Second.fr.srt, and Inside.mp4 with a French mov_text track inside (mp4 rather than mkv: the
// browser plays mp4 directly). The captions menu lists the languages; choosing English shows
// the SRT's cue at its time (read from the track's activeCues after a seek); the choice carries
// to the next video; `c` toggles; the embedded track shows its cue; and a stream offset (the
// transcoded seek's `offsetchange`) refetches the tracks with `?offset=`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, until, waitForLibrary } from './lib/harness.js';

const URL = process.env.BS_SUBS_URL;
const skip = !URL && 'BS_SUBS_URL is not set';
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

/** Each <track> of the video: its id, language, label, mode and the text of its active cues. */
async function tracks(page) {
  return page.$eval('#media', (m) =>
    [...m.querySelectorAll('track')].map((t) => ({
      sub: t.dataset.sub,
      lang: t.srclang,
      label: t.label,
      src: t.getAttribute('src'),
      mode: t.track.mode,
      cues: t.track.activeCues ? [...t.track.activeCues].map((c) => c.getCueAsHTML().textContent) : [],
    })),
  );
}

async function play(page, name) {
  await page.click(`.layer [data-id] .row-main:has(.row-name:text-is("${name}"))`);
  await until(async () => (await page.textContent('#now-title')) === name, `"${name}" loaded`);
  await until(async () => (await tracks(page)).length > 0 && (await page.isVisible('#cc-btn')), `the tracks of ${name}`);
}

/**
 * Pauses at `t` seconds and waits until the showing track's active cues are `want`. The seek is
 * repeated while they are not: a paused element updates its active cues when it seeks, and a
 * track may finish loading after the first one.
 */
async function cuesAt(page, t, want) {
  await until(async () => (await page.$eval('#media', (m) => m.readyState)) >= 1, 'metadata');
  let last = null;
  try {
    return await until(async () => {
      await page.$eval('#media', (m, at) => {
        m.pause();
        if (!m.seeking) m.currentTime = at;
      }, t);
      last = await tracks(page);
      const showing = last.filter((x) => x.mode === 'showing');
      return showing.length === 1 && JSON.stringify(showing[0].cues) === JSON.stringify(want) ? showing[0] : null;
    }, `cues ${JSON.stringify(want)} at ${t} s`, 15000, 250);
  } catch (err) {
    err.message += ` (tracks: ${JSON.stringify(last)})`;
    throw err;
  }
}

async function menuItems(page) {
  return page.$$eval('#cc-menu .cc-item', (els) => els.map((e) => `${e.textContent}${e.getAttribute('aria-checked') === 'true' ? ' *' : ''}`));
}

test('sidecar and embedded subtitles show at their time, and the language is remembered', { skip }, async () => {
  const context = await browser.newContext({ baseURL: URL, viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.goto('/');
  await waitForLibrary(page);
  const names = await page.$$eval('.layer [data-id] .row-name', (els) => els.map((e) => e.textContent));
  assert.deepEqual(names.sort(), ['Film', 'Inside', 'Second'], 'subtitle files are not items');

  await play(page, 'Film');
  let state = await tracks(page);
  assert.deepEqual(
    state.map((t) => [t.sub, t.lang, t.label, t.mode]),
    [
      ['s0', 'de', 'German', 'disabled'],
      ['s1', 'en', 'English', 'disabled'],
    ],
  );
  await page.click('#cc-btn');
  assert.ok(await page.isVisible('#cc-menu'));
  assert.deepEqual(await menuItems(page), ['Off *', 'German', 'English']);
  await page.click('#cc-menu .cc-item:text-is("English")');
  assert.ok(!(await page.isVisible('#cc-menu')), 'the menu closes');
  state = await tracks(page);
  assert.deepEqual(state.map((t) => t.mode), ['disabled', 'showing']);
  assert.equal(await page.getAttribute('#cc-btn', 'data-on'), 'true');
  await cuesAt(page, 2, ['Hello from the English track']);
  await cuesAt(page, 6, ['Second English line']);

  // A transcoded stream that starts 4 s in: the tracks come again with ?offset=4, and the
  // cue at the stream's 2 s is the film's 6 s.
  await page.$eval('#media', (m) => m.dispatchEvent(new CustomEvent('offsetchange', { detail: { offset: 4 } })));
  await until(async () => (await tracks(page)).every((t) => t.src.endsWith('.vtt?offset=4')), 'tracks with the offset');
  await cuesAt(page, 2, ['Second English line']);
  await cuesAt(page, 0.5, ['Hello from the English track']);

  // The next video shows English at once.
  await play(page, 'Second');
  await until(async () => (await tracks(page)).find((t) => t.lang === 'en' && t.mode === 'showing'), 'English chosen again');
  await cuesAt(page, 2, ['The second film, in English']);
  assert.ok((await tracks(page)).every((t) => !t.src.includes('offset')), 'a new video starts without an offset');

  // `c` turns them off and on again.
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('c');
  await until(async () => (await tracks(page)).every((t) => t.mode === 'disabled'), 'c: off');
  assert.equal(await page.getAttribute('#cc-btn', 'data-on'), 'false');
  await page.keyboard.press('c');
  await until(async () => (await tracks(page)).find((t) => t.lang === 'en' && t.mode === 'showing'), 'c: on');

  // The track inside the mp4 (mov_text), chosen with the keyboard: no English there, so off.
  await play(page, 'Inside');
  state = await tracks(page);
  assert.deepEqual(state.map((t) => [t.sub, t.lang, t.label, t.mode]), [['e0', 'fr', 'French', 'disabled']]);
  await page.focus('#cc-btn');
  await page.keyboard.press('Enter');
  await until(() => page.isVisible('#cc-menu'), 'the menu opens');
  assert.deepEqual(await menuItems(page), ['Off *', 'French']);
  await page.screenshot({ path: 'screenshots/subtitles-menu.png' });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Off');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await until(async () => (await tracks(page))[0].mode === 'showing', 'French showing');
  await cuesAt(page, 2, ['Bonjour de la piste incluse']);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'cc-btn', 'focus back on the button');

  await page.screenshot({ path: 'screenshots/subtitles.png' });
  assert.deepEqual(errors, []);
  await context.close();
});
