// transfers.js: the list of the uploads panel (ui/uploads.js). Each row is one file: queued,
// uploading, paused, failed, done, canceled, refused (never sent: not media, too big, a bad
// folder), or unfinished from an earlier session of the page (its tus URL is in local storage
// but the File is gone: the person drops or picks it again to resume, or discards it, which
// deletes it on the server). Rows show progress, speed, time left and the server's error text,
// with pause, resume, cancel and retry buttons; at most MAX_ACTIVE files are sent at once.

import { h, formatSize, formatTime, announce } from './util.js';
import { Meter } from './uploadpick.js';

/** How many files are sent at once; the others wait their turn. */
export const MAX_ACTIVE = 2;

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The upload icon (an arrow out of a tray), decorative. */
export function uploadIcon() {
  const svg = document.createElementNS(SVG_NS, 'svg');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '24', height: '24', 'aria-hidden': 'true', focusable: 'false', class: 'icon' })) svg.setAttribute(k, v);
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', 'M5 18h14v2H5zm6-2V7.8l-3.6 3.6L6 10l6-6 6 6-1.4 1.4L13 7.8V16z');
  svg.append(path);
  return svg;
}

const STATE_TEXT = { queued: 'Waiting', starting: 'Starting…', canceling: 'Canceling…', canceled: 'Canceled', refused: 'Refused' };

/** The rows of the uploads panel and the queue that feeds the senders. */
export class TransferList {
  /** `cb.changed()` after any change; `cb.pick(row)` asks for the file of an unfinished upload. */
  constructor(panel, cb) {
    this.cb = cb;
    this.rows = [];
    this.el = h('ul', { className: 'uploads-list', attrs: { 'aria-label': 'Transfers' } });
    this.orphansLoading = null;
    this.frame = 0;
    this.dirty = new Set();
  }

  /** Adds planned files (`make(file, folder)` builds each one's sender) and refusals. */
  add(accepted, refused, make) {
    for (const { file, folder } of accepted) {
      // The same file to the same folder replaces its unfinished row (the sender resumes it).
      const old = this.rows.find((r) => r.state === 'orphan' && r.name === file.name && r.size === file.size && r.folder === folder);
      if (old) this.remove(old);
      this.push({ name: file.name, folder, size: file.size, sent: 0, state: 'queued', sender: make(file, folder), meter: new Meter() });
    }
    for (const r of refused) this.push({ name: r.name, folder: r.folder, size: 0, sent: 0, state: 'refused', message: r.reason });
    this.pump();
  }

  /**
   * The unfinished upload of an earlier session that a file dropped or picked again is for: the
   * same name and size, in a folder ending with the file's folder inside the drop (the target
   * may have changed since).
   */
  orphanFor(file, relative) {
    return this.rows.find(
      (r) => r.state === 'orphan' && r.name === file.name && r.size === file.size && (relative === '' || r.folder === relative || r.folder.endsWith(`/${relative}`)),
    );
  }

  push(row) {
    row.el = h('li', { className: 'upl' });
    this.rows.push(row);
    this.el.append(row.el);
    this.render(row);
  }

  remove(row) {
    this.rows = this.rows.filter((r) => r !== row);
    row.el.remove();
  }

  /** Starts queued rows while fewer than MAX_ACTIVE are sending. */
  pump() {
    let active = this.rows.filter((r) => r.state === 'uploading' || r.state === 'starting').length;
    for (const row of this.rows) {
      if (active >= MAX_ACTIVE) break;
      if (row.state !== 'queued') continue;
      active += 1;
      this.begin(row);
    }
    this.cb.changed();
  }

  begin(row) {
    this.set(row, 'starting');
    row.meter.reset(row.sent);
    row.sender
      .start({
        progress: (sent, size) => {
          if (row.state !== 'starting' && row.state !== 'uploading') return;
          row.sent = sent;
          row.size = size;
          row.meter.update(sent);
          if (row.state === 'starting') this.set(row, 'uploading');
          else this.later(row);
        },
        resumed: (offset) => {
          row.resumedAt = offset;
          row.sent = offset;
          row.meter.reset(offset);
          this.later(row);
        },
        done: () => {
          row.sent = row.size;
          this.set(row, 'done');
          announce(`Uploaded ${row.name}`);
          this.pump();
        },
        failed: (err) => {
          if (row.state === 'canceling' || row.state === 'canceled') return;
          row.message = err.text;
          row.status = err.status;
          this.set(row, 'error');
          announce(`Upload of ${row.name} failed: ${err.text}`);
          this.pump();
        },
      })
      .catch((err) => {
        row.message = String((err && err.message) || err);
        this.set(row, 'error');
        this.pump();
      });
  }

  pause(row) {
    row.sender.pause();
    this.set(row, 'paused');
    this.pump();
  }

  resume(row) {
    row.message = '';
    this.set(row, 'queued');
    this.pump();
  }

  async cancel(row) {
    const was = row.state;
    this.set(row, 'canceling');
    try {
      if (was === 'orphan') await this.discard(row);
      else await row.sender.cancel();
      this.set(row, 'canceled');
    } catch (err) {
      row.message = `Could not delete it on the server: ${String((err && err.message) || err)}`;
      this.set(row, was === 'orphan' ? 'orphan' : 'error');
    }
    this.pump();
  }

  /** Deletes an unfinished upload of an earlier session on the server and forgets it. */
  async discard(row) {
    const tus = await row.loadTus();
    await tus.Upload.terminate(row.url, {}).catch((err) => {
      const status = err && err.originalResponse ? err.originalResponse.getStatus() : 0;
      if (status !== 404 && status !== 410) throw err; // already gone: fine
    });
    await tus.defaultOptions.urlStorage.removeUpload(row.storageKey);
  }

  /** Removes the rows that need nothing more. */
  clearFinished() {
    for (const row of [...this.rows]) if (['done', 'canceled', 'refused'].includes(row.state)) this.remove(row);
    this.cb.changed();
  }

  /** A message on a row (e.g. the wrong file picked for an unfinished upload). */
  say(row, text) {
    row.message = text;
    this.render(row);
    announce(text);
  }

  /** Sums for the panel's summary. */
  totals() {
    // `fresh`: bytes sent by this page (a resumed upload's offset was sent before): the speed.
    const t = { count: 0, done: 0, failed: 0, active: 0, orphans: 0, size: 0, sent: 0, fresh: 0 };
    for (const r of this.rows) {
      if (r.state === 'orphan') {
        t.orphans += 1;
        continue;
      }
      if (r.state === 'refused' || r.state === 'canceled' || r.state === 'canceling') continue;
      t.count += 1;
      t.size += r.size;
      t.sent += Math.min(r.sent, r.size);
      t.fresh += Math.max(0, Math.min(r.sent, r.size) - (r.resumedAt || 0));
      if (r.state === 'done') t.done += 1;
      if (r.state === 'error') t.failed += 1;
      if (r.state === 'uploading' || r.state === 'starting') t.active += 1;
    }
    return t;
  }

  /**
   * Lists the unfinished uploads of earlier sessions from tus-js-client's local storage (those
   * to this server's /api/uploads only, at most `max`), asking the server for each one's
   * offset; one the server no longer has is forgotten. Done once per page.
   */
  loadOrphans(base, loadTus, max) {
    if (this.orphansLoading) return this.orphansLoading;
    this.orphansLoading = (async () => {
      const tus = await loadTus();
      const storage = tus.defaultOptions.urlStorage;
      const all = await storage.findAllUploads();
      const prefix = `${base || location.origin}/api/uploads/`;
      const mine = all.filter((u) => typeof u.uploadUrl === 'string' && u.uploadUrl.startsWith(prefix) && u.metadata && typeof u.metadata.filename === 'string').slice(0, max);
      for (const u of mine) {
        const folder = typeof u.metadata.folder === 'string' ? u.metadata.folder : '';
        const size = Number(u.size) || 0;
        if (this.rows.some((r) => r.name === u.metadata.filename && r.folder === folder && r.size === size)) continue;
        let offset = 0;
        try {
          const resp = await fetch(u.uploadUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' }, cache: 'no-store' });
          if (resp.status === 404 || resp.status === 410) {
            await storage.removeUpload(u.urlStorageKey);
            continue;
          }
          offset = Number(resp.headers.get('Upload-Offset')) || 0;
        } catch {
          /* unreachable now: list it anyway */
        }
        this.push({ name: u.metadata.filename, folder, size, sent: offset, state: 'orphan', url: u.uploadUrl, storageKey: u.urlStorageKey, loadTus });
      }
      this.cb.changed();
    })().catch((err) => {
      console.warn('uploads: cannot list unfinished uploads', err);
    });
    return this.orphansLoading;
  }

  set(row, state) {
    row.state = state;
    this.render(row);
    this.cb.changed();
  }

  /** Repaints `row` at the next frame (progress reports come often). */
  later(row) {
    this.dirty.add(row);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const r of this.dirty) this.paintProgress(r);
      this.dirty.clear();
      this.cb.changed();
    });
  }

  /** Rebuilds a row: its name, folder, bar, text and the buttons of its state. */
  render(row) {
    const el = row.el;
    el.dataset.state = row.state;
    el.replaceChildren();
    const where = row.folder ? `to ${row.folder}` : 'to the top of the library';
    el.append(
      h('div', { className: 'upl-main' }, h('span', { className: 'upl-name', title: row.name }, row.name), h('span', { className: 'upl-dest' }, where)),
    );
    if (row.state !== 'refused') {
      row.bar = h('progress', { className: 'upl-bar', max: Math.max(1, row.size), value: Math.min(row.sent, row.size), attrs: { 'aria-label': row.name } });
      el.append(row.bar);
    } else row.bar = null;
    row.text = h('p', { className: 'upl-status' });
    el.append(row.text);
    const actions = h('div', { className: 'upl-actions' });
    const btn = (label, fn, cls = '') => h('button', { type: 'button', className: `upl-btn ${cls}`, attrs: { 'aria-label': `${label} ${row.name}` }, on: { click: fn } }, label);
    if (row.state === 'uploading' || row.state === 'starting') actions.append(btn('Pause', () => this.pause(row)), btn('Cancel', () => this.cancel(row), 'danger'));
    else if (row.state === 'queued') actions.append(btn('Cancel', () => this.cancel(row), 'danger'));
    else if (row.state === 'paused') actions.append(btn('Resume', () => this.resume(row)), btn('Cancel', () => this.cancel(row), 'danger'));
    else if (row.state === 'error') actions.append(btn('Retry', () => this.resume(row)), btn('Cancel', () => this.cancel(row), 'danger'));
    else if (row.state === 'orphan') actions.append(btn('Choose the file…', () => this.cb.pick(row)), btn('Discard', () => this.cancel(row), 'danger'));
    if (actions.childElementCount) el.append(actions);
    this.paintProgress(row);
  }

  /** Updates the bar and the status text of a row in place. */
  paintProgress(row) {
    if (row.bar) {
      row.bar.max = Math.max(1, row.size);
      row.bar.value = Math.min(row.sent, row.size);
    }
    const pct = row.size ? Math.floor((row.sent / row.size) * 100) : 0;
    const of = `${formatSize(row.sent)} of ${formatSize(row.size)}`;
    let text;
    switch (row.state) {
      case 'uploading': {
        const rate = row.meter.rate;
        text = `${of} (${pct}%)${rate > 0 ? ` · ${formatSize(rate)}/s · ${formatTime(row.meter.eta(row.size - row.sent))} left` : ''}`;
        if (row.resumedAt) text += ` · resumed at ${formatSize(row.resumedAt)}`;
        break;
      }
      case 'paused':
        text = `Paused at ${of} (${pct}%)`;
        break;
      case 'error':
        text = `Failed: ${row.message}`;
        break;
      case 'done':
        text = `Uploaded (${formatSize(row.size)})`;
        break;
      case 'refused':
        text = `Not uploaded: ${row.message}`;
        break;
      case 'orphan':
        text = row.message || `Unfinished (${of} on the server, ${pct}%): drop or choose this file again to resume.`;
        break;
      default:
        text = row.message && row.state === 'canceled' ? row.message : STATE_TEXT[row.state] || row.state;
    }
    row.text.textContent = text;
    row.text.classList.toggle('error', row.state === 'error' || row.state === 'refused');
  }
}
