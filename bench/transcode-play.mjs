// bench/transcode-play.mjs: the player in real chromium (playwright-core, as tests/browser)
// against a server at BENCH_URL whose scan has read the fixtures' codecs; prints one JSON
// object: per item, the path the player chose (direct, remux, audio, full) and, median of RUNS:
//   - play: from the click on its row to the first video frame presented
//     (requestVideoFrameCallback; for audio, `playing` with currentTime advancing);
//   - seek: from a seek to the middle (the seek bar's input, as a listener drags it) to the
//     first frame presented after it (`seeked` in the same file, or `playing` of the new
//     stream a transcode starts there), with the time shown at the middle.
// Called by bench/transcode.sh; the items are named by BENCH_ITEMS (`name|name|…`).

import { chromium } from '../tests/browser/node_modules/playwright-core/index.mjs';

const URL = process.env.BENCH_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const RUNS = Number(process.env.RUNS || 5);
const ITEMS = (process.env.BENCH_ITEMS || '').split('|').filter(Boolean);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.floor(s.length / 2)]) : null;
};

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--mute-audio', '--autoplay-policy=no-user-gesture-required'],
});
const out = {};
try {
  for (const name of ITEMS) {
    const plays = [];
    const seeks = [];
    let path = null;
    for (let run = 0; run < RUNS; run += 1) {
      // A fresh context each run: nothing cached in the page, no remembered position.
      const context = await browser.newContext({ baseURL: URL, viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto('/');
      // No resume position from an earlier run (the server keeps them): every run starts at 0.
      await page.evaluate(async () => {
        const items = await (await fetch('/api/videos')).json();
        await Promise.all(items.map((i) => fetch(`/api/items/${i.id}/position`, { method: 'DELETE' })));
        localStorage.clear();
      });
      const row = page.locator(`.layer [data-id] .row-main:has(.row-name:text-is("${name}"))`);
      await row.waitFor({ timeout: 60000 });
      // Armed before the click: the first frame presented (or audio playing) after it.
      await page.evaluate(() => {
        const m = document.getElementById('media');
        window.__frame = new Promise((done) => {
          const video = () => m.requestVideoFrameCallback(() => done(performance.now()));
          const audio = () => {
            const tick = () => (m.currentTime > 0 && !m.paused ? done(performance.now()) : requestAnimationFrame(tick));
            tick();
          };
          m.addEventListener('loadedmetadata', () => (m.videoWidth > 0 ? video() : audio()), { once: true });
        });
      });
      const clicked = await page.evaluate(() => performance.now());
      await row.click();
      const framed = await page.evaluate(() => window.__frame);
      plays.push(framed - clicked);
      path = await page.evaluate(() => {
        const src = document.getElementById('media').currentSrc || '';
        const mode = /[?&]mode=(\w+)/.exec(src);
        return src.includes('/transcode/') && mode ? mode[1] : 'direct';
      });
      // Seek to the middle through the seek bar, as a listener would: then, once the element is
      // no longer seeking and has data (a transcode's new stream loaded), the next frame.
      const seekMs = await page.evaluate(async () => {
        const m = document.getElementById('media');
        const bar = document.getElementById('seek');
        await new Promise((r) => setTimeout(r, 500));
        const mid = Number(bar.max) / 2;
        const t0 = performance.now();
        // A seek inside the file ends with `seeked`; one that starts a new transcoded stream
        // empties the element first and ends when the new stream is `playing`.
        let reloaded = false;
        m.addEventListener('emptied', () => { reloaded = true; }, { once: true });
        const resumed = new Promise((done) => {
          m.addEventListener('seeked', () => !reloaded && done());
          m.addEventListener('playing', () => reloaded && done());
        });
        bar.value = String(mid);
        bar.dispatchEvent(new Event('input', { bubbles: true }));
        await resumed;
        await new Promise((done) => {
          const poll = () => (!m.seeking && m.readyState >= 2 && !m.paused ? done() : requestAnimationFrame(poll));
          poll();
        });
        if (m.videoWidth > 0) await new Promise((done) => m.requestVideoFrameCallback(() => done()));
        else {
          const at = m.currentTime;
          await new Promise((done) => {
            const poll = () => (m.currentTime > at ? done() : requestAnimationFrame(poll));
            poll();
          });
        }
        return { ms: performance.now() - t0, shown: Number(bar.value), mid };
      });
      if (Math.abs(seekMs.shown - seekMs.mid) > 3) throw new Error(`${name}: after the seek the bar shows ${seekMs.shown}, not ${seekMs.mid}`);
      seeks.push(seekMs.ms);
      await context.close();
    }
    out[name] = { path, play_ms: median(plays), seek_ms: median(seeks), runs: RUNS };
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
