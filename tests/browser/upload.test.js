// upload.test.js: uploads from the page in a real browser, through the server's tus endpoint
// (/api/uploads) into the test's Garage bucket. A 200 MiB file of random bytes is picked in the
// uploads panel, sent by the vendored tus-js-client (upload throttled by the browser so that
// the reload lands mid-way), the page is reloaded mid-upload, the panel lists the unfinished
// upload, the same file is chosen again and the upload resumes at the server's offset (its
// HEAD answer and the next PATCH's Upload-Offset are above 0); the object in the bucket is
// byte-exact (sha256 of GET /media/{id}) and reached the page's list by the WebSocket alone.
// Also: a picked folder and a dropped folder (Chromium's own drag pipeline, real folder
// entries) keep their structure, with non-media files listed as refused; pause, resume, the
// server's error text with retry, and cancel deleting the upload on the server; the panel on a
// 360 px phone; a name the server refuses; the pure planning (uploadpick.js); a LAN device
// without the upload permission sees no controls and is refused by the server, and one the
// owner lets upload (--lan-uploads) gets them and uploads.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile, copyFile, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, open, until, rowNames, waitForLibrary, del, BASE } from './lib/harness.js';

const SIZE = 200 * 1024 * 1024;
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const shots = new URL('./screenshots/', import.meta.url);
const NAME = 'Upload test.mp3';
const RUN = `run-${Date.now()}`;
const FOLDER = `Uploads/${RUN}`;
let browser;
let dir;
let digest;
const written = []; // keys to delete from the bucket afterwards

before(async () => {
  browser = await launch();
  dir = await mkdtemp(join(tmpdir(), 'bs-upload-'));
  // 200 MiB of random bytes, hashed as they are written.
  const hash = createHash('sha256');
  const out = createWriteStream(join(dir, NAME));
  for (let done = 0; done < SIZE; ) {
    const chunk = randomBytes(Math.min(8 * 1024 * 1024, SIZE - done));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
    done += chunk.length;
  }
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  digest = hash.digest('hex');
});

after(async () => {
  await browser.close();
  await rm(dir, { recursive: true, force: true });
  for (const key of written) await del(process.env.BS_BUCKET, key).catch(() => {});
});

/** The server's items (the test runs on loopback: the owner). */
async function items(base = BASE) {
  return (await fetch(`${base}/api/videos`)).json();
}

/** sha256 of the object the server serves at `url`, streamed. */
async function sha256Of(url) {
  const resp = await fetch(`${BASE}${url}`);
  assert.equal(resp.status, 200);
  const hash = createHash('sha256');
  for await (const chunk of resp.body) hash.update(chunk);
  return hash.digest('hex');
}

/** The upload row of file `name`: its state, bar value and text. */
async function row(page, name) {
  return page.evaluate((n) => {
    const el = [...document.querySelectorAll('#uploads .upl')].find((e) => e.querySelector('.upl-name').textContent === n);
    if (!el) return null;
    const bar = el.querySelector('progress');
    return { state: el.dataset.state, value: bar ? bar.value : 0, text: el.querySelector('.upl-status').textContent };
  }, name);
}

/** axe-core on the page: no serious or critical violation. */
async function axe(page, what) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${what}`);
}

test('a 200 MiB upload from the page, reloaded mid-way, resumes and is byte-exact in the bucket', async (t) => {
  const { context, page, log } = await open(browser);
  const requests = []; // every tus request the page made, in order
  page.on('request', (req) => {
    if (req.url().includes('/api/uploads')) requests.push({ method: req.method(), offset: req.headers()['upload-offset'], at: 'request' });
    if (req.url().includes('/api/videos')) requests.push({ method: 'LIST', at: 'request' });
  });
  page.on('response', (resp) => {
    if (resp.url().includes('/api/uploads') && resp.request().method() === 'HEAD') requests.push({ method: 'HEAD', offset: resp.headers()['upload-offset'], status: resp.status(), at: 'response' });
  });
  await until(() => page.isVisible('#upload-btn'), 'the upload button (the owner may upload)');
  await page.click('#upload-btn');
  await page.fill('#uploads-folder', FOLDER);
  // The browser sends at most 40 MiB/s, so the reload below lands mid-upload.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40 * 1024 * 1024 });
  await page.setInputFiles('input[data-upload="files"]', join(dir, NAME));
  const first = await until(async () => {
    const r = await row(page, NAME);
    if (r && r.state === 'error') throw new Error(`the upload failed: ${r.text}`);
    return r && r.state === 'uploading' && r.value >= SIZE * 0.3 && r;
  }, 'a third of the upload', 60000, 50);
  assert.ok(first.value < SIZE, 'reloaded before the end');
  await page.screenshot({ path: new URL('uploads.png', shots).pathname });
  await axe(page, 'the uploads panel mid-upload');
  assert.match(first.text, /MB\/s · .* left/, 'speed and time left are shown');
  const creates = requests.filter((r) => r.method === 'POST').length;
  assert.equal(creates, 1, 'one upload was created');

  // Reload mid-upload: the File is gone, tus-js-client's URL is in local storage.
  const mark = requests.length;
  await page.reload();
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await waitForLibrary(page);
  await until(() => page.isVisible('#upload-btn'), 'the upload button after the reload');
  await page.click('#upload-btn');
  const orphan = await until(async () => {
    const r = await row(page, NAME);
    return r && r.state === 'orphan' && r;
  }, 'the unfinished upload listed after the reload');
  assert.match(orphan.text, /Unfinished/);
  assert.ok(orphan.value > 0, `the server kept part of it (${orphan.value} bytes)`);

  // The person chooses the same file again: it resumes where the server is.
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.click(`#uploads .upl[data-state="orphan"] button[aria-label="Choose the file… ${NAME}"]`),
  ]);
  await chooser.setFiles(join(dir, NAME));
  await until(async () => {
    const r = await row(page, NAME);
    if (r && r.state === 'error') throw new Error(`the resumed upload failed: ${r.text}`);
    return r && r.state === 'done';
  }, 'the resumed upload to finish', 120000, 200);
  const second = requests.slice(mark);
  assert.equal(second.filter((r) => r.method === 'POST').length, 0, `no new upload was created: ${JSON.stringify(second)}`);
  const head = second.find((r) => r.method === 'HEAD' && r.status === 200 && Number(r.offset) > 0);
  assert.ok(head, `the server answered HEAD with an offset above 0: ${JSON.stringify(second)}`);
  // The first PATCH after that HEAD (the old page may have sent one more before it went away).
  const patch = second.slice(second.indexOf(head)).find((r) => r.method === 'PATCH');
  assert.ok(patch && Number(patch.offset) >= Number(head.offset) && Number(patch.offset) > 0, `the first PATCH after the reload starts at the server's offset: ${JSON.stringify(patch)}`);

  t.diagnostic(`reloaded at ${first.value} bytes sent; the server had ${head.offset} (${Math.round((100 * head.offset) / SIZE)}%); resumed from there`);

  // The new item reaches the page by the WebSocket (the page never refetched the list).
  const key = `${FOLDER}/${NAME}`;
  written.push(key);
  await page.fill('#search', 'Upload test');
  await until(async () => (await rowNames(page)).includes('Upload test'), 'the uploaded file in the list', 30000, 200);
  assert.equal(requests.filter((r) => r.method === 'LIST').length, 0, 'the list was never refetched over HTTP');

  const item = (await items()).find((i) => i.key === key);
  assert.ok(item, `${key} is in the library`);
  assert.equal(item.size, SIZE);
  assert.equal(await sha256Of(item.url), digest, 'the bytes in the bucket are the file');
  assert.deepEqual(log.errors.filter((e) => !/status of 4\d\d/.test(e)), []);
  await context.close();
});

test('a picked folder keeps its structure under the target; a non-media file is refused with the reason', async () => {
  const src = join(dir, 'Picked');
  await mkdir(join(src, 'CD 1'), { recursive: true });
  await copyFile(new URL('../../samples/A440 tone.mp3', import.meta.url), join(src, 'CD 1', 'Tone.mp3'));
  await writeFile(join(src, 'notes.txt'), 'not media');
  const { context, page } = await open(browser);
  await until(() => page.isVisible('#upload-btn'), 'the upload button');
  await page.click('#upload-btn');
  await page.fill('#uploads-folder', `${FOLDER}/folders`);
  await page.setInputFiles('input[data-upload="folder"]', src);
  await until(async () => (await row(page, 'Tone.mp3'))?.state === 'done', 'the folder upload', 30000);
  const refused = await row(page, 'notes.txt');
  assert.equal(refused.state, 'refused');
  assert.match(refused.text, /\.txt files are not media the library plays/);
  const key = `${FOLDER}/folders/Picked/CD 1/Tone.mp3`;
  written.push(key);
  await until(async () => (await items()).some((i) => i.key === key), `${key} in the library`);
  assert.ok(!(await items()).some((i) => i.key.endsWith('notes.txt')), 'nothing else was written');
  // Keyboard: the panel closes with Escape and focus returns to the button.
  await page.focus('#uploads-folder');
  await page.keyboard.press('Escape');
  assert.equal(await page.isHidden('#uploads'), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'upload-btn');
  await context.close();
});

test('a folder and a file dropped on the window upload with the structure kept', async () => {
  const src = join(dir, 'Dropped');
  await mkdir(join(src, 'Album', 'CD 2'), { recursive: true });
  await copyFile(new URL('../../samples/A440 tone.mp3', import.meta.url), join(src, 'Album', 'CD 2', 'Deep.mp3'));
  await copyFile(new URL('../../samples/E660 tone.m4a', import.meta.url), join(src, 'Album', 'Top.m4a'));
  await writeFile(join(src, 'Album', 'cover.txt'), 'not media');
  await copyFile(new URL('../../samples/A440 tone.mp3', import.meta.url), join(src, 'Loose.mp3'));
  const { context, page } = await open(browser, { path: `/#folder=${encodeURIComponent(`${FOLDER}`)}` });
  await until(() => page.isVisible('#upload-btn'), 'the upload button');
  // Chromium's own drag pipeline (as from a file manager), with real folder entries.
  const cdp = await context.newCDPSession(page);
  const data = { items: [], files: [join(src, 'Album'), join(src, 'Loose.mp3')], dragOperationsMask: 1 };
  await cdp.send('Input.dispatchDragEvent', { type: 'dragEnter', x: 300, y: 300, data });
  await cdp.send('Input.dispatchDragEvent', { type: 'dragOver', x: 300, y: 300, data });
  assert.equal(await page.isVisible('.uploads-drop'), true, 'the drop overlay');
  assert.equal(await page.textContent('.uploads-drop'), `Drop to upload to “${FOLDER}”`, 'the default target is the folder being viewed');
  await cdp.send('Input.dispatchDragEvent', { type: 'drop', x: 300, y: 300, data });
  assert.equal(await page.isVisible('.uploads-drop'), false);
  for (const name of ['Deep.mp3', 'Top.m4a', 'Loose.mp3']) await rowIn(page, name, 'done');
  const refused = await row(page, 'cover.txt');
  assert.equal(refused.state, 'refused');
  const keys = [`${FOLDER}/Album/CD 2/Deep.mp3`, `${FOLDER}/Album/Top.m4a`, `${FOLDER}/Loose.mp3`];
  written.push(...keys);
  await until(async () => {
    const have = new Set((await items()).map((i) => i.key));
    return keys.every((k) => have.has(k));
  }, 'the dropped files in the library');
  await context.close();
});

/** Writes `bytes` random bytes to `path`; resolves to their sha256. */
async function randomFile(path, bytes) {
  const data = randomBytes(bytes);
  await writeFile(path, data);
  return createHash('sha256').update(data).digest('hex');
}

/** Clicks the button `label` of the upload row of `name`. */
async function press(page, label, name) {
  await page.click(`#uploads .upl button[aria-label="${label} ${name}"]`);
}

/** Waits until the row of `name` is in `state` (and, with `min`, has that many bytes sent). */
function rowIn(page, name, state, min = 0, timeout = 30000) {
  return until(async () => {
    const r = await row(page, name);
    return r && r.state === state && r.value >= min && r;
  }, `${name} ${state}${min ? ` past ${min} bytes` : ''}`, timeout, 50);
}

test('pause and resume, an error shown with retry, and cancel deleting the upload on the server', async () => {
  const MB = 1024 * 1024;
  const a = 'Pause and retry.mp3';
  const b = 'Canceled.mp3';
  const aHash = await randomFile(join(dir, a), 24 * MB);
  await randomFile(join(dir, b), 24 * MB);
  const { context, page } = await open(browser);
  const seen = [];
  page.on('response', (resp) => {
    if (resp.url().includes('/api/uploads')) seen.push({ method: resp.request().method(), status: resp.status(), url: resp.url(), location: resp.headers().location });
  });
  // The first PATCH is refused (as a server would refuse it); the next ones go through.
  let refused = false;
  await page.route('**/api/uploads/*', async (route) => {
    if (!refused && route.request().method() === 'PATCH') {
      refused = true;
      await route.fulfill({ status: 403, contentType: 'application/json', body: '{"error":{"code":"upload_forbidden","message":"uploads are off for this device"}}' });
    } else await route.fallback();
  });
  await until(() => page.isVisible('#upload-btn'), 'the upload button');
  await page.click('#upload-btn');
  await page.fill('#uploads-folder', `${FOLDER}/controls`);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * MB });

  await page.setInputFiles('input[data-upload="files"]', join(dir, a));
  const failed = await rowIn(page, a, 'error');
  assert.equal(failed.text, 'Failed: uploads are off for this device', 'the server\'s message is shown');
  await page.unroute('**/api/uploads/*');
  await press(page, 'Retry', a);
  await rowIn(page, a, 'uploading', 4 * MB);
  await press(page, 'Pause', a);
  const paused = await rowIn(page, a, 'paused');
  assert.match(paused.text, /^Paused at /);
  await press(page, 'Resume', a);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await rowIn(page, a, 'done');
  const key = `${FOLDER}/controls/${a}`;
  written.push(key);
  const item = await until(async () => (await items()).find((i) => i.key === key), `${key} in the library`);
  assert.equal(await sha256Of(item.url), aHash, 'paused, retried and resumed, still byte-exact');
  assert.equal(seen.filter((r) => r.method === 'POST').length, 1, 'one upload, resumed each time');

  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * MB });
  await page.setInputFiles('input[data-upload="files"]', join(dir, b));
  await rowIn(page, b, 'uploading', 2 * MB);
  const url = new URL(seen.filter((r) => r.method === 'POST').pop().location, BASE).href;
  await press(page, 'Cancel', b);
  await rowIn(page, b, 'canceled');
  const deleted = seen.find((r) => r.method === 'DELETE');
  assert.ok(deleted && deleted.status === 204, `the upload was deleted on the server: ${JSON.stringify(deleted)}`);
  const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  assert.ok(head.status === 404 || head.status === 410, `the server no longer has it (${head.status})`);
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::'))), [], 'nothing left to resume');
  assert.ok(!(await items()).some((i) => i.key.endsWith(b)), 'nothing was written');
  await context.close();
});

test('on a 360 px phone the panel fits, its buttons are touch-sized and axe is clean', async () => {
  const { context, page } = await open(browser, { viewport: { width: 360, height: 740 } });
  await until(() => page.isVisible('#upload-btn'), 'the upload button');
  await page.click('#upload-btn');
  await page.fill('#uploads-folder', `${FOLDER}/phone`);
  await page.setInputFiles('input[data-upload="files"]', [join(dir, 'Picked', 'notes.txt'), join(dir, 'Picked', 'CD 1', 'Tone.mp3')]);
  await rowIn(page, 'Tone.mp3', 'done');
  written.push(`${FOLDER}/phone/Tone.mp3`);
  const box = await page.evaluate(() => {
    const r = document.getElementById('uploads').getBoundingClientRect();
    const small = [...document.querySelectorAll('#uploads button, #uploads input[type=text]')]
      .filter((b) => b.offsetParent !== null)
      .map((b) => [b.textContent || b.id, b.getBoundingClientRect().height])
      .filter(([, hgt]) => hgt < 44);
    return { left: r.left, right: r.right, wide: document.documentElement.scrollWidth, small };
  });
  assert.ok(box.left >= 0 && box.right <= 360 && box.wide <= 360, `the panel fits: ${JSON.stringify(box)}`);
  assert.deepEqual(box.small, [], 'touch targets of at least 44 px');
  await page.screenshot({ path: new URL('uploads-phone.png', shots).pathname });
  await axe(page, 'the uploads panel on a phone');
  await context.close();
});

test('a name the server refuses: its own message is shown and nothing is written', async () => {
  const deep = Array.from({ length: 33 }, (_, i) => `L${i}`).join('/');
  const { context, page } = await open(browser);
  await until(() => page.isVisible('#upload-btn'), 'the upload button');
  await page.click('#upload-btn');
  await page.fill('#uploads-folder', `${FOLDER}/${deep}`);
  await page.setInputFiles('input[data-upload="files"]', join(dir, 'Picked', 'CD 1', 'Tone.mp3'));
  const failed = await rowIn(page, 'Tone.mp3', 'error');
  assert.match(failed.text, /^Failed: .*more than 32 levels deep/, 'the server\'s message');
  assert.ok(!(await items()).some((i) => i.key.includes('/L32/')), 'nothing was written');
  await context.close();
});

test('uploadpick: folders, types, limits and error texts', async () => {
  const { context, page } = await open(browser);
  const out = await page.evaluate(async () => {
    const m = await import('/uploadpick.js');
    const f = (name, size = 10) => ({ name, size });
    const plan = m.planFiles(
      [
        { file: f('a.MP3'), relative: 'Album/CD 1' },
        { file: f('b.flac'), relative: '' },
        { file: f('c.txt'), relative: '' },
        { file: f('noext'), relative: '' },
        { file: f('big.mp4', 5000), relative: '' },
        { file: f('d.mp3'), relative: '../up' },
        { file: f('._e.mp3'), relative: '' },
        { file: f('f.mp3'), relative: 'x/.git' },
        { file: f(`${'g'.repeat(197)}.mp3`), relative: '' },
        { file: f(`${'h'.repeat(196)}.mp3`), relative: '' },
      ],
      'Music',
      1000,
    );
    return {
      clean: ['', '/', 'a//b/', './a/./b', 'a/../b', 'a\\b', 'a\u0007b', 'x'.repeat(2000)].map((t) => m.cleanFolder(t)),
      folders: ['/A/B/c.mp3', 'c.mp3', '', '/x.mp3'].map(m.folderOfPath),
      accepted: plan.accepted.map((a) => `${a.folder}|${a.file.name}`),
      refused: plan.refused.map((r) => `${r.name}: ${r.reason}`),
      errors: [
        m.describeError({ originalRequest: { getMethod: () => 'PATCH' }, originalResponse: { getStatus: () => 415, getBody: () => '{"error":{"code":"unsupported_type","message":"only media files"}}' } }).text,
        m.describeError({ originalRequest: { getMethod: () => 'POST' }, originalResponse: { getStatus: () => 413, getBody: () => 'nope' } }).text,
        m.describeError({ originalRequest: { getMethod: () => 'POST' }, originalResponse: { getStatus: () => 404, getBody: () => '' } }).text,
        m.describeError({ originalResponse: { getStatus: () => 503, getBody: () => '' } }).text,
        m.describeError(new Error('xhr')).text,
      ],
    };
  });
  assert.deepEqual(out.clean, [
    { folder: '' },
    { folder: '' },
    { folder: 'a/b' },
    { folder: 'a/b' },
    { error: 'a folder may not be “..”' },
    { error: 'use / between folders, not \\' },
    { error: 'the folder name holds a control character' },
    { error: 'the folder name is too long' },
  ]);
  assert.deepEqual(out.folders, ['A/B', '', '', '']);
  assert.deepEqual(out.accepted, ['Music/Album/CD 1|a.MP3', 'Music|b.flac', `Music|${'h'.repeat(196)}.mp3`]);
  assert.deepEqual(out.refused, [
    'c.txt: .txt files are not media the library plays',
    'noext: no extension: not media the library plays',
    'big.mp4: larger than this server accepts (1,000 bytes)',
    'd.mp3: its folder cannot be used: a folder may not be “..”',
    '._e.mp3: hidden files (a name starting with “.”) are not uploaded',
    'f.mp3: its folder cannot be used: a folder name may not start with “.” (hidden)',
    `${'g'.repeat(197)}.mp3: the file name is longer than 200 bytes`,
  ]);
  assert.deepEqual(out.errors, [
    'only media files',
    'the file is larger than the server accepts',
    'this server does not take uploads',
    'the server failed (HTTP 503)',
    'the server could not be reached',
  ]);
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

/**
 * Runs `fn(base)` against a server on the test bucket for which this browser is a LAN device:
 * loopback is not a trusted network there, and the server is open to the LAN (no key needed).
 */
async function asLanDevice(extra, fn) {
  const port = await freePort();
  const data = await mkdtemp(join(tmpdir(), 'bs-upload-lan-'));
  const child = spawn(
    process.env.BS_SERVER_BIN,
    ['--bind', '127.0.0.1', '--port', String(port), '--data-dir', data, '--bucket', process.env.BS_BUCKET, '--endpoint', process.env.S3_ENDPOINT, '--region', process.env.AWS_REGION || 'garage', '--trusted-network', '192.0.2.1/32', '--open-to-lan', ...extra],
    { stdio: 'ignore' },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(async () => {
      try {
        return (await fetch(`${base}/api/health`)).ok;
      } catch {
        return false;
      }
    }, 'the LAN server to answer');
    await fn(base);
  } finally {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
    await rm(data, { recursive: true, force: true });
  }
}

const needsServer = { skip: !process.env.BS_SERVER_BIN && 'BS_SERVER_BIN is not set' };

test('a LAN device without the upload permission sees no upload controls', needsServer, async () => {
  await asLanDevice([], async (base) => {
    const health = await (await fetch(`${base}/api/health`)).json();
    assert.equal(health.permissions && health.permissions.upload, false, 'a LAN device may not upload by default');
    const { context, page } = await open(browser, { path: `${base}/` });
    await until(() => page.evaluate(() => document.body.dataset.upload === 'false'), 'the permissions read');
    assert.equal(await page.isVisible('#upload-btn'), false, 'no upload button');
    assert.equal(await page.isVisible('#uploads'), false, 'no uploads panel');
    // Files dragged over the window: no drop target.
    const overlay = await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['x'], 'a.mp3', { type: 'audio/mpeg' }));
      window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true }));
      const el = document.querySelector('.uploads-drop');
      return el ? !el.hidden : false;
    });
    assert.equal(overlay, false, 'no drop overlay');
    // And the server refuses the upload itself.
    const status = await page.evaluate(async () => {
      const resp = await fetch('/api/uploads', { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1', 'Upload-Metadata': `filename ${btoa('a.mp3')}` } });
      return resp.status;
    });
    assert.equal(status, 403);
    await context.close();
  });
});

test('a LAN device the owner lets upload (lan uploads on) gets the controls and uploads', needsServer, async () => {
  await asLanDevice(['--lan-uploads'], async (base) => {
    const { context, page } = await open(browser, { path: `${base}/` });
    await until(() => page.isVisible('#upload-btn'), 'the upload button for a LAN device');
    await page.click('#upload-btn');
    await page.fill('#uploads-folder', `${FOLDER}/lan`);
    await page.setInputFiles('input[data-upload="files"]', join(dir, 'Picked', 'CD 1', 'Tone.mp3'));
    await rowIn(page, 'Tone.mp3', 'done');
    const key = `${FOLDER}/lan/Tone.mp3`;
    written.push(key);
    await until(async () => (await items(base)).some((i) => i.key === key), `${key} in the library`);
    await context.close();
  });
});
