// lib/harness.js: shared by the browser tests. Launches Debian's chromium through playwright-core
// and opens pages on the server under test (BS_URL), collecting console errors, page errors,
// dialogs and media responses; and talks S3 to the test's Garage (path-style) to create the
// bucket, upload the fixtures (`node lib/harness.js upload BUCKET DIR`, from run.sh) and put or
// delete an object while a page is open.

import { chromium } from 'playwright-core';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { S3Client, CreateBucketCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';

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

let pageHook = null;

/**
 * Sets a function run on every page open() makes, before it navigates (e.g. page.route for a
 * scratch check); null removes it. The committed tests set none.
 */
export function setPageHook(fn) {
  pageHook = fn;
}

/**
 * A new context and page at `path` on the server, with `viewport`; `setup(page)` runs before
 * the page loads (routes). Returns {context, page, log} where log collects {errors, dialogs,
 * responses}.
 */
export async function open(browser, { path = '/', viewport = { width: 1280, height: 800 }, colorScheme = 'light', wait = true, setup = null } = {}) {
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
  if (pageHook) await pageHook(page);
  if (setup) await setup(page);
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

/**
 * bucketstream-server (BS_SERVER_BIN) over the folder `dir`, with its data in `dataDir`, on a
 * free loopback port, with `flags`; resolves to `{ url, child }` once it listens.
 */
export function serveFolder(dir, dataDir, flags = []) {
  const child = spawn(process.env.BS_SERVER_BIN, ['--bind', '127.0.0.1', '--port', '0', '--media-dir', dir, '--refresh-secs', '3600', '--data-dir', dataDir, ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      text += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(text);
      if (m) resolve({ url: m[1], child });
    });
    child.once('exit', () => reject(new Error(`server exited: ${text}`)));
  });
}

// ---- S3 ----

/** A client for the endpoint in S3_ENDPOINT (or BUCKETSTREAM_TEST_S3_ENDPOINT). */
export function client() {
  const endpoint = process.env.S3_ENDPOINT || process.env.BUCKETSTREAM_TEST_S3_ENDPOINT;
  if (!endpoint) throw new Error('S3_ENDPOINT is not set');
  return new S3Client({
    endpoint,
    region: process.env.AWS_REGION || 'garage',
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    },
  });
}

const TYPES = { mp3: 'audio/mpeg', m4a: 'audio/mp4', mp4: 'video/mp4', webm: 'video/webm' };

/** Puts one object. */
export async function put(bucket, key, body) {
  const ext = key.split('.').pop().toLowerCase();
  await client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: TYPES[ext] || 'application/octet-stream' }));
}

/** Deletes one object. */
export async function del(bucket, key) {
  await client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Creates `bucket` and uploads every file under `dir` with its relative path as the key. */
export async function upload(bucket, dir) {
  const s3 = client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  let n = 0;
  for await (const path of walk(dir)) {
    const key = relative(dir, path).split(sep).join('/');
    await put(bucket, key, await readFile(path));
    n += 1;
  }
  return n;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cmd, bucket, dir] = process.argv.slice(2);
  if (cmd !== 'upload' || !bucket || !dir) {
    console.error('usage: node lib/harness.js upload BUCKET DIR');
    process.exit(2);
  }
  const n = await upload(bucket, dir);
  console.error(`browser-tests: uploaded ${n} objects to ${bucket}`);
}
