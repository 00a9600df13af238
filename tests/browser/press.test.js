// press.test.js: a click on the list is not lost when a live update (a scan filling tags in,
// a file added) reaches the page between the press and the release of the mouse button. The
// update waits for the release, the click plays its row, and the update is shown right after.
// Against its own bucketstream-server over a temporary folder (no scan: the one update is the
// file this test adds).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, copyFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, rowNames, until, waitForLibrary, mediaState, serveFolder } from './lib/harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = !process.env.BS_SERVER_BIN && 'BS_SERVER_BIN is not set';
let browser;
let dir;
let server;

before(async () => {
  browser = await launch();
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'bs-press-'));
  await copyFile(join(root, 'samples', 'A440 tone.mp3'), join(dir, 'A440 tone.mp3'));
  await writeFile(join(dir, 'Beta.mp3'), '');
  server = await serveFolder(dir, join(dir, '.data'), ['--no-scan']);
});

after(async () => {
  await browser.close();
  if (server && server.child.exitCode === null) server.child.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a list update that comes while a row is pressed waits for the release; the click plays', { skip }, async () => {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  await page.goto('/');
  await waitForLibrary(page);
  const row = page.locator('.layer [data-id] .row-main:has(.row-name:text-is("A440 tone"))');
  const box = await row.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  // A file is added and the library listed again: the page hears of it while the button is down.
  await writeFile(join(dir, 'Added later.mp3'), '');
  const listed = await fetch(`${server.url}/api/refresh`, { method: 'POST' });
  assert.ok(listed.ok, `refresh: ${listed.status}`);
  await until(async () => /1 added/.test(await page.textContent('#announcer')), 'the update announced');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  assert.ok(!(await rowNames(page)).includes('Added later'), 'the rows are not redrawn under the pressed button');
  await page.mouse.up();
  let state;
  await until(async () => {
    state = await mediaState(page);
    return state.currentTime > 0.2;
  }, 'the pressed row playing').catch((err) => {
    throw new Error(`${err.message}; the media element: ${JSON.stringify(state)}`);
  });
  assert.match(decodeURIComponent(state.src), /\/media\//);
  await until(async () => (await rowNames(page)).includes('Added later'), 'the update shown after the release');
  await context.close();
});
