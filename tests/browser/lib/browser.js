// lib/browser.js: launches Debian's chromium through playwright-core and opens pages on the
// server under test (BS_URL), collecting console errors, page errors and dialogs so each test
// can assert that nothing unexpected happened.

import { chromium } from 'playwright-core';

export const BASE = process.env.BS_URL || 'http://127.0.0.1:8080';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
  '--mute-audio',
];

/** Launches the browser. */
export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/**
 * A new context and page at `path` on the server, with `viewport`. Returns {context, page, log}
 * where log collects {errors, dialogs, responses}.
 */
export async function open(browser, { path = '/', viewport = { width: 1280, height: 800 }, colorScheme = 'light', wait = true } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, baseURL: BASE });
  const page = await context.newPage();
  const log = { errors: [], dialogs: [], responses: [], console: [] };
  page.on('pageerror', (err) => log.errors.push(String(err)));
  page.on('console', (msg) => {
    log.console.push(`${msg.type()}: ${msg.text()}`);
    if (msg.type() === 'error') log.errors.push(msg.text());
  });
  page.on('dialog', (dialog) => {
    log.dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on('response', (resp) => {
    const url = resp.url();
    if (url.includes('/media/')) {
      log.responses.push({ url, status: resp.status(), range: resp.request().headers().range || '', contentRange: resp.headers()['content-range'] || '' });
    }
  });
  await page.goto(path);
  if (wait) await waitForLibrary(page);
  return { context, page, log };
}

/** Waits until the library list has been drawn. */
export async function waitForLibrary(page) {
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 15000 });
}

/** The names of the item rows drawn now (folders excluded). */
export async function rowNames(page) {
  return page.$$eval('.layer [data-id] .row-name', (els) => els.map((e) => e.textContent));
}

/** The state of the media element. */
export async function mediaState(page) {
  return page.$eval('#media', (m) => ({
    src: m.currentSrc,
    paused: m.paused,
    ended: m.ended,
    currentTime: m.currentTime,
    duration: m.duration,
    readyState: m.readyState,
    error: m.error ? m.error.code : null,
  }));
}

/** Polls `fn` until it returns truthy, or throws after `timeout` ms with `what`. */
export async function until(fn, what, timeout = 15000, every = 100) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
