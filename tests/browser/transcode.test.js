// transcode.test.js: what the browser cannot play as it is plays through /transcode (issue
// #17). playpath.js's choices are checked against tables of browser answers; then in Debian's
// chromium each fixture (mkv H.264+AC3, HEVC mp4, AVI MPEG-4+MP3, MPEG-2 TS, WMA, AC3) plays
// with picture and sound decoded (currentTime advances, the decoded byte counts grow), seeks
// to the middle and plays on from there with the time display right, and no ffmpeg is left
// once the page closes; without ffmpeg on the host the player says so and offers the download.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { launch, open, until } from './lib/harness.js';

const TX = process.env.BS_TX_URL;
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

/** ffmpeg processes of the transcode server (their input is its /media URL). */
function ffmpegs() {
  const needle = `${new URL(TX).host}/media/`;
  let n = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes('ffmpeg') && cmd.includes(needle)) n += 1;
    } catch {
      /* gone */
    }
  }
  return n;
}

async function state(page) {
  return page.$eval('#media', (m) => ({
    src: m.currentSrc,
    paused: m.paused,
    currentTime: m.currentTime,
    error: m.error ? m.error.code : null,
    video: m.webkitVideoDecodedByteCount || 0,
    audio: m.webkitAudioDecodedByteCount || 0,
    shown: document.getElementById('time-cur').textContent,
    total: document.getElementById('time-dur').textContent,
  }));
}

/** Seconds of an m:ss time display. */
function secs(text) {
  const [m, s] = text.split(':').map(Number);
  return m * 60 + s;
}

test("chromium decodes H.264/AAC in MP4, so transcodes are H.264/AAC (no VP9 needed)", async () => {
  const { context, page } = await open(browser, { path: TX + '/' });
  const r = await page.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"'));
  assert.equal(r, 'probably');
  await context.close();
});

test('playpath picks direct, remux, audio or full transcode from what the browser decodes', async () => {
  const { context, page } = await open(browser, { path: TX + '/' });
  const got = await page.evaluate(async () => {
    const { choosePath, fallbackPath, transcodePath, inRanges } = await import('/playpath.js');
    // A browser like chromium: H.264, VP9, AAC, Opus, MP3, FLAC; no HEVC, AC3, MPEG-4 Part 2.
    const ok = ['avc1', 'vp09', 'mp4a.40.2', 'opus', 'mp4a.6B', 'flac'];
    const caps = {
      isTypeSupported: (t) => {
        const m = /codecs="([^"]*)"/.exec(t);
        return Boolean(m) && m[1].split(', ').every((c) => ok.some((o) => c.startsWith(o)));
      },
      canPlayType: (t) => (/x-matroska|x-msvideo|mp2t|wma|ac3/.test(t) ? '' : 'maybe'),
    };
    const item = (key, kind, video_codec, audio_codec) => ({ id: 'i', key, kind, video_codec, audio_codec });
    const cases = [
      [item('a.mp4', 'video', 'h264', 'aac'), 'direct'],
      [item('a.webm', 'video', 'vp9', 'opus'), 'direct'],
      [item('a.mkv', 'video', 'h264', 'aac'), 'remux'],
      [item('a.mkv', 'video', 'h264', 'ac3'), 'audio'],
      [item('a.mp4', 'video', 'h264', 'eac3'), 'audio'],
      [item('a.mp4', 'video', 'hevc', 'aac'), 'full'],
      [item('a.avi', 'video', 'mpeg4', 'mp3'), 'full'],
      [item('a.ts', 'video', 'mpeg2video', 'mp2'), 'full'],
      [item('a.mkv', 'video', 'h264', null), 'remux'],
      [item('a.mp4', 'video', undefined, undefined), 'direct?'],
      [item('a.mkv', 'video', undefined, undefined), 'full'],
      [item('a.mp3', 'audio', undefined, 'mp3'), 'direct'],
      [item('a.mp3', 'audio', undefined, undefined), 'direct?'],
      [item('a.m4a', 'audio', undefined, 'alac'), 'audio'],
      [item('a.wma', 'audio', undefined, 'wmav2'), 'audio'],
      [item('a.ac3', 'audio', undefined, undefined), 'audio'],
    ];
    const out = cases.map(([it, want]) => {
      const p = choosePath(it, caps);
      const name = p.how === 'direct' ? (p.guess ? 'direct?' : 'direct') : p.mode;
      return [it.key, it.video_codec, it.audio_codec, name, want];
    });
    const fb = [
      fallbackPath({ kind: 'video' }, { how: 'direct', guess: true }),
      fallbackPath({ kind: 'audio' }, { how: 'direct', guess: true }),
      fallbackPath({ kind: 'video' }, { how: 'direct' }),
      fallbackPath({ kind: 'video' }, { how: 'transcode', mode: 'remux' }),
      fallbackPath({ kind: 'video' }, { how: 'transcode', mode: 'full' }),
    ];
    return {
      out,
      fb,
      url: [transcodePath({ id: 'x' }, 'full', 0, null), transcodePath({ id: 'x' }, 'remux', 12.34567, 's1')],
      ranges: [inRanges([[0, 10]], 5), inRanges([[0, 10]], 12), inRanges([], 0), inRanges([[3, 4], [8, 9]], 8.5)],
    };
  });
  for (const [key, v, a, name, want] of got.out) assert.equal(name, want, `${key} ${v}/${a}`);
  assert.deepEqual(got.fb, [
    { how: 'transcode', mode: 'full' },
    { how: 'transcode', mode: 'audio' },
    null,
    { how: 'transcode', mode: 'full' },
    null,
  ]);
  assert.deepEqual(got.url, ['/transcode/x?mode=full', '/transcode/x?mode=remux&start=12.346&session=s1']);
  assert.deepEqual(got.ranges, [true, false, false, true]);
  await context.close();
});

test('MediaCapabilities is asked about the stream chosen, and its "unsupported" turns it into a transcode', async () => {
  const { context, page } = await open(browser, { path: TX + '/' });
  const got = await page.evaluate(async () => {
    const { decidePath, decodingConfig, browserCaps } = await import('/playpath.js');
    const item = (key, kind, video_codec, audio_codec, extra = {}) => ({ id: 'i', key, kind, video_codec, audio_codec, ...extra });
    const film = item('a.mp4', 'video', 'h264', 'aac', { width: 3840, height: 2160, bitrate_kbps: 40000 });
    // What is asked: the file (direct) or Media Source's fragmented MP4 (remux, audio).
    const configs = [
      decodingConfig(film, { how: 'direct' }),
      decodingConfig(item('a.mkv', 'video', 'h264', 'ac3'), { how: 'transcode', mode: 'audio' }),
      decodingConfig(item('a.flac', 'audio', undefined, 'flac'), { how: 'direct' }),
      decodingConfig(item('a.mkv', 'video', 'hevc', 'aac'), { how: 'transcode', mode: 'full' }),
      decodingConfig(item('a.mp4', 'video', undefined, undefined), { how: 'direct', guess: true }),
    ];
    // The real chromium: the choices it makes with its own MediaCapabilities.
    const caps = browserCaps();
    const real = [];
    for (const it of [film, item('a.webm', 'video', 'vp9', 'opus', { width: 1280, height: 720 }), item('a.mkv', 'video', 'h264', 'aac'), item('a.mp3', 'audio', undefined, 'mp3')]) {
      const p = await decidePath(it, caps);
      real.push(p.how === 'direct' ? 'direct' : p.mode);
    }
    // A decoder that takes nothing above 1080 lines: the 4K film is transcoded, the rest is not.
    const asked = [];
    const small = {
      ...caps,
      decodingInfo: async (config) => {
        asked.push(config.type);
        return { supported: !config.video || config.video.height <= 1080, smooth: true, powerEfficient: true };
      },
    };
    const limited = [];
    for (const it of [film, { ...film, width: 1920, height: 1080 }, item('a.mkv', 'video', 'h264', 'aac', { width: 3840, height: 2160 })]) {
      const p = await decidePath(it, small);
      limited.push(p.how === 'direct' ? 'direct' : p.mode);
    }
    // A decodingInfo that throws (a configuration the browser will not consider) changes nothing.
    const throwing = { ...caps, decodingInfo: async () => { throw new TypeError('bad config'); } };
    const kept = (await decidePath(film, throwing)).how;
    return { configs, real, limited, asked, kept, has: Boolean(caps.decodingInfo) };
  });
  assert.deepEqual(got.configs[0], {
    type: 'file',
    video: { contentType: 'video/mp4; codecs="avc1.42E01E"', width: 3840, height: 2160, bitrate: 40000000, framerate: 30 },
    audio: { contentType: 'audio/mp4; codecs="mp4a.40.2"' },
  });
  assert.equal(got.configs[1].type, 'media-source');
  assert.equal(got.configs[1].audio.contentType, 'audio/mp4; codecs="mp4a.40.2"', 'the audio transcode feeds AAC');
  assert.deepEqual(got.configs[2], { type: 'file', audio: { contentType: 'audio/flac; codecs="flac"' } });
  assert.deepEqual(got.configs.slice(3), [null, null], 'nothing to ask for a full transcode or unknown codecs');
  assert.equal(got.has, true, 'chromium has navigator.mediaCapabilities');
  assert.deepEqual(got.real, ['direct', 'direct', 'remux', 'direct']);
  assert.deepEqual(got.limited, ['full', 'direct', 'full']);
  assert.deepEqual(got.asked, ['file', 'file', 'media-source']);
  assert.equal(got.kept, 'direct');
  await context.close();
});

const FIXTURES = [
  ['Film mkv', true],
  ['Film hevc', true],
  ['Film avi', true],
  ['Film ts', true],
  ['Song wma', false],
  ['Song ac3', false],
];

for (const [name, video] of FIXTURES) {
  test(`${name} plays with ${video ? 'picture and ' : ''}sound, seeks to the middle and plays on`, async () => {
    const { context, page, log } = await open(browser, { path: TX + '/' });
    await page.click(`.layer [data-id] .row-main:has(.row-name:text-is("${name}"))`);
    await until(async () => (await page.textContent('#now-title')) === name, `"${name}" loaded`);
    const first = await until(async () => {
      const s = await state(page);
      if (s.error) throw new Error(`media error ${s.error} on ${s.src}: ${await page.textContent('#player-error')}`);
      return s.currentTime > 0.5 && s.audio > 0 && (!video || s.video > 0) ? s : null;
    }, `${name} to play`, 30000);
    assert.match(first.src, /\/transcode\/[0-9a-f]{32}\?mode=(remux|audio|full)/);
    assert.equal(first.total, '0:10', 'the whole length from the start');
    // Seek to the middle through the seek bar: beyond what is buffered, a new stream from 5 s.
    await page.$eval('#seek', (el) => {
      el.value = '5';
      el.dispatchEvent(new Event('input'));
    });
    const after = await until(async () => {
      const s = await state(page);
      if (s.error) throw new Error(`media error ${s.error} after the seek`);
      return /start=5/.test(s.src) && s.currentTime > 0.3 && !s.paused ? s : null;
    }, `${name} to play on from the middle`, 30000);
    // The display is the item's time: the offset (at most a keyframe before 5 s) plus the
    // stream's own time.
    const shown = secs(after.shown);
    assert.ok(shown >= 4 && shown <= 9, `time shown after the seek: ${after.shown}`);
    const later = await until(async () => {
      const s = await state(page);
      return s.currentTime > after.currentTime + 0.5 && s.audio > after.audio && (!video || s.video > after.video) ? s : null;
    }, `${name} to decode on after the seek`, 20000);
    assert.ok(secs(later.shown) >= shown);
    assert.deepEqual(log.errors, []);
    await context.close();
    await until(async () => ffmpegs() === 0, 'no ffmpeg once the page closed', 15000);
  });
}

test('without ffmpeg on the host the player says so and offers the download', async () => {
  const { context, page } = await open(browser, { path: process.env.BS_NOFF_URL + '/' });
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("Film mkv"))');
  await page.waitForSelector('#player-error:not([hidden])', { timeout: 20000 });
  const text = await page.textContent('#player-error');
  assert.match(text, /Cannot play “Film mkv”/);
  assert.match(text, /needs ffmpeg/);
  const link = page.locator('#player-error a');
  assert.equal(await link.getAttribute('download'), 'Film mkv.mkv');
  assert.match(await link.getAttribute('href'), /\/media\/[0-9a-f]{32}$/);
  await context.close();
});
