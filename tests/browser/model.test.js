// model.test.js: the player's pure logic, run inside the real browser by importing the ui/
// modules from the server: the library model (folders from keys, search, kind filter, sort,
// pushed changes), the grouping into albums, artists and genres, and the queue (play now/next,
// add, move, remove, clear, repeat, shuffle, prev).

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

test('grouping: album keys, Various Artists, track order, artists, genres, search, pushed tags', async () => {
  const out = await page.evaluate(async () => {
    const { Library } = await import('/library.js');
    const { albumKey } = await import('/groups.js');
    const song = (id, key, tags) => {
      const parts = key.split('/');
      const file = parts.pop();
      return { id, key, name: file.replace(/\.[^.]+$/, ''), folder: parts.join('/'), kind: 'audio', size: 1, modified_ms: 1, url: `/media/${id}`, ...tags };
    };
    const lib = new Library(() => {});
    lib.replace([
      // One album over two disc folders, tagged with an album artist in two spellings.
      song('a1', 'Abba/Gold/CD1/x.mp3', { title: 'Track two', artist: 'ABBA', album_artist: 'ABBA', album: 'Gold', track: 2, disc: 1, year: 1992, genre: 'Pop', duration_ms: 1000 }),
      song('a2', 'Abba/Gold/CD2/y.mp3', { title: 'Disc two opener', artist: 'Abba', album_artist: 'abba', album: 'GOLD', track: 1, disc: 2, genre: 'pop', duration_ms: 2000 }),
      song('a3', 'Abba/Gold/CD1/z.mp3', { title: 'Track one', artist: 'ABBA', album_artist: 'ABBA', album: 'Gold', track: 1, disc: 1, genre: 'Pop', duration_ms: 3000 }),
      // A compilation without album artist: one folder, artists that disagree.
      song('c1', 'Comp/Hits/1.mp3', { title: 'Uno', artist: 'Zoë', album: 'Hits', track: 1 }),
      song('c2', 'Comp/Hits/2.mp3', { title: 'Dos', artist: 'Mark', album: 'Hits', track: 2 }),
      // The same album name elsewhere without album artist: another album.
      song('d1', 'Other/Hits/1.mp3', { title: 'Solo', artist: 'Mark', album: 'Hits', track: 1 }),
      // No tags at all: only in Songs and Folders.
      song('n1', 'Loose/plain.mp3', {}),
      // Hostile and malformed values are dropped or bounded.
      song('h1', 'Loose/h.mp3', { title: 'x'.repeat(5000), track: -3, year: 'soon', art: 'javascript:alert(1)', duration_ms: Infinity }),
    ]);
    const r = {};
    const albums = lib.groups.list('albums');
    r.albums = albums.map((a) => `${a.name}|${a.artist}|${a.count}`);
    const gold = albums.find((a) => a.name.toLowerCase() === 'gold');
    r.goldOrder = gold.tracks.map((t) => t.title);
    r.goldLength = gold.durationMs;
    r.artists = lib.groups.list('artists').map((a) => `${a.name}:${a.albums.length}/${a.count}`);
    r.genres = lib.groups.list('genres').map((g) => `${g.name}:${g.count}`);
    r.noKey = albumKey(lib.get('n1'));
    const h = lib.get('h1');
    r.hostile = [h.title.length, h.track, h.year, h.art, h.duration_ms];
    // Sections and pages.
    lib.set({ section: 'songs' });
    r.songs = lib.rows().rows.map((x) => x.item.title || x.item.name);
    lib.set({ query: 'zoe' }); // accent-insensitive, by artist
    r.searchArtist = lib.rows().rows.map((x) => x.item.title);
    lib.set({ section: 'albums', query: 'various' });
    r.searchAlbums = lib.rows().rows.map((x) => x.summary.artist);
    lib.set({ query: '', section: 'albums', page: { type: 'album', key: gold.key } });
    r.page = lib.rows().rows.map((x) => x.item.title);
    r.crumbs = lib.crumbs().map((c) => c.name);
    lib.set({ section: 'artists', page: { type: 'artist', key: 'mark' } });
    r.markPage = lib.rows().rows.map((x) => (x.type === 'album' ? `[${x.summary.name}]` : x.item.title));
    // Tags arriving for the untagged file: it joins an album; a change moves a track.
    lib.apply({ changed: [song('n1', 'Loose/plain.mp3', { title: 'Plain', artist: 'Mark', album: 'Loose Ends', track: 1 })] });
    r.markAfter = lib.rows().rows.map((x) => (x.type === 'album' ? `[${x.summary.name}]` : x.item.title));
    lib.apply({ changed: [song('c2', 'Comp/Hits/2.mp3', { title: 'Dos', artist: 'Zoë', album: 'Hits', track: 2 })] });
    r.compAfter = lib.groups.list('albums').filter((a) => a.name === 'Hits').map((a) => a.artist).sort();
    lib.apply({ removed: ['d1'] });
    r.afterRemove = lib.groups.list('albums').map((a) => a.name);
    return r;
  });
  assert.deepEqual(out.albums.slice().sort(), ['Gold|ABBA|3', 'Hits|Mark|1', 'Hits|Various Artists|2']);
  assert.equal(out.albums[0], 'Gold|ABBA|3', 'albums sorted by name');
  assert.deepEqual(out.goldOrder, ['Track one', 'Track two', 'Disc two opener'], 'disc, then track order');
  assert.equal(out.goldLength, 6000);
  assert.deepEqual(out.artists, ['ABBA:1/3', 'Mark:2/2', 'Zoë:1/1']);
  assert.deepEqual(out.genres, ['Pop:3']);
  assert.equal(out.noKey, null);
  assert.deepEqual(out.hostile, [1024, null, null, null, null]);
  assert.equal(out.songs.length, 8);
  assert.deepEqual(out.searchArtist, ['Uno']);
  assert.deepEqual(out.searchAlbums, ['Various Artists']);
  assert.deepEqual(out.page, ['Track one', 'Track two', 'Disc two opener']);
  assert.deepEqual(out.crumbs, ['Albums', 'Gold']);
  assert.deepEqual(out.markPage.slice().sort(), ['[Hits]', '[Hits]']);
  assert.deepEqual(out.markAfter.slice().sort(), ['[Hits]', '[Hits]', '[Loose Ends]']);
  assert.deepEqual(out.compAfter, ['Mark', 'Zoë'], 'artists that agree again: no longer Various Artists');
  assert.deepEqual(out.afterRemove.slice().sort(), ['Gold', 'Hits', 'Loose Ends']);
});
