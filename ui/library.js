// library.js: the library model: every item by id, the folder tree derived from keys, and the
// current view (folder, search, kind filter, sort) turned into the list of rows to show.
// It knows nothing about the DOM; views.js draws what `rows()` returns.

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Sort orders offered in the toolbar. */
export const SORTS = {
  'name-asc': { label: 'Name A–Z', cmp: (a, b) => collator.compare(a.name, b.name) },
  'name-desc': { label: 'Name Z–A', cmp: (a, b) => collator.compare(b.name, a.name) },
  'date-desc': { label: 'Newest first', cmp: (a, b) => (b.modified_ms || 0) - (a.modified_ms || 0) },
  'date-asc': { label: 'Oldest first', cmp: (a, b) => (a.modified_ms || 0) - (b.modified_ms || 0) },
  'size-desc': { label: 'Largest first', cmp: (a, b) => (b.size || 0) - (a.size || 0) },
  'size-asc': { label: 'Smallest first', cmp: (a, b) => (a.size || 0) - (b.size || 0) },
};

/** Lower-cased search text per item, kept beside the item (items themselves stay untouched). */
const searchText = new WeakMap();

function textOf(item) {
  let t = searchText.get(item);
  if (t === undefined) {
    t = `${item.name}\u0000${item.folder}\u0000${item.key}`.toLowerCase();
    searchText.set(item, t);
  }
  return t;
}

/** Accepts only well-formed items (the server's shape); anything else is dropped. */
function valid(item) {
  return (
    item &&
    typeof item.id === 'string' &&
    typeof item.url === 'string' &&
    typeof item.name === 'string' &&
    (item.kind === 'audio' || item.kind === 'video')
  );
}

function normalise(item) {
  return {
    ...item,
    key: typeof item.key === 'string' ? item.key : item.name,
    folder: typeof item.folder === 'string' ? item.folder.replace(/^\/+|\/+$/g, '') : '',
    size: Number(item.size) || 0,
    modified_ms: Number(item.modified_ms) || 0,
  };
}

export class Library {
  constructor(onChange) {
    this.items = new Map();
    this.loaded = false;
    this.folder = '';
    this.query = '';
    this.kind = 'all';
    this.sort = 'name-asc';
    this.onChange = onChange;
    this.folderCounts = new Map(); // folder path -> items in it and below
    this.cache = null;
  }

  /** Replaces the whole list. */
  replace(items) {
    this.items = new Map();
    for (const raw of items) if (valid(raw)) this.items.set(raw.id, normalise(raw));
    this.loaded = true;
    this.rebuildFolders();
    this.changed('list');
  }

  /** Applies a pushed change in place. */
  apply({ added = [], removed = [], changed = [] }) {
    for (const id of removed) this.items.delete(id);
    for (const raw of [...added, ...changed]) if (valid(raw)) this.items.set(raw.id, normalise(raw));
    this.rebuildFolders();
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

  /** The breadcrumb of the current folder: [{name, path}] from the top. */
  crumbs() {
    const out = [{ name: 'Library', path: '' }];
    if (!this.folder) return out;
    let path = '';
    for (const part of this.folder.split('/')) {
      path = path ? `${path}/${part}` : part;
      out.push({ name: part, path });
    }
    return out;
  }

  /**
   * The rows of the current view: folder rows first (when not searching), then items.
   * Returns {rows, itemCount, audio, video, folders, searching}; cached until something changes.
   */
  rows() {
    if (this.cache) return this.cache;
    const folder = this.folder;
    const prefix = folder ? `${folder}/` : '';
    const tokens = this.query.toLowerCase().split(/\s+/).filter(Boolean);
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
    items.sort(SORTS[this.sort] ? SORTS[this.sort].cmp : SORTS['name-asc'].cmp);
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
    this.cache = { rows, itemCount: items.length, audio, video, folders: folders.length, searching };
    return this.cache;
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
