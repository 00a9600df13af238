// library.js: the library model: every item by id, the folder tree derived from keys, the grouped
// views (albums, artists, genres: groups.js) and the current view (section, folder or page,
// search, kind filter, sort) turned into the list of rows to show.
// It knows nothing about the DOM; views.js draws what `rows()` returns.

import { Groups, fold, sortKey, titleKey, trackOrder, cmpKeys } from './groups.js';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** The sections of the library, in the order of the navigation. */
export const SECTIONS = {
  folders: 'Folders',
  songs: 'Songs',
  albums: 'Albums',
  artists: 'Artists',
  genres: 'Genres',
  videos: 'Videos',
};

const nameKeys = new WeakMap();
function nameKey(item) {
  let k = nameKeys.get(item);
  if (k === undefined) {
    k = sortKey(item.name);
    nameKeys.set(item, k);
  }
  return k;
}

/**
 * Sort orders offered in the toolbar. `cmp(a, b, key)`: `key` gives an item's name sort key (the
 * file name in Folders, the title elsewhere); keys compare with `<`, which stays fast at 100,000.
 */
export const SORTS = {
  'name-asc': { label: 'Name A–Z', cmp: (a, b, key) => cmpKeys(key(a), key(b)) },
  'name-desc': { label: 'Name Z–A', cmp: (a, b, key) => cmpKeys(key(b), key(a)) },
  'date-desc': { label: 'Newest first', cmp: (a, b) => (b.modified_ms || 0) - (a.modified_ms || 0) },
  'date-asc': { label: 'Oldest first', cmp: (a, b) => (a.modified_ms || 0) - (b.modified_ms || 0) },
  'size-desc': { label: 'Largest first', cmp: (a, b) => (b.size || 0) - (a.size || 0) },
  'size-asc': { label: 'Smallest first', cmp: (a, b) => (a.size || 0) - (b.size || 0) },
};

/** Folded search text per item, kept beside the item (items themselves stay untouched). */
const searchText = new WeakMap();

function textOf(item) {
  let t = searchText.get(item);
  if (t === undefined) {
    const tags = [item.title, item.artist, item.album, item.album_artist].filter(Boolean).join('\u0000');
    t = fold(`${item.name}\u0000${item.folder}\u0000${item.key}\u0000${tags}`);
    searchText.set(item, t);
  }
  return t;
}

const TEXT_FIELDS = ['title', 'artist', 'album', 'album_artist', 'genre', 'video_codec', 'audio_codec'];
const NUMBER_FIELDS = ['track', 'disc', 'year', 'duration_ms', 'width', 'height', 'bitrate_kbps', 'sample_rate', 'channels'];
const ART = /^\/art\/[0-9a-fA-F]{8,128}(\.[a-z]{3,4})?$/;
const MAX_TEXT = 1024; // the server's bound; kept here too (tag text is hostile data)

/** Accepts only well-formed items (the server's shape); anything else is dropped. */
export function valid(item) {
  return (
    item &&
    typeof item.id === 'string' &&
    typeof item.url === 'string' &&
    typeof item.name === 'string' &&
    (item.kind === 'audio' || item.kind === 'video')
  );
}

export function normalise(item) {
  const out = {
    ...item,
    key: typeof item.key === 'string' ? item.key : item.name,
    folder: typeof item.folder === 'string' ? item.folder.replace(/^\/+|\/+$/g, '') : '',
    size: Number(item.size) || 0,
    modified_ms: Number(item.modified_ms) || 0,
  };
  // Metadata: text is text (bounded), numbers are finite and positive, art is one of our paths.
  for (const f of TEXT_FIELDS) {
    const v = item[f];
    out[f] = typeof v === 'string' && v.trim() ? v.slice(0, MAX_TEXT) : null;
  }
  for (const f of NUMBER_FIELDS) {
    const v = item[f];
    out[f] = typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
  }
  out.art = typeof item.art === 'string' && ART.test(item.art) ? item.art : null;
  return out;
}

export class Library {
  constructor(onChange) {
    this.items = new Map();
    this.loaded = false;
    this.section = 'folders';
    this.page = null; // {type: "album" | "artist" | "genre", key} inside a section
    this.folder = '';
    this.query = '';
    this.kind = 'all';
    this.sort = 'name-asc';
    this.onChange = onChange;
    this.folderCounts = new Map(); // folder path -> items in it and below
    this.cache = null;
    this.groups = new Groups((id) => this.items.get(id));
    this.groupMs = 0; // time the last grouping took (read by the perf test)
  }

  /** Replaces the whole list. */
  replace(items) {
    this.items = new Map();
    for (const raw of items) if (valid(raw)) this.items.set(raw.id, normalise(raw));
    this.loaded = true;
    this.rebuildFolders();
    const t0 = performance.now();
    this.groups.rebuild(this.items.values());
    this.groupMs = performance.now() - t0;
    this.changed('list');
  }

  /**
   * Applies a pushed change in place: only the groups of the items concerned are touched, and
   * the folder tree is rebuilt only when an item came, went or moved.
   */
  apply({ added = [], removed = [], changed = [] }) {
    let moved = removed.length > 0;
    const t0 = performance.now();
    for (const id of removed) {
      if (typeof id !== 'string') continue;
      this.items.delete(id);
      this.groups.remove(id);
    }
    for (const raw of [...added, ...changed]) {
      if (!valid(raw)) continue;
      const item = normalise(raw);
      const old = this.items.get(item.id);
      if (!old || old.folder !== item.folder) moved = true;
      if (old) this.groups.remove(item.id);
      this.items.set(item.id, item);
      this.groups.add(item);
    }
    this.groupMs = performance.now() - t0;
    if (moved) this.rebuildFolders();
    this.changed('delta', { added: added.length, removed: removed.length, changed: changed.length });
  }

  get(id) {
    return this.items.get(id);
  }

  get size() {
    return this.items.size;
  }

  rebuildFolders() {
    const counts = new Map([['', 0]]);
    for (const item of this.items.values()) {
      counts.set('', counts.get('') + 1);
      if (!item.folder) continue;
      const parts = item.folder.split('/');
      let path = '';
      for (const part of parts) {
        path = path ? `${path}/${part}` : part;
        counts.set(path, (counts.get(path) || 0) + 1);
      }
    }
    this.folderCounts = counts;
    // A folder that emptied out: go up to the nearest one that still exists.
    while (this.folder && !counts.has(this.folder)) this.folder = parentOf(this.folder);
  }

  set(patch) {
    Object.assign(this, patch);
    this.changed('view');
  }

  changed(reason, detail) {
    this.cache = null;
    if (this.onChange) this.onChange(reason, detail);
  }

  /**
   * The breadcrumb of the current view from the top: [{name, nav}] where nav is the view state
   * ({section, folder, page}) a click goes to (folder crumbs also carry their `path`).
   */
  crumbs() {
    if (this.section === 'folders') {
      const out = [{ name: 'Library', path: '', nav: { section: 'folders', folder: '' } }];
      if (!this.folder) return out;
      let path = '';
      for (const part of this.folder.split('/')) {
        path = path ? `${path}/${part}` : part;
        out.push({ name: part, path, nav: { section: 'folders', folder: path } });
      }
      return out;
    }
    const out = [{ name: SECTIONS[this.section], nav: { section: this.section } }];
    const p = this.page;
    if (p) {
      const g = this.pageGroup();
      out.push({ name: g ? g.name : 'Not found', nav: { section: this.section, page: p } });
    }
    return out;
  }

  /** The album, artist or genre of the page shown now, or null. */
  pageGroup() {
    const p = this.page;
    if (!p) return null;
    if (p.type === 'album') return this.groups.album(p.key);
    if (p.type === 'artist') return this.groups.artist(p.key);
    if (p.type === 'genre') return this.groups.genre(p.key);
    return null;
  }

  /**
   * The rows of the current view: in Folders, folder rows first (when not searching), then
   * items; elsewhere songs, videos, albums, artists or genres, or the page of one of them.
   * Returns {rows, style, itemCount, audio, video, folders, searching, counts, empty}; cached
   * until something changes. `style` tells the view how to draw items ("files", "songs",
   * "tracks", "videos").
   */
  rows() {
    if (this.cache) return this.cache;
    this.cache = this.section === 'folders' ? this.folderRows() : this.sectionRows();
    return this.cache;
  }

  /** The search tokens of the query (folded). */
  tokens() {
    return fold(this.query).split(' ').filter(Boolean);
  }

  sortItems(items, key) {
    const sort = SORTS[this.sort] || SORTS['name-asc'];
    return items.sort((a, b) => sort.cmp(a, b, key) || cmpKeys(key(a), key(b)) || cmpKeys(a.id, b.id));
  }

  folderRows() {
    const folder = this.folder;
    const prefix = folder ? `${folder}/` : '';
    const tokens = this.tokens();
    const searching = tokens.length > 0;
    const kind = this.kind;
    const items = [];
    let audio = 0;
    let video = 0;
    for (const item of this.items.values()) {
      const inside = searching
        ? folder === '' || item.folder === folder || item.folder.startsWith(prefix)
        : item.folder === folder;
      if (!inside) continue;
      if (kind !== 'all' && item.kind !== kind) continue;
      if (searching) {
        const text = textOf(item);
        if (!tokens.every((t) => text.includes(t))) continue;
      }
      if (item.kind === 'audio') audio += 1;
      else video += 1;
      items.push(item);
    }
    this.sortItems(items, nameKey);
    const folders = [];
    if (!searching) {
      for (const [path, count] of this.folderCounts) {
        if (path === '' || parentOf(path) !== folder) continue;
        folders.push({ type: 'folder', path, name: path.slice(prefix.length), count });
      }
      folders.sort((a, b) => collator.compare(a.name, b.name));
      if (kind !== 'all') {
        // Keep only folders holding something of that kind.
        const keep = new Set();
        for (const item of this.items.values()) {
          if (item.kind !== kind || !(folder === '' || item.folder.startsWith(prefix))) continue;
          const rest = item.folder.slice(prefix.length);
          if (rest) keep.add(prefix + rest.split('/')[0]);
        }
        for (let i = folders.length - 1; i >= 0; i -= 1) if (!keep.has(folders[i].path)) folders.splice(i, 1);
      }
    }
    const rows = folders.concat(items.map((item) => ({ type: 'item', item })));
    const counts = [];
    if (folders.length) counts.push(plural(folders.length, 'folder'));
    counts.push(plural(items.length, 'item'));
    if (audio && video) counts.push(`${audio.toLocaleString()} audio`, `${video.toLocaleString()} video`);
    return { rows, style: 'files', itemCount: items.length, audio, video, folders: folders.length, searching, counts: counts.join(' · ') };
  }

  sectionRows() {
    const tokens = this.tokens();
    const searching = tokens.length > 0;
    const match = (text) => tokens.every((t) => text.includes(t));
    const section = this.section;
    const out = { rows: [], style: 'songs', itemCount: 0, audio: 0, video: 0, folders: 0, searching, counts: '', empty: null };
    const itemRows = (items) => items.filter((i) => !searching || match(textOf(i))).map((item) => ({ type: 'item', item }));
    const groupRows = (list, type) =>
      list.filter((g) => !searching || match(fold(`${g.name}\u0000${g.artist || ''}`))).map((summary) => ({ type, summary }));
    if (this.page) {
      const g = this.pageGroup();
      if (!g) {
        out.empty = { title: 'Not in the library', text: 'It may have been removed, or its tags have not been read yet.' };
        return out;
      }
      if (g.type === 'album') {
        out.style = 'tracks';
        out.rows = itemRows(g.tracks);
        out.counts = `${plural(out.rows.length, 'track')}${g.durationMs ? ` · ${formatLength(g.durationMs)}` : ''}`;
      } else {
        out.style = 'songs';
        const albums = groupRows(this.groups.albumsOf(g.albums), 'album');
        // An artist page: the albums, then the tracks that are on none. A genre page: the
        // albums, then every track of the genre in album order.
        const loose = g.type === 'artist' ? g.tracks.filter((t) => !this.groups.keysOf.get(t.id)?.album) : g.tracks.slice();
        loose.sort(g.type === 'artist' ? (a, b) => cmpKeys(titleKey(a), titleKey(b)) : albumThenTrack);
        const tracks = itemRows(loose);
        out.rows = albums.concat(tracks);
        out.counts = `${plural(albums.length, 'album')} · ${plural(g.count, 'track')}`;
      }
      out.itemCount = out.rows.filter((r) => r.type === 'item').length;
      return out;
    }
    if (section === 'songs' || section === 'videos') {
      const kind = section === 'songs' ? 'audio' : 'video';
      const items = [];
      for (const item of this.items.values()) if (item.kind === kind && (!searching || match(textOf(item)))) items.push(item);
      this.sortItems(items, titleKey);
      out.style = section;
      out.rows = items.map((item) => ({ type: 'item', item }));
      out.itemCount = items.length;
      out.counts = plural(items.length, section === 'songs' ? 'song' : 'video');
      out.empty = { title: `No ${section} here`, text: `The library holds no ${kind} files.` };
    } else {
      const type = section.slice(0, -1);
      const list = groupRows(this.groups.list(section), type);
      out.rows = this.sort === 'name-desc' ? list.reverse() : list;
      out.counts = plural(out.rows.length, type);
      out.empty = {
        title: `No ${section} yet`,
        text: `${SECTIONS[section]} appear as the tags of the audio files are read. The Folders view shows every file now.`,
      };
    }
    return out;
  }

  /** Items of the current view in order (what "play all" would queue). */
  visibleItems() {
    return this.rows()
      .rows.filter((r) => r.type === 'item')
      .map((r) => r.item);
  }
}

/** "a/b/c" -> "a/b"; "a" -> "". */
export function parentOf(path) {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** "1 album", "12 albums". */
export function plural(n, word) {
  return `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
}

/** "42 min" or "1 h 5 min" for a total length in milliseconds. */
function formatLength(ms) {
  const min = Math.round(ms / 60000);
  if (min < 60) return `${Math.max(1, min)} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

function albumThenTrack(a, b) {
  return cmpKeys(sortKey(a.album || ''), sortKey(b.album || '')) || trackOrder(a, b);
}
