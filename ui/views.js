// views.js: draws the library: a virtualized list or grid (only the rows in view exist in the
// DOM, so 10,000 items scroll smoothly), the breadcrumb and the counts. Every piece of item data
// goes in as text (textContent or attributes), never as markup.

import { h, icon, formatSize, formatDate } from './util.js';

const LIST_ROW = 60; // px, matches .row height in player.css
const GRID_MIN = 168; // px, smallest card width
const GRID_ROW = 196; // px, card height plus gap
const OVERSCAN = 6; // rows drawn beyond each edge

/** A virtualized list/grid inside `scroller`. */
export class LibraryView {
  constructor(scroller, handlers) {
    this.scroller = scroller;
    this.handlers = handlers; // {play(item), playNext(item), enqueue(item), open(path)}
    this.rows = [];
    this.mode = 'list';
    this.currentId = null;
    this.nodes = new Map(); // row index -> element
    this.pool = []; // detached item rows, reused by build()
    this.sizer = h('div', { className: 'sizer', attrs: { 'aria-hidden': 'true' } });
    this.layer = h('div', { className: 'layer', attrs: { role: 'list', 'aria-label': 'Library' } });
    scroller.append(this.sizer, this.layer);
    this.frame = 0;
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.layout()).observe(scroller);
    this.layer.addEventListener('click', (ev) => this.onClick(ev));
    this.layer.addEventListener('keydown', (ev) => this.onKey(ev));
  }

  /** Shows `rows` (from Library.rows()); `keepScroll` false jumps to the top. */
  setRows(rows, keepScroll) {
    // A live update must not steal keyboard focus: remember the focused row and button.
    const active = document.activeElement;
    let focus = null;
    if (active && this.layer.contains(active)) {
      const node = active.closest('[role="listitem"]');
      if (node) focus = { id: node.dataset.id, path: node.dataset.path, action: active.dataset.action };
    }
    this.rows = rows;
    if (!keepScroll) this.scroller.scrollTop = 0;
    this.clear();
    this.layout();
    if (focus) {
      const index = rows.findIndex((r) => (r.type === 'item' ? r.item.id === focus.id : r.path === focus.path));
      if (index >= 0) this.focusIndex(index, focus.action);
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

  clear() {
    for (const node of this.nodes.values()) node.remove();
    this.nodes.clear();
    this.pool = [];
  }

  geometry() {
    const width = this.scroller.clientWidth;
    if (this.mode === 'grid') {
      const cols = Math.max(1, Math.floor((width - 16) / GRID_MIN));
      return { cols, rowH: GRID_ROW, colW: (width - 16) / cols };
    }
    return { cols: 1, rowH: LIST_ROW, colW: width };
  }

  layout() {
    const { cols, rowH } = this.geometry();
    const lines = Math.ceil(this.rows.length / cols);
    this.sizer.style.height = `${lines * rowH + 16}px`;
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
    const { cols, rowH, colW } = this.geometry();
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const firstLine = Math.max(0, Math.floor(top / rowH) - OVERSCAN);
    const lastLine = Math.ceil((top + height) / rowH) + OVERSCAN;
    const first = firstLine * cols;
    const last = Math.min(this.rows.length, lastLine * cols);
    for (const [index, node] of this.nodes) {
      if (index < first || index >= last) {
        if (node.contains(document.activeElement)) continue; // keep the focused row alive
        node.remove();
        this.nodes.delete(index);
        if (node.refs) this.pool.push(node);
      }
    }
    const fresh = document.createDocumentFragment();
    for (let i = first; i < last; i += 1) {
      if (this.nodes.has(i)) continue;
      const node = this.build(this.rows[i], i);
      const line = Math.floor(i / cols);
      const col = i % cols;
      node.style.transform =
        this.mode === 'grid'
          ? `translate(${8 + col * colW}px, ${8 + line * rowH}px)`
          : `translateY(${8 + line * rowH}px)`;
      if (this.mode === 'grid') node.style.width = `${colW - 12}px`;
      this.nodes.set(i, node);
      fresh.append(node);
    }
    this.layer.append(fresh);
  }

  build(row, index) {
    const pos = { 'aria-setsize': String(this.rows.length), 'aria-posinset': String(index + 1) };
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
    const node = this.pool.pop() || this.skeleton();
    this.fill(node, row.item, index, pos);
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
    const node = h('div', { className: grid ? 'card' : 'row', attrs: { role: 'listitem' } }, main, h('span', { className: 'row-actions' }, next, add));
    node.refs = { art, name, meta, main, next, add };
    return node;
  }

  fill(node, item, index, pos) {
    const { art, name, meta, main, next, add } = node.refs;
    const grid = this.mode === 'grid';
    const parts = [item.kind === 'audio' ? 'Audio' : 'Video', formatSize(item.size), formatDate(item.modified_ms)];
    if (item.folder && this.handlers.showFolder()) parts.unshift(item.folder);
    if (node.dataset.kind !== item.kind) {
      node.dataset.kind = item.kind;
      art.className = `kind ${item.kind}`;
      art.replaceChildren(icon(item.kind === 'audio' ? 'audio' : 'video'));
    }
    if (grid) art.style.setProperty('--hue', String(hue(item.id)));
    node.dataset.id = item.id;
    node.setAttribute('aria-setsize', pos['aria-setsize']);
    node.setAttribute('aria-posinset', pos['aria-posinset']);
    name.textContent = item.name;
    meta.textContent = parts.filter(Boolean).join(' · ');
    main.title = item.key;
    const i = String(index);
    main.dataset.index = i;
    next.dataset.index = i;
    add.dataset.index = i;
    next.setAttribute('aria-label', `Play next: ${item.name}`);
    add.setAttribute('aria-label', `Add to queue: ${item.name}`);
    this.markCurrent(node);
  }

  onClick(ev) {
    const btn = ev.target.closest('[data-action]');
    if (!btn || !this.layer.contains(btn)) return;
    const row = this.rows[Number(btn.dataset.index)];
    if (!row) return;
    const action = btn.dataset.action;
    if (action === 'open') this.handlers.open(row.path);
    else if (action === 'play') this.handlers.play(row.item);
    else if (action === 'next') this.handlers.playNext(row.item);
    else if (action === 'enqueue') this.handlers.enqueue(row.item);
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
    if (y < this.scroller.scrollTop) this.scroller.scrollTop = y - 8;
    else if (y + rowH > this.scroller.scrollTop + this.scroller.clientHeight) {
      this.scroller.scrollTop = y + rowH - this.scroller.clientHeight + 8;
    }
    this.render();
    const node = this.nodes.get(index);
    const target = node && (node.querySelector(`[data-action="${action}"]`) || node.querySelector('.row-main, .card-main'));
    if (target) target.focus();
  }
}

/** A stable hue from an id, for the grid's placeholder artwork. */
function hue(id) {
  let n = 0;
  for (let i = 0; i < 6 && i < id.length; i += 1) n = (n * 31 + id.charCodeAt(i)) % 360;
  return n;
}

/** Fills the breadcrumb list `ol` from Library.crumbs(). */
export function renderCrumbs(ol, crumbs, open) {
  ol.replaceChildren();
  crumbs.forEach((crumb, i) => {
    const last = i === crumbs.length - 1;
    const btn = h('button', { type: 'button', className: 'crumb', text: crumb.name, on: { click: () => open(crumb.path) } });
    if (i === 0) btn.prepend(icon('home', 18));
    if (last) btn.setAttribute('aria-current', 'page');
    ol.append(h('li', {}, btn));
  });
}

/**
 * Shows a state message in `box` (loading, empty, error, offline, no results), or hides it when
 * `state` is null. `actions` are [{label, run}] buttons.
 */
export function renderNotice(box, state) {
  if (!state) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  box.dataset.kind = state.kind;
  const buttons = (state.actions || []).map((a) =>
    h('button', { type: 'button', className: 'btn', text: a.label, on: { click: a.run } }),
  );
  const parts = [
    h('p', { className: 'notice-title', text: state.title }),
    state.text ? h('p', { className: 'notice-text', text: state.text }) : null,
    state.detail ? h('p', { className: 'notice-detail', text: state.detail }) : null,
    buttons.length ? h('p', { className: 'notice-actions' }, buttons) : null,
  ];
  box.replaceChildren(...parts.filter(Boolean));
}
