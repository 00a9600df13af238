// model.test.js: the player's pure logic, run inside the real browser by importing the ui/
// modules from the server: the library model (folders from keys, search, kind filter, sort,
// pushed changes) and the queue (play now/next, add, move, remove, clear, repeat, shuffle, prev).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open } from './lib/harness.js';

let browser;
let context;
let page;

before(async () => {
  browser = await launch();
  ({ context, page } = await open(browser));
});
after(async () => {
  await context.close();
  await browser.close();
});

test('library model: folders, search, filter, sort and pushed changes', async () => {
  const out = await page.evaluate(async () => {
    const { Library } = await import('/library.js');
    const item = (id, key, kind, size, ms) => {
      const parts = key.split('/');
      const file = parts.pop();
      return { id, key, name: file.replace(/\.[^.]+$/, ''), folder: parts.join('/'), kind, size, modified_ms: ms, url: `/media/${id}` };
    };
    const lib = new Library(() => {});
    lib.replace([
      item('a', 'Rock/Live/One.mp3', 'audio', 300, 3),
      item('b', 'Rock/Two.mp3', 'audio', 100, 1),
      item('c', 'Films/Trailer.mp4', 'video', 900, 2),
      item('d', 'Top.mp3', 'audio', 50, 4),
      { id: 'bad', name: 'no kind', url: '/x' }, // malformed: dropped
      null,
    ]);
    const names = () => lib.rows().rows.map((r) => (r.type === 'folder' ? `[${r.name}:${r.count}]` : r.item.name));
    const r = {};
    r.size = lib.size;
    r.top = names();
    lib.set({ folder: 'Rock' });
    r.rock = names();
    r.crumbs = lib.crumbs().map((c) => c.path);
    lib.set({ folder: '', query: 'rock' });
    r.searchRock = names();
    lib.set({ query: 'live one' });
    r.searchTokens = names();
    lib.set({ query: '', kind: 'video' });
    r.videoTop = names();
    lib.set({ kind: 'all', folder: 'Rock', sort: 'size-desc' });
    r.bySize = names();
    lib.set({ sort: 'date-desc' });
    r.byDate = names();
    lib.apply({ added: [item('e', 'Rock/Three.mp3', 'audio', 10, 9)], removed: ['b'], changed: [] });
    r.afterDelta = names();
    lib.set({ folder: 'Rock/Live' });
    lib.apply({ removed: ['a'] });
    r.folderGone = [lib.folder, names()];
    return r;
  });
  assert.equal(out.size, 4);
  assert.deepEqual(out.top, ['[Films:1]', '[Rock:2]', 'Top']);
  assert.deepEqual(out.rock, ['[Live:1]', 'Two']);
  assert.deepEqual(out.crumbs, ['', 'Rock']);
  assert.deepEqual(out.searchRock.sort(), ['One', 'Two']);
  assert.deepEqual(out.searchTokens, ['One']);
  assert.deepEqual(out.videoTop, ['[Films:1]']);
  assert.deepEqual(out.bySize, ['[Live:1]', 'Two']);
  assert.deepEqual(out.byDate, ['[Live:1]', 'Two']);
  assert.deepEqual(out.afterDelta, ['[Live:1]', 'Three']);
  assert.deepEqual(out.folderGone, ['Rock', ['Three']], 'an emptied folder falls back to its parent');
});

test('queue: play now, next, add, move, remove, clear, repeat, shuffle, prev', async () => {
  const out = await page.evaluate(async () => {
    localStorage.clear();
    const { Queue } = await import('/queue.js');
    const q = new Queue(() => {});
    const state = () => `${q.ids.join('')}@${q.index}`;
    const r = {};
    q.playNow('a');
    q.enqueue('b');
    q.enqueue('c');
    q.playNext('d');
    r.built = state();
    q.enqueue('b'); // already queued: moves to the end
    r.dedupe = state();
    r.next1 = q.next(true);
    r.next2 = q.next(true);
    r.next3 = q.next(true);
    r.endOff = q.next(true);
    q.cycleRepeat(); // all
    r.wrap = q.next(true);
    q.cycleRepeat(); // one
    r.one = q.next(true);
    r.manual = q.next(false); // the next button still moves on with repeat one
    q.cycleRepeat(); // off
    r.prev = q.prev();
    q.move(0, 3);
    r.moved = state();
    q.remove(0);
    r.removed = state();
    q.clear();
    r.cleared = state();
    const saved = JSON.parse(localStorage.getItem('bucketstream.queue'));
    r.saved = `${saved.ids.join('')}@${saved.index}`;
    // Shuffle: one round visits every item once before repeating.
    localStorage.clear();
    const s = new Queue(() => {});
    for (const id of 'pqrstu') s.enqueue(id);
    s.jump(0);
    s.toggleShuffle();
    const seen = [s.currentId];
    for (let i = 0; i < 5; i += 1) seen.push(s.next(true));
    r.shuffleRound = seen.slice().sort().join('');
    r.shuffleEnd = s.next(true);
    return r;
  });
  assert.equal(out.built, 'adbc@0');
  assert.equal(out.dedupe, 'adcb@0');
  assert.deepEqual([out.next1, out.next2, out.next3, out.endOff], ['d', 'c', 'b', null]);
  assert.equal(out.wrap, 'a');
  assert.equal(out.one, 'a');
  assert.equal(out.manual, 'd');
  assert.equal(out.prev, 'a');
  assert.equal(out.moved, 'dcba@3');
  assert.equal(out.removed, 'cba@2');
  assert.equal(out.cleared, 'a@0');
  assert.equal(out.saved, 'a@0');
  assert.equal(out.shuffleRound, 'pqrstu');
  assert.equal(out.shuffleEnd, null, 'repeat off: the shuffled round ends');
});
