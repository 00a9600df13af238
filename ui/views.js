// views.js: draws the library: a virtualized list or grid (only the rows in view exist in the
// DOM, so 10,000 items scroll smoothly; above the paging threshold the rows are paged.js's,
// fetched a page at a time as they come into view, drawn as placeholders until they land) of files, songs, album tracks, videos (poster cards),
// albums (cover cards), artists and genres; and, from viewparts.js (re-exported here), the
// breadcrumb, the page head of an album, artist or genre, and the notices. Every piece of item
// data and every tag goes in as text (textContent or attributes), never as markup; images come
// only from the server's own /art/ paths.

import { h, icon, formatSize, formatDate, formatDuration } from './util.js';
import { displayTitle } from './groups.js';
import { artImage, count, hue } from './viewparts.js';

export { artImage, renderCrumbs, renderNotice, renderPageHead } from './viewparts.js';

const LIST_ROW = 60; // px, matches .row height in player.css
const GRID_MIN = 168; // px, smallest card width
const GRID_ROW = 196; // px, card height plus gap
const OVERSCAN = 6; // rows drawn beyond each edge
// Browsers cap an element's height (Chromium about 33.5 million px, Firefox about 17.9
// million): 1,000,000 rows of 60 px would not fit. Past this height the scrollbar stands for
// the list at a scale (`ratio` virtual px per scrolled px) and the rows are placed relative to
// the scroll position, so every row stays reachable.
const MAX_PX = 8000000;

// The longest a live update waits for a click being made on the list (ms).
const PRESS_WAIT = 1000;

/** A virtualized list/grid inside `scroller`. */
export class LibraryView {
  constructor(scroller, handlers) {
    this.scroller = scroller;
    this.handlers = handlers; // {play(item), playNext(item), enqueue(item), manage(item, button), open(path), openGroup(summary), showFolder(), range(first, last)}
    this.rows = [];
    this.mode = 'list';
    this.style = 'files'; // how items are drawn: "files", "songs", "tracks", "videos"
    this.cover = null; // grid cards with a cover: "square" (albums), "wide" (video posters) or null
    this.currentId = null;
    this.nodes = new Map(); // row index -> element
    this.pool = []; // detached item rows, reused by build()
    this.spare = new Map(); // rows drawn before a live update, by item id or group, for reuse
    this.sizer = h('div', { className: 'sizer', attrs: { 'aria-hidden': 'true' } });
    this.layer = h('div', { className: 'layer', attrs: { role: 'list', 'aria-label': 'Library' } });
    scroller.append(this.sizer, this.layer);
    this.frame = 0;
    this.ratio = 1; // virtual px per scrolled px (1 unless the list is taller than MAX_PX)
    this.shift = 0; // what is added to a row's virtual y to place it
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.layout()).observe(scroller);
    this.layer.addEventListener('click', (ev) => this.onClick(ev));
    this.layer.addEventListener('keydown', (ev) => this.onKey(ev));
    // A live update (a scan filling tags in) between the press and the release of a click
    // would redraw the row under the pointer and the click would be lost: it waits for the
    // release (and runs after the click), or PRESS_WAIT at most.
    this.pressed = false;
    this.pending = null;
    this.layer.addEventListener('pointerdown', () => { this.pressed = true; });
    const release = () => {
      if (!this.pressed) return;
      this.pressed = false;
      setTimeout(() => this.applyPending(), 0);
    };
    window.addEventListener('pointerup', release, true);
    window.addEventListener('pointercancel', release, true);
  }

  /** Shows the rows a live update brought while a click was being made. */
  applyPending() {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.pressed = false;
    this.setRows(...pending);
  }

  /**
   * Shows `rows` (from Library.rows()); `keepScroll` false jumps to the top. `style` is the
   * rows' item style and `cover` the grid's cover shape (see the constructor).
   */
  setRows(rows, keepScroll, style = this.style, cover = this.cover) {
    if (this.pressed && keepScroll) {
      if (!this.pending) setTimeout(() => this.applyPending(), PRESS_WAIT);
      this.pending = [rows, keepScroll, style, cover];
      return;
    }
    this.pending = null;
    // Same look as before (a live update): the drawn rows are kept aside and reused for the same
    // item or group, so covers do not flicker while a scan fills the tags in.
    const same = style === this.style && cover === this.cover;
    this.style = style;
    this.cover = cover;
    // A live update must not steal keyboard focus: remember the focused row and button.
    const active = document.activeElement;
    let focus = null;
    if (active && this.layer.contains(active)) {
      const node = active.closest('[role="listitem"]');
      if (node) focus = { id: node.dataset.id, path: node.dataset.path, key: node.dataset.key, action: active.dataset.action };
    }
    this.rows = rows;
    if (!keepScroll) this.scroller.scrollTop = 0;
    this.clear(same);
    this.layout();
    if (focus) {
      const index = rows.findIndex((r) =>
        r.type === 'item' ? r.item.id === focus.id : r.type === 'folder' ? r.path === focus.path : r.summary.key === focus.key,
      );
      if (index >= 0) this.focusIndex(index, focus.action);
    }
  }

  /** Row `i`: `rows` is an array, or paged.js's rows (`get(i)`, `length`, `findIndex`). */
  row(i) {
    return typeof this.rows.get === 'function' ? this.rows.get(i) : this.rows[i];
  }

  /** Redraws the placeholder rows whose page has arrived (paged mode); the rest stay. */
  refresh() {
    const { cols, rowH, colW, cardH } = this.geometry();
    this.shift = this.scroller.scrollTop * (1 - this.ratio);
    for (const [index, node] of this.nodes) {
      if (node.dataset.pending !== '1') continue;
      const row = this.row(index);
      if (!row || row.type === 'pending') continue;
      const fresh = this.build(row, index);
      this.place(fresh, index, cols, rowH, colW, cardH);
      node.replaceWith(fresh);
      this.nodes.set(index, fresh);
    }
  }

  place(node, i, cols, rowH, colW, cardH) {
    const line = Math.floor(i / cols);
    const col = i % cols;
    const y = 8 + line * rowH + this.shift;
    node.style.transform = this.mode === 'grid' ? `translate(${8 + col * colW}px, ${y}px)` : `translateY(${y}px)`;
    if (this.mode === 'grid') {
      node.style.width = `${colW - 12}px`;
      node.style.height = cardH ? `${cardH}px` : '';
    }
  }

  setMode(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    this.scroller.dataset.mode = mode;
    this.clear();
    this.layout();
  }

  setCurrent(id) {
    this.currentId = id;
    for (const node of this.nodes.values()) this.markCurrent(node);
  }

  markCurrent(node) {
    const on = node.dataset.id !== undefined && node.dataset.id === this.currentId;
    node.classList.toggle('playing', on);
    const main = node.querySelector('.row-main, .card-main');
    if (main) {
      if (on) main.setAttribute('aria-current', 'true');
      else main.removeAttribute('aria-current');
    }
  }

  /** Takes the drawn rows out; `keep` keeps them aside for reuse by build() (same look). */
  clear(keep = false) {
    this.spare = new Map();
    if (!keep) this.pool = [];
    for (const node of this.nodes.values()) {
      node.remove();
      if (!keep) continue;
      if (node.refs) this.pool.push(node);
      const key = node.dataset.id || (node.dataset.group ? `${node.dataset.group}\u0000${node.dataset.key}` : '');
      if (key) this.spare.set(key, node);
    }
    this.nodes.clear();
  }

  /** The row drawn for `key` before a live update, if it can be reused. */
  takeSpare(key) {
    const node = this.spare.get(key);
    if (!node) return null;
    this.spare.delete(key);
    if (node.refs) {
      const at = this.pool.indexOf(node);
      if (at < 0) return null;
      this.pool.splice(at, 1);
    }
    return node;
  }

  geometry() {
    const width = this.scroller.clientWidth;
    if (this.mode === 'grid') {
      const cols = Math.max(1, Math.floor((width - 16) / GRID_MIN));
      const colW = (width - 16) / cols;
      if (!this.cover) return { cols, rowH: GRID_ROW, colW };
      // Cover cards: the image is as wide as the card; the text (and the buttons of a video
      // card) go under it.
      const artH = Math.round((colW - 28) * (this.cover === 'wide' ? 9 / 16 : 1));
      const cardH = artH + (this.cover === 'wide' ? 112 : 64);
      return { cols, rowH: cardH + 12, colW, cardH };
    }
    return { cols: 1, rowH: LIST_ROW, colW: width };
  }

  layout() {
    const { cols, rowH } = this.geometry();
    const lines = Math.ceil(this.rows.length / cols);
    const virtual = lines * rowH + 16;
    const view = this.scroller.clientHeight || 600;
    this.ratio = virtual > MAX_PX ? (virtual - view) / (MAX_PX - view) : 1;
    this.sizer.style.height = `${Math.min(virtual, MAX_PX)}px`;
    if (this.cols !== cols) {
      this.cols = cols;
      this.clear();
    }
    this.render();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Draws the rows in view, reusing the ones already there. */
  render() {
    const t0 = performance.now();
    this.draw();
    const ms = performance.now() - t0;
    // Cheap counters read by the scale test (tests/browser/perf.test.js).
    const stats = (window.__bucketstreamRender ||= { renders: 0, totalMs: 0, maxMs: 0, samples: [] });
    stats.renders += 1;
    stats.totalMs += ms;
    stats.maxMs = Math.max(stats.maxMs, ms);
    if (stats.samples.length < 2000) stats.samples.push(ms);
  }

  draw() {
    const { cols, rowH, colW, cardH } = this.geometry();
    const scrolled = this.scroller.scrollTop;
    const top = scrolled * this.ratio;
    this.shift = scrolled - top;
    const height = this.scroller.clientHeight || 600;
    const firstLine = Math.max(0, Math.floor(top / rowH) - OVERSCAN);
    const lastLine = Math.ceil((top + height) / rowH) + OVERSCAN;
    const first = firstLine * cols;
    const last = Math.min(this.rows.length, lastLine * cols);
    if (this.handlers.range) this.handlers.range(first, last);
    for (const [index, node] of this.nodes) {
      if (index < first || index >= last) {
        if (node.contains(document.activeElement)) continue; // keep the focused row alive
        node.remove();
        this.nodes.delete(index);
        if (node.refs) this.pool.push(node);
      }
    }
    // At a scale, the rows kept move with the scroll position too.
    if (this.ratio !== 1) for (const [index, node] of this.nodes) this.place(node, index, cols, rowH, colW, cardH);
    const fresh = document.createDocumentFragment();
    for (let i = first; i < last; i += 1) {
      if (this.nodes.has(i)) continue;
      const node = this.build(this.row(i), i);
      this.place(node, i, cols, rowH, colW, cardH);
      this.nodes.set(i, node);
      fresh.append(node);
    }
    this.layer.append(fresh);
  }

  build(row, index) {
    const pos = { 'aria-setsize': String(this.rows.length), 'aria-posinset': String(index + 1) };
    if (!row || row.type === 'pending') {
      // A row whose page is on its way: a placeholder, redrawn by refresh() when it lands.
      const grid = this.mode === 'grid';
      return h(
        'div',
        { className: `${grid ? 'card' : 'row'} pending-row`, attrs: { role: 'listitem', 'aria-busy': 'true', ...pos }, dataset: { pending: '1' } },
        h('span', { className: 'row-main' }, h('span', { className: 'kind' }), h('span', { className: 'row-text' }, h('span', { className: 'row-name', text: '…' }))),
      );
    }
    if (row.type === 'folder') {
      const label = `${row.count} item${row.count === 1 ? '' : 's'}`;
      const main = h(
        'button',
        { type: 'button', className: this.mode === 'grid' ? 'card-main' : 'row-main', dataset: { action: 'open', index: String(index) } },
        h('span', { className: 'kind folder' }, icon('folder')),
        h('span', { className: 'row-text' }, h('span', { className: 'row-name', text: row.name }), h('span', { className: 'row-meta', text: `Folder · ${label}` })),
      );
      return h('div', { className: this.mode === 'grid' ? 'card folder-row' : 'row folder-row', attrs: { role: 'listitem', ...pos }, dataset: { path: row.path } }, main);
    }
    if (row.type !== 'item') {
      const old = this.takeSpare(`${row.type}\u0000${row.summary.key}`);
      if (old && old.summary === row.summary) {
        old.setAttribute('aria-setsize', pos['aria-setsize']);
        old.setAttribute('aria-posinset', pos['aria-posinset']);
        old.querySelector('[data-action]').dataset.index = String(index);
        return old;
      }
      return this.buildGroup(row, index, pos);
    }
    const node = this.takeSpare(row.item.id) || this.pool.pop() || this.skeleton();
    this.fill(node, row.item, index, pos);
    return node;
  }

  /** A row (or cover card) for an album, an artist or a genre: a button that opens its page. */
  buildGroup(row, index, pos) {
    const g = row.summary;
    const grid = this.mode === 'grid';
    const art = h('span', { className: `kind ${row.type}` });
    if (g.art) art.append(artImage(g.art, 300));
    else {
      art.append(icon(row.type, grid ? 48 : 24));
      if (grid) art.style.setProperty('--hue', String(hue(g.key)));
    }
    let meta;
    if (row.type === 'album') meta = [g.artist, g.year ? String(g.year) : '', grid ? '' : count(g.count, 'track')];
    else meta = [count(g.albums.length, 'album'), count(g.count, 'track')];
    const main = h(
      'button',
      { type: 'button', className: grid ? 'card-main' : 'row-main', dataset: { action: 'group', index: String(index) } },
      art,
      h('span', { className: 'row-text' }, h('span', { className: 'row-name', text: g.name }), h('span', { className: 'row-meta', text: meta.filter(Boolean).join(' · ') })),
    );
    main.title = `${g.name}${row.type === 'album' ? ` · ${g.artist}` : ''}`;
    const cls = grid ? `card group-row${this.cover ? ' cover' : ''}` : 'row group-row';
    const node = h('div', { className: cls, attrs: { role: 'listitem', ...pos }, dataset: { group: row.type, key: g.key } }, main);
    node.summary = g;
    return node;
  }

  /** An empty item row (or card); fill() puts an item in it. Rows are pooled and reused. */
  skeleton() {
    const grid = this.mode === 'grid';
    const art = h('span', { className: 'kind' }, icon('audio'));
    const name = h('span', { className: 'row-name' });
    const meta = h('span', { className: 'row-meta' });
    const main = h('button', { type: 'button', className: grid ? 'card-main' : 'row-main', dataset: { action: 'play' } }, art, h('span', { className: 'row-text' }, name, meta));
    const next = h('button', { type: 'button', className: 'icon-btn', dataset: { action: 'next' }, title: 'Play next' }, icon('playNext'));
    const add = h('button', { type: 'button', className: 'icon-btn', dataset: { action: 'enqueue' }, title: 'Add to queue' }, icon('add'));
    // Rename, move, delete (ui/manage.js): shown only to the owner (manage.css).
    const more = h('button', { type: 'button', className: 'icon-btn', dataset: { action: 'manage' }, title: 'Rename, move or delete' }, icon('more'));
    const cls = grid ? `card${this.cover ? ` cover ${this.cover}` : ''}` : 'row';
    const node = h('div', { className: cls, attrs: { role: 'listitem' } }, main, h('span', { className: 'row-actions' }, next, add, more));
    node.refs = { art, name, meta, main, next, add, more };
    return node;
  }

  fill(node, item, index, pos) {
    const { art, name, meta, main, next, add, more } = node.refs;
    const grid = this.mode === 'grid';
    const style = this.style;
    const duration = formatDuration(item.duration_ms);
    const title = style === 'files' ? item.name : displayTitle(item);
    let parts;
    if (style === 'files') {
      parts = [item.kind === 'audio' ? 'Audio' : 'Video', duration, formatSize(item.size), formatDate(item.modified_ms)];
      if (item.folder && this.handlers.showFolder()) parts.unshift(item.folder);
    } else if (style === 'tracks') {
      parts = [item.artist, duration];
    } else if (style === 'videos') {
      parts = [duration, item.width && item.height ? `${item.width}×${item.height}` : '', formatSize(item.size)];
    } else {
      parts = item.artist || item.album ? [item.artist, item.album, duration] : [item.folder, duration];
    }
    // The artwork box: the cover or poster (not in Folders, which stays as it was), the track
    // number on an album page, or the kind's icon.
    let look = `icon:${item.kind}`;
    if (style === 'tracks') look = `n:${item.track || ''}`;
    else if (style !== 'files' && item.art) look = `art:${item.art}`;
    if (node.dataset.look !== look) {
      node.dataset.look = look;
      node.dataset.kind = item.kind;
      art.className = `kind ${item.kind}`;
      if (look.startsWith('art:')) art.replaceChildren(artImage(item.art, 300));
      else if (look.startsWith('n:')) {
        art.className = 'kind track-no';
        art.replaceChildren(item.track ? String(item.track) : icon('audio'));
      } else art.replaceChildren(icon(item.kind === 'audio' ? 'audio' : 'video'));
    }
    if (grid) art.style.setProperty('--hue', String(hue(item.id)));
    node.dataset.id = item.id;
    node.setAttribute('aria-setsize', pos['aria-setsize']);
    node.setAttribute('aria-posinset', pos['aria-posinset']);
    name.textContent = title;
    meta.textContent = parts.filter(Boolean).join(' · ');
    main.title = style === 'files' ? item.key : `${title}${item.artist ? ` · ${item.artist}` : ''}`;
    const i = String(index);
    main.dataset.index = i;
    next.dataset.index = i;
    add.dataset.index = i;
    more.dataset.index = i;
    more.setAttribute('aria-label', `Rename, move or delete: ${title}`);
    next.setAttribute('aria-label', `Play next: ${title}`);
    add.setAttribute('aria-label', `Add to queue: ${title}`);
    this.markCurrent(node);
  }

  onClick(ev) {
    const btn = ev.target.closest('[data-action]');
    if (!btn || !this.layer.contains(btn)) return;
    const row = this.row(Number(btn.dataset.index));
    if (!row || row.type === 'pending') return;
    const action = btn.dataset.action;
    if (action === 'open') this.handlers.open(row.path);
    else if (action === 'group') this.handlers.openGroup(row.type, row.summary);
    else if (action === 'play') this.handlers.play(row.item);
    else if (action === 'next') this.handlers.playNext(row.item);
    else if (action === 'enqueue') this.handlers.enqueue(row.item);
    else if (action === 'manage' && this.handlers.manage) this.handlers.manage(row.item, btn);
  }

  /** Arrow keys move between rows (the rows off screen are drawn on demand). */
  onKey(ev) {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(ev.key)) return;
    const btn = ev.target.closest('.row-main, .card-main');
    if (!btn) return;
    ev.preventDefault();
    ev.stopPropagation();
    const index = Number(btn.dataset.index);
    const step = this.mode === 'grid' ? this.cols : 1;
    let target = index;
    if (ev.key === 'ArrowDown') target = Math.min(this.rows.length - 1, index + step);
    else if (ev.key === 'ArrowUp') target = Math.max(0, index - step);
    else if (ev.key === 'Home') target = 0;
    else if (ev.key === 'End') target = this.rows.length - 1;
    this.focusIndex(target);
  }

  focusIndex(index, action) {
    if (index < 0 || index >= this.rows.length) return;
    const { cols, rowH } = this.geometry();
    const y = 8 + Math.floor(index / cols) * rowH;
    const top = this.scroller.scrollTop * this.ratio;
    if (y < top) this.scroller.scrollTop = (y - 8) / this.ratio;
    else if (y + rowH > top + this.scroller.clientHeight) {
      this.scroller.scrollTop = (y + rowH - this.scroller.clientHeight + 8) / this.ratio;
    }
    this.render();
    const node = this.nodes.get(index);
    const target = node && (node.querySelector(`[data-action="${action}"]`) || node.querySelector('.row-main, .card-main'));
    if (target) target.focus();
  }
}
