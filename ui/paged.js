// paged.js: the library model above the paging threshold (issue #15: a million objects). It
// offers the interface of library.js's Library (rows, crumbs, pageGroup, get, set, apply,
// visibleItems) but holds nothing whole: the server pages, searches and sorts
// (/api/videos?offset&limit&sort&q&folder&under&kind), gives a folder's subfolders
// (/api/folders) and the grouped views (/api/albums, /api/artists, /api/genres); only the
// pages in view are fetched, cached per view and library generation.
//
// A view (section, folder, search, kind, sort) is a ViewData. Changing the view makes a new
// one and aborts the old one's requests; the rows on screen stay those of the last view that
// answered until the new one has its first answer, so a slow answer to an old keystroke never
// replaces a newer one and nothing flashes empty. A pushed change (library_changed) makes a
// fresh ViewData for the same view that draws the old pages until its own arrive.

import { SECTIONS, parentOf, valid, normalise, plural } from './library.js';
import { fold } from './groups.js';
import { fetchPage, fetchFolders, fetchGroups, fetchAlbum } from './api.js';

/** Items per page fetched from the server. */
export const PAGE = 100;

/**
 * How long the rows in view must stay put before their pages are asked for: a fling through a
 * million rows then costs one request where it stops, not one per frame (the server cannot
 * take back a page it is cutting when the page gives up on it).
 */
export const SETTLE_MS = 90;

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** The toolbar's sorts as the server's `sort` (names sort by file name in Folders). */
const SERVER_SORTS = {
  'name-asc': 'name',
  'name-desc': '-name',
  'date-desc': '-modified',
  'date-asc': 'modified',
  'size-desc': '-size',
  'size-asc': 'size',
};

/** The server's `sort` for the toolbar's `sort` in `section` (titles outside Folders). */
export function serverSort(sort, section) {
  const s = SERVER_SORTS[sort] || 'name';
  return section === 'folders' ? s : s.replace('name', 'title');
}

/**
 * The /api/videos parameters of a view ({section, folder, query, kind, sort}), or null for the
 * grouped sections and pages (albums, artists, genres), which are not paged.
 */
export function viewParams({ section, folder, query, kind, sort, page }) {
  if (page) return null;
  const q = (query || '').trim();
  const p = {};
  if (section === 'folders') {
    if (q) {
      if (folder) p.under = folder;
      p.q = q;
    } else p.folder = folder || '';
    if (kind === 'audio' || kind === 'video') p.kind = kind;
  } else if (section === 'songs' || section === 'videos') {
    p.kind = section === 'songs' ? 'audio' : 'video';
    if (q) p.q = q;
  } else return null;
  p.sort = serverSort(sort, section);
  return p;
}

/** The query string of page `n` (of `size` items) of a view's parameters. */
export function pageQuery(params, n, size = PAGE) {
  return new URLSearchParams({ ...params, offset: String(n * size), limit: String(size) }).toString();
}

/**
 * The page numbers holding rows [first, last) of a list whose first `head` rows are not paged
 * (folder rows) followed by `total` paged items.
 */
export function pagesFor(first, last, head, total, size = PAGE) {
  const from = Math.max(0, first - head);
  const to = Math.min(total, Math.max(0, last - head));
  const out = [];
  for (let p = Math.floor(from / size); to > from && p <= Math.floor((to - 1) / size); p += 1) out.push(p);
  return out;
}

const PENDING = Object.freeze({ type: 'pending' });

/** The rows of a paged view for views.js: `length`, `get(i)`, `findIndex(fn)`. */
class PagedRows {
  constructor(data) {
    this.data = data;
    this.length = data.head.length + data.total;
  }

  get(i) {
    const { head } = this.data;
    if (i < head.length) return head[i];
    const item = this.data.item(i - head.length);
    return item ? { type: 'item', item } : PENDING;
  }

  /** Like Array#findIndex over the rows that are loaded. */
  findIndex(fn) {
    const { head } = this.data;
    for (let i = 0; i < head.length; i += 1) if (fn(head[i])) return i;
    for (const [n, page] of this.data.pages) {
      for (let k = 0; k < page.length; k += 1) if (fn({ type: 'item', item: page[k] })) return head.length + n * PAGE + k;
    }
    return -1;
  }
}

/** One view of the library at one generation: its folder rows, total and fetched pages. */
class ViewData {
  constructor(key, params, fallback) {
    this.key = key;
    this.params = params;
    this.query = params.q || ''; // the search these rows answer
    this.fallback = fallback && fallback.key === key ? fallback : null;
    this.head = this.fallback ? this.fallback.head : [];
    this.total = this.fallback ? this.fallback.total : 0;
    this.pages = new Map(); // page number -> normalised items
    this.inflight = new Map(); // page number -> AbortController
    this.abort = new AbortController(); // everything of this view
  }

  item(j) {
    const n = Math.floor(j / PAGE);
    const page = this.pages.get(n) || (this.fallback && this.fallback.pages.get(n));
    return page ? page[j % PAGE] : undefined;
  }

  stop() {
    this.abort.abort();
    for (const ctl of this.inflight.values()) ctl.abort();
    this.inflight.clear();
  }
}

export class PagedLibrary {
  constructor(onChange) {
    this.paged = true;
    this.loaded = false;
    this.section = 'folders';
    this.page = null;
    this.folder = '';
    this.query = '';
    this.kind = 'all';
    this.sort = 'name-asc';
    this.onChange = onChange;
    this.count = 0;
    this.generation = -1;
    this.byId = new Map(); // every item fetched, by id (the queue and the player look up here)
    this.shown = null; // the ViewData (or group rows) on screen
    this.want = null; // the ViewData being loaded to replace it
    this.range = [0, 40];
    this.cache = null;
    this.groupCache = new Map(); // "albums" | "artists" | "genres" | "album:ID" -> {generation, value}
  }

  get size() {
    return this.count;
  }

  get(id) {
    return this.byId.get(id);
  }

  /** The library's count and generation (the WebSocket's media_list with paged: true). */
  setState({ count, generation }) {
    const fresh = generation !== this.generation;
    this.count = typeof count === 'number' ? count : this.count;
    this.generation = generation;
    this.loaded = true;
    if (fresh || !this.shown) this.reload(true);
    else this.changed('state');
  }

  /** A pushed change: the count now, fetched items updated, the view fetched again. */
  apply({ added = [], removed = [], changed = [], generation, count }) {
    for (const id of removed) this.byId.delete(id);
    for (const raw of changed) if (valid(raw) && this.byId.has(raw.id)) this.byId.set(raw.id, normalise(raw));
    if (typeof count === 'number') this.count = count;
    if (typeof generation === 'number') this.generation = generation;
    this.reload(true);
    this.changed('delta', { added: added.length, removed: removed.length, changed: changed.length });
  }

  replace() {
    // Whole lists are not used in paged mode.
  }

  set(patch) {
    Object.assign(this, patch);
    this.reload(false);
    this.changed('view');
  }

  changed(reason, detail) {
    this.cache = null;
    if (this.onChange) this.onChange(reason, detail);
  }

  /**
   * The rows in view moved (views.js): once they stay put for SETTLE_MS, fetch the pages they
   * need and abort the others.
   */
  setRange(first, last) {
    this.range = [first, last];
    clearTimeout(this.rangeTimer);
    const data = this.shown instanceof ViewData ? this.shown : null;
    if (!data || this.want) return;
    const need = pagesFor(first, last, data.head.length, data.total);
    // Requests for pages scrolled past are given up at once.
    for (const [n, ctl] of data.inflight) {
      if (!need.includes(n)) {
        ctl.abort();
        data.inflight.delete(n);
      }
    }
    // Pages already here or on their way: nothing to wait for.
    if (need.every((n) => data.pages.has(n) || data.inflight.has(n))) return;
    this.rangeTimer = setTimeout(() => this.fetchRange(), SETTLE_MS);
  }

  fetchRange() {
    const [first, last] = this.range;
    const data = this.shown instanceof ViewData ? this.shown : null;
    if (!data || this.want) return;
    const need = new Set(pagesFor(first, last, data.head.length, data.total));
    for (const [n, ctl] of data.inflight) {
      if (!need.has(n)) {
        ctl.abort();
        data.inflight.delete(n);
      }
    }
    for (const n of need) if (!data.pages.has(n) && !data.inflight.has(n)) this.fetchInto(data, n, true);
  }

  /** Fetches page `n` of `data`; `paint` repaints when it lands. Resolves to the answer or null. */
  async fetchInto(data, n, paint) {
    const ctl = new AbortController();
    data.inflight.set(n, ctl);
    try {
      const body = await fetchPage(pageQuery(data.params, n), ctl.signal);
      if (data.inflight.get(n) !== ctl) return null;
      data.inflight.delete(n);
      const items = [];
      for (const raw of Array.isArray(body.items) ? body.items : []) {
        if (!valid(raw)) continue;
        const item = normalise(raw);
        this.byId.set(item.id, item);
        items.push(item);
      }
      data.pages.set(n, items);
      if (typeof body.total === 'number' && body.total !== data.total) {
        data.total = body.total;
        if (paint && data === this.shown) this.changed('data');
      } else if (paint && data === this.shown) this.onChange('page');
      return body;
    } catch {
      if (data.inflight.get(n) === ctl) data.inflight.delete(n);
      return null;
    }
  }

  /** Loads the current view anew; `same` keeps the rows of the same view on screen meanwhile. */
  reload(same) {
    if (!this.loaded) return;
    if (this.want) this.want.stop();
    const old = this.shown instanceof ViewData ? this.shown : null;
    if (old && !same) old.stop();
    const params = viewParams(this);
    const key = `${JSON.stringify(params)}\u0000${this.section}\u0000${JSON.stringify(this.page)}`;
    if (!params) {
      this.want = { key, query: this.query.trim(), abort: new AbortController(), stop() { this.abort.abort(); } };
      this.loadGroups(this.want);
      return;
    }
    const data = new ViewData(key, params, same ? old : null);
    this.want = data;
    this.loadView(data, same);
  }

  async loadView(data, same) {
    const [first, last] = same ? this.range : [0, 40];
    const q = data.params.q;
    const folders =
      this.section === 'folders' && !q
        ? fetchFolders(this.folder, data.params.kind, data.abort.signal).catch(() => null)
        : Promise.resolve(null);
    // The first page gives the total; then the pages in view (a refetch after a change).
    const firstPage = Math.max(0, pagesFor(first, last, data.head.length, Math.max(data.total, 1))[0] || 0);
    const answer = await this.fetchInto(data, firstPage, false);
    const tree = await folders;
    if (this.want !== data) return;
    if (!answer) {
      // Failed (offline): try again on the next state or change.
      this.want = null;
      return;
    }
    if (this.section !== 'folders' || q) data.head = [];
    else if (tree && Array.isArray(tree.folders)) data.head = folderRows(tree.folders);
    else data.head = data.fallback ? data.fallback.head : [];
    this.want = null;
    if (this.shown instanceof ViewData && this.shown !== data && !same) this.shown.stop();
    this.shown = data;
    data.fallback = null;
    this.changed('data');
    this.fetchRange();
  }

  /** The grouped sections: the server's lists, fetched once per generation. */
  async group(name, signal) {
    const hit = this.groupCache.get(name);
    if (hit && hit.generation === this.generation) return hit.value;
    let value;
    if (name.startsWith('album:')) value = await fetchAlbum(name.slice(6), signal);
    else value = await fetchGroups(name, signal);
    this.groupCache.set(name, { generation: this.generation, value });
    return value;
  }

  async loadGroups(want) {
    let rows = [];
    let pageGroup = null;
    try {
      const p = this.page;
      if (p && p.type === 'album') {
        const answer = await this.group(`album:${p.key}`, want.abort.signal);
        const tracks = (answer && Array.isArray(answer.tracks) ? answer.tracks : []).filter(valid).map(normalise);
        for (const t of tracks) this.byId.set(t.id, t);
        pageGroup = answer && answer.album ? { ...albumSummary(answer.album), type: 'album', tracks } : null;
        rows = tracks.map((item) => ({ type: 'item', item }));
      } else if (p && p.type === 'artist') {
        const [artists, albums] = await Promise.all([this.group('artists', want.abort.signal), this.group('albums', want.abort.signal)]);
        const artist = (artists || []).find((a) => a.id === p.key);
        const mine = (albums || []).filter((a) => a.artist_id === p.key).map(albumSummary);
        pageGroup = artist ? { ...artistSummary(artist), type: 'artist', tracks: [] } : null;
        rows = mine.map((summary) => ({ type: 'album', summary }));
      } else if (p && p.type === 'genre') {
        const genres = await this.group('genres', want.abort.signal);
        const genre = (genres || []).find((g) => g.name === p.key);
        pageGroup = genre ? { ...genreSummary(genre), type: 'genre', tracks: [] } : null;
      } else {
        const list = await this.group(this.section, want.abort.signal);
        const make = { albums: albumSummary, artists: artistSummary, genres: genreSummary }[this.section];
        const type = this.section.slice(0, -1);
        const words = fold(this.query).split(' ').filter(Boolean);
        rows = (Array.isArray(list) ? list : [])
          .map(make)
          .filter((g) => words.every((w) => fold(`${g.name}\u0000${g.artist || ''}`).includes(w)))
          .map((summary) => ({ type, summary }));
        if (this.sort === 'name-desc') rows.reverse();
      }
    } catch {
      if (this.want !== want) return;
    }
    if (this.want !== want) return;
    this.want = null;
    if (this.shown instanceof ViewData) this.shown.stop();
    this.shown = { key: want.key, query: want.query, rows, pageGroup };
    this.changed('data');
  }

  crumbs() {
    if (this.section === 'folders') {
      const out = [{ name: 'Library', path: '', nav: { section: 'folders', folder: '' } }];
      let path = '';
      for (const part of this.folder ? this.folder.split('/') : []) {
        path = path ? `${path}/${part}` : part;
        out.push({ name: part, path, nav: { section: 'folders', folder: path } });
      }
      return out;
    }
    const out = [{ name: SECTIONS[this.section], nav: { section: this.section } }];
    if (this.page) {
      const g = this.pageGroup();
      out.push({ name: g ? g.name : '…', nav: { section: this.section, page: this.page } });
    }
    return out;
  }

  pageGroup() {
    const s = this.shown;
    return s && !(s instanceof ViewData) && this.page ? s.pageGroup : null;
  }

  rows() {
    if (this.cache) return this.cache;
    const s = this.shown;
    // The rows on screen may still answer the previous search while the next one loads.
    const query = s ? s.query : this.query.trim();
    const searching = query !== '';
    const out = { rows: [], style: 'files', itemCount: 0, audio: 0, video: 0, folders: 0, searching, query, counts: plural(this.count, 'item'), empty: null, pending: !s };
    if (s instanceof ViewData) {
      out.rows = new PagedRows(s);
      out.itemCount = s.total;
      out.folders = s.head.length;
      out.style = this.section === 'folders' ? 'files' : this.section;
      const noun = this.section === 'songs' ? 'song' : this.section === 'videos' ? 'video' : 'item';
      out.counts = [out.folders ? plural(out.folders, 'folder') : '', plural(s.total, noun)].filter(Boolean).join(' · ');
      if (!searching && !(this.section === 'folders' && this.folder === '' && this.kind === 'all')) {
        out.counts += ` · ${this.count.toLocaleString()} in the library`;
      }
    } else if (s) {
      out.rows = s.rows;
      out.style = this.page && this.page.type === 'album' ? 'tracks' : 'songs';
      out.itemCount = s.rows.filter((r) => r.type === 'item').length;
      const type = this.page ? (this.page.type === 'album' ? 'track' : 'album') : this.section.slice(0, -1);
      out.counts = plural(s.rows.length, type);
      if (!this.page) out.empty = { title: `No ${this.section} yet`, text: `${SECTIONS[this.section]} appear as the tags of the audio files are read.` };
      else if (this.page.type === 'genre') out.empty = { title: 'Genre pages list nothing in a library this large', text: 'Search for the genre in Songs instead.' };
      else if (!s.pageGroup) out.empty = { title: 'Not in the library', text: 'It may have been removed.' };
    }
    this.cache = out;
    return out;
  }

  /** The items of the view that are loaded, in order (what a play from the list continues with). */
  visibleItems() {
    const s = this.shown;
    if (!s) return [];
    if (!(s instanceof ViewData)) return s.rows.filter((r) => r.type === 'item').map((r) => r.item);
    const out = [];
    for (const n of [...s.pages.keys()].sort((a, b) => a - b)) out.push(...s.pages.get(n));
    return out;
  }

  tokens() {
    return fold(this.query).split(' ').filter(Boolean);
  }
}

/** The folder rows of /api/folders' `folders`, by name as the whole-list model sorts them. */
function folderRows(folders) {
  return folders
    .filter((f) => f && typeof f.path === 'string' && typeof f.name === 'string')
    .map((f) => ({ type: 'folder', path: f.path, name: f.name, count: Number(f.count) || 0 }))
    .sort((a, b) => collator.compare(a.name, b.name));
}

/** The view summary (what views.js draws) of a server album. */
function albumSummary(a) {
  return { key: String(a.id), name: String(a.name || ''), artist: String(a.artist || ''), year: a.year || null, count: Number(a.track_count) || 0, durationMs: a.duration_ms || 0, art: safeArt(a.art), albums: [] };
}

function artistSummary(a) {
  return { key: String(a.id), name: String(a.name || ''), artist: '', count: Number(a.track_count) || 0, art: safeArt(a.art), albums: { length: Number(a.album_count) || 0 } };
}

function genreSummary(g) {
  return { key: String(g.name || ''), name: String(g.name || ''), artist: '', count: Number(g.track_count) || 0, art: null, albums: { length: Number(g.album_count) || 0 } };
}

const ART = /^\/art\/[0-9a-fA-F]{8,128}(\.[a-z]{3,4})?$/;
function safeArt(path) {
  return typeof path === 'string' && ART.test(path) ? path : null;
}

export { parentOf };
