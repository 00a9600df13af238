// manage.test.js: the owner renames an item through the player's dialog (keyboard and mouse,
// with its confirmation step) and the file is renamed on disk and in the list; a viewer that is
// not the owner sees no such control; the settings view's copy of S3's bucket naming rules
// agrees with the server's table (crates/core/src/source/manage/bucket_name.rs).
//
// Each server here is its own bucketstream-server over a temporary folder (the shared fixture
// bucket is left alone).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, copyFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, rowNames, until, waitForLibrary } from './lib/harness.js';
import { bucketNameProblem } from '../../ui/desktop/bucket-name.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = !process.env.BS_SERVER_BIN && 'BS_SERVER_BIN is not set';
let browser;
const children = [];
const dirs = [];

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A folder with two songs, and a server over it with `flags`; resolves to {dir, url}. */
async function serve(flags = []) {
  const dir = await mkdtemp(join(tmpdir(), 'bs-manage-'));
  dirs.push(dir);
  await copyFile(join(root, 'samples', 'A440 tone.mp3'), join(dir, 'A440 tone.mp3'));
  await copyFile(join(root, 'samples', 'A440 tone.mp3'), join(dir, 'Second.mp3'));
  const child = spawn(process.env.BS_SERVER_BIN, ['--bind', '127.0.0.1', '--port', '0', '--media-dir', dir, '--no-scan', '--data-dir', join(dir, '.data'), ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let text = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      text += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(text);
      if (m) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`server exited: ${text}`)));
  });
  return { dir, url };
}

test('the owner renames an item through the confirmation dialog', { skip }, async () => {
  const { dir, url } = await serve();
  const context = await browser.newContext({ baseURL: url });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  try {
    await page.goto('/');
    await waitForLibrary(page);
    await page.waitForSelector('body[data-manage="true"]');
    const more = page.locator('.layer [data-id]:has(.row-name:text-is("Second")) [data-action="manage"]');
    await more.waitFor({ state: 'visible' });
    assert.equal(await more.getAttribute('aria-label'), 'Rename, move or delete: Second');
    // Keyboard: the button opens a modal dialog with the file name focused.
    await more.focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('#manage-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'manage-name');
    assert.equal(await page.inputValue('#manage-name'), 'Second.mp3');
    // Escape closes it, nothing changed, focus back on the row's button.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'manage');
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.mp3')).sort(), ['A440 tone.mp3', 'Second.mp3']);

    // A hostile name: the server's message in the dialog, nothing renamed.
    await more.click();
    await page.fill('#manage-name', '../escape.mp3');
    await page.click('#manage-dialog [data-action="ask-move"]');
    await page.click('#manage-dialog [data-action="confirm"]');
    await until(async () => (await page.textContent('#manage-error')).includes('invalid name'), 'the refusal shown');
    assert.equal(await page.getAttribute('#manage-error', 'data-code'), 'name_invalid');
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.mp3')).sort(), ['A440 tone.mp3', 'Second.mp3']);

    // Rename: the question names both, Confirm renames, the list follows.
    await page.fill('#manage-name', 'Renamed song.mp3');
    await page.keyboard.press('Enter');
    const question = await page.textContent('#manage-question');
    assert.ok(question.includes('“Second.mp3”') && question.includes('“Renamed song.mp3”'), question);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'confirm');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    await until(async () => (await rowNames(page)).includes('Renamed song'), 'the renamed row');
    assert.ok(!(await rowNames(page)).includes('Second'));
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.mp3')).sort(), ['A440 tone.mp3', 'Renamed song.mp3']);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a viewer that is not the owner sees no rename, move or delete', { skip }, async () => {
  // Open to the LAN, but loopback not trusted: this browser is a LAN device.
  const { url } = await serve(['--open-to-lan', '--trusted-network', '192.0.2.1/32']);
  const context = await browser.newContext({ baseURL: url });
  const page = await context.newPage();
  try {
    await page.goto('/');
    await waitForLibrary(page);
    await page.waitForSelector('body[data-manage="false"]');
    const more = page.locator('.layer [data-id] [data-action="manage"]').first();
    assert.equal(await more.isVisible(), false);
  } finally {
    await context.close();
  }
});

test('the settings view checks bucket names with the server\'s rules', () => {
  const ok = ['music', 'abc', 'my-music.2026', 'a1b', '1.2.3', '1.2.3.4.5', '192.168.1.x', 'a'.repeat(63)];
  for (const name of ok) assert.equal(bucketNameProblem(name), null, name);
  const bad = [
    ['ab', 'a bucket name has 3 to 63 characters (this one has 2)'],
    ['a'.repeat(64), 'a bucket name has 3 to 63 characters (this one has 64)'],
    ['My-Music', 'a bucket name may only hold lowercase letters, digits, \'-\' and \'.\' (not "M")'],
    ['músic', 'a bucket name may only hold lowercase letters, digits, \'-\' and \'.\' (not "ú")'],
    ['-music', 'a bucket name starts and ends with a lowercase letter or a digit'],
    ['music.', 'a bucket name starts and ends with a lowercase letter or a digit'],
    ['my..music', 'a bucket name may not contain ".."'],
    ['my.-music', 'a bucket name may not contain ".-"'],
    ['my-.music', 'a bucket name may not contain "-."'],
    ['192.168.1.2', 'a bucket name may not look like an IP address (such as 192.168.1.2)'],
    ['xn--music', 'bucket names starting with "xn--" are reserved by S3'],
    ['sthree-music', 'bucket names starting with "sthree-" are reserved by S3'],
    ['music-s3alias', 'bucket names ending with "-s3alias" are reserved by S3'],
    ['music--ol-s3', 'bucket names ending with "--ol-s3" are reserved by S3'],
  ];
  for (const [name, want] of bad) assert.equal(bucketNameProblem(name), want, name);
});
