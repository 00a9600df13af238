// bench/player.mjs: the player in real chromium (playwright-core, as tests/browser) against a
// server at BENCH_URL; prints one JSON object of figures (called by bench/player.sh).
//
//   - first rows: from navigation start to the first item or folder row drawn;
//   - scrolling, in Songs (every item, by title): requestAnimationFrame gaps (p50, p99, max)
//     while a script scrolls the list top to bottom in SCROLL_FRAMES frames (a fling), and how
//     long the rows take to fill in after jumps to random places (the pages in view fetched);
//   - search: from a keystroke (the input event) to the rows of its answer drawn, per query
//     (includes the player's 150 ms pause in the typing);
//   - folders: from a click on a folder row to its rows drawn.

import { chromium } from '../tests/browser/node_modules/playwright-core/index.mjs';

const URL = process.env.BENCH_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCROLL_FRAMES = Number(process.env.BENCH_SCROLL_FRAMES || 600);
const QUERIES = (process.env.BENCH_QUERIES || 'track-000042|album-07|artist-0999 album-09|zzz-nothing').split('|');

function pct(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const round = (x) => (x === null ? null : Math.round(x * 10) / 10);

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--mute-audio'] });
const context = await browser.newContext({ baseURL: URL, viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
const errors = [];
page.on('pageerror', (err) => errors.push(String(err)));

// The time the first row appears, recorded in the page.
await page.addInitScript(() => {
  const mark = () => {
    if (window.__firstRow === undefined && document.querySelector('.layer [data-id], .layer .folder-row')) {
      window.__firstRow = performance.now();
      return true;
    }
    return false;
  };
  new MutationObserver(() => mark()).observe(document, { childList: true, subtree: true });
});
const t0 = Date.now();
await page.goto('/');
await page.waitForFunction(() => window.__firstRow !== undefined, null, { timeout: 120000 });
const firstRowMs = await page.evaluate(() => window.__firstRow);
const paged = await page.getAttribute('body', 'data-paged');
const counts = await page.textContent('#counts');

/** Resolves in the page when no placeholder row is drawn; answers the ms it took. */
const settle = () =>
  page.evaluate(
    () =>
      new Promise((resolve) => {
        const start = performance.now();
        const check = () => {
          if (!document.querySelector('.layer .pending-row')) resolve(performance.now() - start);
          else requestAnimationFrame(check);
        };
        check();
      }),
  );
await settle();

// Songs: every item in one list.
await page.click('button[data-section="songs"]');
await page.waitForFunction(() => /^[\d,]+ songs?\b/.test(document.getElementById('counts').textContent) && !/^0 songs/.test(document.getElementById('counts').textContent), null, { timeout: 120000 });
const songsCounts = await page.textContent('#counts');
await settle();

// A fling from top to bottom: one scroll step per frame, every rAF gap recorded.
const fling = await page.evaluate(
  (frames) =>
    new Promise((resolve) => {
      const el = document.getElementById('library');
      const step = (el.scrollHeight - el.clientHeight) / frames;
      const gaps = [];
      let last = performance.now();
      let n = 0;
      const tick = (now) => {
        gaps.push(now - last);
        last = now;
        n += 1;
        el.scrollTop = Math.round(n * step);
        if (n < frames) requestAnimationFrame(tick);
        else resolve({ gaps: gaps.slice(1), height: el.scrollHeight });
      };
      requestAnimationFrame(tick);
    }),
  SCROLL_FRAMES,
);
const settleAfterFling = await settle();

// Jumps to random places: time until the rows there are drawn.
const jumps = [];
for (let i = 0; i < 20; i += 1) {
  const ms = await page.evaluate(
    (seed) =>
      new Promise((resolve) => {
        const el = document.getElementById('library');
        const start = performance.now();
        el.scrollTop = Math.floor(((seed * 7919) % 1000) / 1000 * (el.scrollHeight - el.clientHeight));
        const check = () => {
          // Wait a frame for the view to draw the new place, then for its pages.
          if (performance.now() - start > 0 && document.querySelector('.layer [role="listitem"]') && !document.querySelector('.layer .pending-row')) resolve(performance.now() - start);
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(() => requestAnimationFrame(check));
      }),
    i + 1,
  );
  jumps.push(ms);
}
// Back to the top of Folders for the searches and folders.
await page.click('button[data-section="folders"]');
await page.waitForFunction(() => document.body.dataset.section === 'folders');
await settle();

// Search as you type: keystroke (the last input event) to the answer's rows drawn.
const searches = [];
for (const q of QUERIES) {
  await page.fill('#search', '');
  await page.waitForTimeout(400);
  await settle();
  const ms = await page.evaluate(
    (q) =>
      new Promise((resolve) => {
        const input = document.getElementById('search');
        const counts = document.getElementById('counts');
        const start = performance.now();
        input.value = q;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        const check = () => {
          const text = counts.textContent;
          // The counts say which search their rows answer (data-query).
          if (counts.dataset.query === q && !document.querySelector('.layer .pending-row')) resolve({ ms: performance.now() - start, counts: text });
          else if (performance.now() - start > 60000) resolve({ ms: null, counts: text });
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }),
    q,
  );
  searches.push({ q, ...ms });
}
await page.fill('#search', '');
await page.waitForTimeout(400);
await settle();

// Folders: open the 501st top folder, then its 6th subfolder; click to rows drawn.
const openFolder = (index) =>
  page.evaluate(
    (index) =>
      new Promise((resolve) => {
        const el = document.getElementById('library');
        const crumbs = document.getElementById('crumbs');
        const before = crumbs.textContent;
        el.scrollTop = index * 60;
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            const row = [...document.querySelectorAll('.layer .folder-row')].find((r) => Number(r.getAttribute('aria-posinset')) === index + 1);
            if (!row) return resolve({ ms: null });
            const name = row.querySelector('.row-name').textContent;
            const start = performance.now();
            row.querySelector('[data-action="open"]').click();
            const check = () => {
              if (crumbs.textContent !== before && document.querySelector('.layer [role="listitem"]') && !document.querySelector('.layer .pending-row')) resolve({ ms: performance.now() - start, name });
              else requestAnimationFrame(check);
            };
            requestAnimationFrame(check);
          }),
        );
      }),
    index,
  );
const folder1 = await openFolder(500);
const folder2 = await openFolder(5);

const gaps = fling.gaps;
console.log(
  JSON.stringify({
    paged,
    counts,
    songs: songsCounts,
    navigation_to_first_row_ms: round(firstRowMs),
    wall_to_first_row_ms: Date.now() - t0,
    fling: { frames: gaps.length, list_px: fling.height, p50_ms: round(pct(gaps, 50)), p99_ms: round(pct(gaps, 99)), max_ms: round(Math.max(...gaps)), over_50ms: gaps.filter((g) => g > 50).length },
    settle_after_fling_ms: round(settleAfterFling),
    jump_fill: { n: jumps.length, p50_ms: round(pct(jumps, 50)), p99_ms: round(pct(jumps, 99)), max_ms: round(Math.max(...jumps)) },
    searches: searches.map((s) => ({ q: s.q, ms: round(s.ms), counts: s.counts })),
    folders: [folder1, folder2].map((f) => ({ name: f.name, ms: round(f.ms) })),
    errors,
  }),
);
await browser.close();
