// queue.js: the play queue (play now, play next, add, reorder, remove, clear, shuffle, repeat)
// and its side panel. The queue holds item ids in order with a current position; it is kept in
// local storage so a reload finds it again.

import { h, iconButton, load, save, announce, icon } from './util.js';
import { displayTitle } from './groups.js';

export class Queue {
  constructor(onChange) {
    const saved = load('queue', null);
    this.ids = saved && Array.isArray(saved.ids) ? saved.ids.filter((x) => typeof x === 'string') : [];
    this.index = saved && Number.isInteger(saved.index) ? saved.index : -1;
    if (this.index >= this.ids.length) this.index = this.ids.length - 1;
    this.shuffle = Boolean(saved && saved.shuffle);
    this.repeat = saved && ['off', 'all', 'one'].includes(saved.repeat) ? saved.repeat : 'off';
    this.played = new Set(); // ids played in this shuffle round
    this.onChange = onChange;
  }

  get currentId() {
    return this.index >= 0 ? this.ids[this.index] || null : null;
  }

  persist() {
    save('queue', { ids: this.ids, index: this.index, shuffle: this.shuffle, repeat: this.repeat });
    if (this.onChange) this.onChange();
  }

  /** Takes `id` out of the list (keeping the current position right); returns its old index. */
  take(id) {
    const at = this.ids.indexOf(id);
    if (at < 0) return -1;
    this.ids.splice(at, 1);
    if (at < this.index) this.index -= 1;
    else if (at === this.index) this.index = -1;
    return at;
  }

  /** Makes `id` the current item, right after the one playing now. */
  playNow(id) {
    const cur = this.currentId;
    if (cur === id) return;
    this.take(id);
    const at = cur ? this.ids.indexOf(cur) + 1 : this.ids.length;
    this.ids.splice(at, 0, id);
    this.index = at;
    this.persist();
  }

  /** Puts `id` right after the current item. */
  playNext(id) {
    if (this.currentId === id) return;
    this.take(id);
    const at = this.index >= 0 ? this.index + 1 : this.ids.length;
    this.ids.splice(at, 0, id);
    this.persist();
  }

  /** Appends `id` (moves it to the end when already queued). */
  enqueue(id) {
    if (this.currentId === id) return;
    this.take(id);
    this.ids.push(id);
    this.persist();
  }

  /** Jumps to position `i`. */
  jump(i) {
    if (i < 0 || i >= this.ids.length) return null;
    this.index = i;
    this.persist();
    return this.ids[i];
  }

  move(i, delta) {
    const j = i + delta;
    if (i < 0 || j < 0 || i >= this.ids.length || j >= this.ids.length) return;
    const cur = this.currentId;
    const [id] = this.ids.splice(i, 1);
    this.ids.splice(j, 0, id);
    if (cur) this.index = this.ids.indexOf(cur);
    this.persist();
  }

  remove(i) {
    if (i < 0 || i >= this.ids.length) return;
    this.ids.splice(i, 1);
    if (i < this.index) this.index -= 1;
    else if (i === this.index) this.index = Math.min(this.index, this.ids.length - 1);
    this.persist();
  }

  /** Clears everything but the item playing now. */
  clear() {
    const cur = this.currentId;
    this.ids = cur ? [cur] : [];
    this.index = cur ? 0 : -1;
    this.played.clear();
    this.persist();
  }

  /** Drops ids no longer in the library (the playing one stays: it keeps playing). */
  prune(has) {
    const cur = this.currentId;
    const before = this.ids.length;
    this.ids = this.ids.filter((id) => id === cur || has(id));
    this.index = cur ? this.ids.indexOf(cur) : -1;
    if (this.ids.length !== before) this.persist();
  }

  toggleShuffle() {
    this.shuffle = !this.shuffle;
    this.played.clear();
    this.persist();
  }

  cycleRepeat() {
    this.repeat = { off: 'all', all: 'one', one: 'off' }[this.repeat];
    this.persist();
  }

  /** Advances; `auto` is true when the current item ended. Returns the new id or null. */
  next(auto = false) {
    if (!this.ids.length) return null;
    if (auto && this.repeat === 'one' && this.currentId) return this.currentId;
    let target;
    if (this.shuffle && this.ids.length > 1) {
      if (this.currentId) this.played.add(this.currentId);
      let left = this.ids.map((_, i) => i).filter((i) => !this.played.has(this.ids[i]));
      if (!left.length) {
        if (auto && this.repeat === 'off') return null;
        this.played.clear();
        left = this.ids.map((_, i) => i).filter((i) => i !== this.index);
      }
      target = left[Math.floor(Math.random() * left.length)];
    } else {
      target = this.index + 1;
      if (target >= this.ids.length) {
        if (this.repeat === 'off' && auto) return null;
        target = 0;
      }
    }
    return this.jump(target);
  }

  prev() {
    if (!this.ids.length) return null;
    const target = this.index > 0 ? this.index - 1 : this.repeat === 'all' ? this.ids.length - 1 : 0;
    return this.jump(target);
  }
}

/** The queue side panel. */
export class QueuePanel {
  constructor(root, queue, library, actions) {
    this.root = root;
    this.queue = queue;
    this.library = library;
    this.actions = actions; // {play(id)}
    this.list = h('ol', { className: 'queue-list', attrs: { 'aria-label': 'Queued items' } });
    this.title = h('h2', { id: 'queue-title', text: 'Queue' });
    const clear = h('button', { type: 'button', className: 'btn', text: 'Clear', on: { click: () => this.queue.clear() } });
    clear.setAttribute('aria-label', 'Clear the queue');
    const close = iconButton('close', 'Close the queue', { on: { click: () => this.toggle(false) } });
    this.empty = h('p', { className: 'queue-empty', text: 'The queue is empty. Use “Play next” or “Add to queue” on any item.' });
    root.replaceChildren(h('div', { className: 'queue-head' }, this.title, clear, close), this.empty, this.list);
    root.setAttribute('aria-labelledby', 'queue-title');
    this.list.addEventListener('click', (ev) => this.onClick(ev));
    this.bindDrag();
  }

  /** Drag and drop to reorder with a mouse (the up/down buttons do the same by keyboard/touch). */
  bindDrag() {
    let from = -1;
    const rowOf = (ev) => ev.target.closest && ev.target.closest('li.queue-row');
    this.list.addEventListener('dragstart', (ev) => {
      const li = rowOf(ev);
      if (!li) return;
      from = Number(li.dataset.index);
      ev.dataTransfer.effectAllowed = 'move';
      ev.dataTransfer.setData('text/plain', String(from));
      li.classList.add('dragging');
    });
    this.list.addEventListener('dragover', (ev) => {
      if (from < 0 || !rowOf(ev)) return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = 'move';
      for (const li of this.list.children) li.classList.toggle('drop-target', li === rowOf(ev));
    });
    this.list.addEventListener('drop', (ev) => {
      const li = rowOf(ev);
      if (from < 0 || !li) return;
      ev.preventDefault();
      const to = Number(li.dataset.index);
      if (to !== from) this.queue.move(from, to - from);
      from = -1;
    });
    this.list.addEventListener('dragend', () => {
      from = -1;
      for (const li of this.list.children) li.classList.remove('dragging', 'drop-target');
    });
  }

  toggle(open = this.root.hidden) {
    this.root.hidden = !open;
    document.body.classList.toggle('queue-open', open);
    const btn = document.getElementById('queue-btn');
    if (btn) btn.setAttribute('aria-expanded', String(open));
    if (open) this.render();
    return open;
  }

  render() {
    const { ids, index } = this.queue;
    this.title.textContent = `Queue (${ids.length})`;
    this.empty.hidden = ids.length > 0;
    if (this.root.hidden) return;
    const rows = ids.map((id, i) => {
      const item = this.library.get(id);
      const name = item ? displayTitle(item) : 'Removed from the library';
      const sub = item ? item.artist || item.folder : '';
      const current = i === index;
      const main = h(
        'button',
        { type: 'button', className: 'queue-main', dataset: { action: 'jump', index: String(i) } },
        current ? icon('play', 18) : h('span', { className: 'queue-num', text: String(i + 1) }),
        h('span', { className: 'row-text' }, h('span', { className: 'row-name', text: name }), sub ? h('span', { className: 'row-meta', text: sub }) : null),
      );
      if (current) main.setAttribute('aria-current', 'true');
      const up = iconButton('up', `Move up: ${name}`, { dataset: { action: 'up', index: String(i) }, disabled: i === 0 });
      const down = iconButton('down', `Move down: ${name}`, { dataset: { action: 'down', index: String(i) }, disabled: i === ids.length - 1 });
      const remove = iconButton('close', `Remove from queue: ${name}`, { dataset: { action: 'remove', index: String(i) } });
      return h('li', { className: current ? 'queue-row current' : 'queue-row', draggable: true, dataset: { index: String(i) } }, main, up, down, remove);
    });
    this.list.replaceChildren(...rows);
  }

  onClick(ev) {
    const btn = ev.target.closest('[data-action]');
    if (!btn) return;
    const i = Number(btn.dataset.index);
    const id = this.queue.ids[i];
    switch (btn.dataset.action) {
      case 'jump':
        if (this.queue.jump(i)) this.actions.play(id);
        break;
      case 'up':
        this.queue.move(i, -1);
        this.refocus(i - 1, 'up');
        break;
      case 'down':
        this.queue.move(i, 1);
        this.refocus(i + 1, 'down');
        break;
      case 'remove':
        this.queue.remove(i);
        announce('Removed from the queue');
        break;
      default:
        break;
    }
  }

  /** Keeps keyboard focus on the moved row's button after a re-render. */
  refocus(i, action) {
    const btn = this.list.querySelector(`[data-action="${action}"][data-index="${i}"]`);
    if (btn && !btn.disabled) btn.focus();
    else {
      const main = this.list.querySelector(`[data-action="jump"][data-index="${i}"]`);
      if (main) main.focus();
    }
  }
}
