// states.test.js: what the player says and does when things go wrong or differ: the server gone
// (offline notice, reconnect with backoff, recovery), a real server restart while something
// plays, a stale list with a banner, a bucket that does not exist (error notice), an empty bucket
// and an empty folder, the refresh control sending fetch_videos over the WebSocket, and the
// desktop app's code path (a stand-in window.__TAURI_INTERNALS__ answering list_library and
// media_base) with its settings button.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { launch, open, BASE, mediaState, rowNames, until, waitForLibrary } from './lib/harness.js';

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

test('server gone: offline notice, then recovery without a reload', async () => {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  let allow = false;
  let current = null;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (!allow) {
      ws.close();
      return;
    }
    current = ws;
    ws.connectToServer();
  });
  await page.route('**/api/**', (route) => (allow ? route.continue() : route.abort()));
  await page.goto('/');
  await page.waitForSelector('#notice[data-kind="offline"]:not([hidden])', { timeout: 15000 });
  assert.match(await page.textContent('#notice'), /Cannot reach the Bucketstream server/);
  // Between attempts the indicator says when the next one comes (attempts show "Connecting…").
  await until(
    () => page.evaluate(() => document.getElementById('conn').dataset.state === 'closed' && /Offline · retry in \d+ s/.test(document.getElementById('conn-text').textContent)),
    'the retry countdown',
  );

  allow = true;
  // The notice is drawn again at each attempt, so a pointer click can land between two
  // drawings ("<html> intercepts pointer events"): the click is dispatched on the button
  // itself. If the page's own attempt got through first, the button is gone: that is fine too.
  const retry = page.locator('#notice button:has-text("Retry now")');
  await retry.dispatchEvent('click', {}, { timeout: 5000 }).catch(async (err) => {
    if (await retry.count()) throw err;
  });
  await waitForLibrary(page);
  await until(async () => (await page.getAttribute('#conn', 'data-state')) === 'open', 'reconnected');
  assert.ok((await rowNames(page)).includes('A440 tone'));

  // The connection drops while the list is shown: a banner says the list may be stale, and the
  // player reconnects by itself.
  allow = false;
  await current.close();
  await page.waitForSelector('#banner:not([hidden])');
  assert.match(await page.textContent('#banner'), /not reachable/);
  assert.ok((await rowNames(page)).includes('A440 tone'), 'the last list stays');
  allow = true;
  await until(async () => (await page.getAttribute('#conn', 'data-state')) === 'open', 'reconnected by itself', 20000);
  await page.waitForSelector('#banner', { state: 'hidden' });
  await context.close();
});

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts bucketstream-server on the test bucket at `port`; resolves once it answers. */
async function startServer(port) {
  const child = spawn(process.env.BS_SERVER_BIN, ['--bind', '127.0.0.1', '--port', String(port), '--bucket', process.env.BS_BUCKET, '--endpoint', process.env.S3_ENDPOINT, '--region', process.env.AWS_REGION || 'garage', '--refresh-secs', '2'], { stdio: 'ignore' });
  await until(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/api/health`)).ok;
    } catch {
      return false;
    }
  }, 'the server to answer');
  return child;
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await gone;
}

test('a real server restart: banner, reconnect, the playing item keeps playing', { skip: !process.env.BS_SERVER_BIN && 'BS_SERVER_BIN is not set' }, async () => {
  const port = await freePort();
  let server = await startServer(port);
  const context = await browser.newContext({ baseURL: `http://127.0.0.1:${port}` });
  const page = await context.newPage();
  try {
    await page.goto('/');
    await waitForLibrary(page);
    await page.click('.layer [data-id] .row-main:has(.row-name:text-is("A440 tone"))');
    // (A fresh server's scan updates the list meanwhile: the click must not be lost.)
    let state;
    await until(async () => {
      state = await mediaState(page);
      return state.currentTime > 0.2;
    }, 'playing').catch((err) => {
      throw new Error(`${err.message}; the media element: ${JSON.stringify(state)}`);
    });
    await until(() => page.evaluate(() => document.getElementById('media').buffered.length > 0 && document.getElementById('media').buffered.end(0) >= document.getElementById('media').duration - 0.1), 'the short file fully buffered');
    await stopServer(server);
    await page.waitForSelector('#banner:not([hidden])', { timeout: 15000 });
    const t1 = (await mediaState(page)).currentTime;
    await page.waitForTimeout(500);
    const s = await mediaState(page);
    assert.ok(s.currentTime > t1 || s.ended, `playback goes on without the server: ${t1} -> ${s.currentTime}`);
    server = await startServer(port);
    await until(async () => (await page.getAttribute('#conn', 'data-state')) === 'open', 'reconnected to the restarted server', 30000);
    await page.waitForSelector('#banner', { state: 'hidden' });
    assert.ok((await rowNames(page)).includes('A440 tone'));
  } finally {
    await context.close();
    await stopServer(server);
  }
});

test('a bucket that does not exist shows an error that says what to do', { skip: !process.env.BS_BAD_URL && 'BS_BAD_URL is not set' }, async () => {
  const context = await browser.newContext({ baseURL: process.env.BS_BAD_URL });
  const page = await context.newPage();
  await page.goto('/');
  await page.waitForSelector('#notice[data-kind="error"]:not([hidden])', { timeout: 15000 });
  const title = await page.textContent('#notice .notice-title');
  const text = await page.textContent('#notice');
  assert.ok(title.length > 0);
  assert.match(text, /bucket|S3|storage/i, text);
  // Evaluated, not added as a script tag: the page's CSP (script-src 'self') refuses inline scripts.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  assert.deepEqual(result.violations.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => v.id), []);
  await context.close();
});

test('an empty bucket and an empty folder say what to do', { skip: !process.env.BS_EMPTY_URL && 'BS_EMPTY_URL is not set' }, async () => {
  for (const [url, want] of [
    [process.env.BS_EMPTY_URL, /The library is empty.*Upload/s],
    [process.env.BS_LOCAL_EMPTY_URL, /No media yet.*--bucket/s],
  ]) {
    const context = await browser.newContext({ baseURL: url });
    const page = await context.newPage();
    await page.goto('/');
    await page.waitForSelector('#notice[data-kind="empty"]:not([hidden])', { timeout: 15000 });
    assert.match(await page.textContent('#notice'), want);
    assert.ok(await page.isVisible('#notice button:has-text("Refresh")'));
    await context.close();
  }
});

test('the refresh control sends fetch_videos and gets the list back', async () => {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  const sent = [];
  const received = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => sent.push(String(f.payload)));
    ws.on('framereceived', (f) => received.push(String(f.payload).slice(0, 40)));
  });
  await page.goto('/');
  await waitForLibrary(page);
  await until(async () => (await page.getAttribute('#conn', 'data-state')) === 'open', 'connected');
  const before = received.length;
  await page.click('#refresh-btn');
  // Plain text, or JSON carrying the generation the page holds.
  await until(() => sent.some((f) => f === 'fetch_videos' || String(f).includes('"type":"fetch_videos"')), 'fetch_videos sent');
  await until(() => received.slice(before).some((r) => r.startsWith('{"type":"media_list"')), 'a media_list answer');
  await context.close();
});

test('desktop app path: invoke for the list, media_base for playback, settings button', async () => {
  // This page stands in for the desktop window, whose page (tauri://localhost) runs under the
  // app's own CSP (tauri.conf.json, media from http://127.0.0.1:*), not the LAN server's
  // same-origin one: the moved media base below is another origin.
  const context = await browser.newContext({ baseURL: BASE, bypassCSP: true });
  await context.addInitScript((base) => {
    window.__invoked = [];
    window.__TAURI_INTERNALS__ = {
      invoke: async (cmd) => {
        window.__invoked.push(cmd);
        if (cmd === 'media_base') return `${base}/`;
        if (cmd === 'list_library' || cmd === 'refresh_library') return (await fetch(`${base}/api/videos`)).json();
        throw new Error(`the stand-in does not know ${cmd}`);
      },
    };
  }, BASE);
  const page = await context.newPage();
  await page.goto('/');
  await waitForLibrary(page);
  const invoked = await page.evaluate(() => window.__invoked);
  assert.ok(invoked.includes('media_base') && invoked.includes('list_library'), `invoked: ${invoked}`);
  assert.equal(await page.getAttribute('body', 'data-desktop'), 'true');
  assert.ok(await page.isVisible('#settings-btn'), 'the settings button shows in the app');
  const hidden = () => page.$eval('#desktop-settings', (s) => s.hidden);
  const was = await hidden();
  await page.click('#settings-btn');
  assert.equal(await hidden(), !was, 'the settings button toggles the settings view');
  assert.equal(await page.getAttribute('#settings-btn', 'aria-expanded'), String(was));
  await page.click('#settings-btn');
  assert.equal(await hidden(), was);
  if (!(await hidden())) await page.click('#settings-btn'); // out of the way of the library
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("A440 tone"))');
  const s = await until(async () => {
    const m = await mediaState(page);
    return m.currentTime > 0.2 ? m : null;
  }, 'playback through media_base');
  assert.ok(s.src.startsWith(`${BASE}/media/`), s.src);
  await until(async () => (await page.getAttribute('#conn', 'data-state')) === 'open', 'the live socket at media_base');
  // The settings view announces a restarted media server with a new base: playback follows it.
  const moved = BASE.replace('127.0.0.1', 'localhost');
  await page.evaluate((mediaBase) => {
    window.dispatchEvent(new CustomEvent('bucketstream:library-changed', { detail: { mediaBase } }));
  }, moved);
  await page.click('.layer [data-id] .row-main:has(.row-name:text-is("E660 tone"))');
  await until(async () => (await mediaState(page)).src.startsWith(`${moved}/media/`), 'media from the new base');
  await context.close();
});

test('in a browser the settings button stays hidden', async () => {
  const { context, page } = await open(browser);
  assert.equal(await page.isVisible('#settings-btn'), false);
  assert.equal(await page.$eval('#desktop-settings', (s) => s.hidden), true);
  await context.close();
});
