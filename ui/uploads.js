// uploads.js: putting media into the library from the page. Files and whole folders are dropped
// anywhere on the window or picked (a file picker and a folder picker); the folder structure is
// kept under a target folder (by default the folder being viewed). Each file is sent with the
// tus 1.0 protocol to the server's /api/uploads by tus-js-client (ui/vendor/, loaded only where
// uploads are allowed), which keeps each upload's URL in local storage: after a reload the
// panel lists the unfinished ones, and dropping or picking the same file again resumes it from
// the server's offset (a page cannot keep a File across a reload). The transfers panel shows
// per-file and total progress, speed and time left, with pause, resume, cancel (which deletes
// the upload on the server) and retry. The controls exist only when /api/health says
// `permissions.upload`. A finished file reaches the list through the WebSocket's
// library_changed like any other change: nothing here refetches the library.

import { on, mediaBase, isDesktop } from './api.js';
import { h, formatSize, formatTime, announce } from './util.js';
import { ACCEPT, cleanFolder, planFiles, filesFromList, dropEntries, walkEntries, Meter, describeError } from './uploadpick.js';
import { TransferList, uploadIcon } from './transfers.js';

const $ = (id) => document.getElementById(id);

/** Bytes per PATCH request: progress the server has confirmed survives a reload or a dropped connection. */
const CHUNK_BYTES = 8 * 1024 * 1024;
/** At most this many unfinished uploads from earlier sessions are listed. */
const MAX_ORPHANS = 100;

let tusLoaded = null;

/** tus-js-client (its UMD bundle sets window.tus), loaded once, on first need. */
function loadTus() {
  if (!tusLoaded) {
    tusLoaded = import('./vendor/tus.min.js').then(() => {
      if (!window.tus || !window.tus.isSupported) throw new Error('this browser cannot upload (tus-js-client is not supported)');
      return window.tus;
    });
    tusLoaded.catch(() => {
      tusLoaded = null;
    });
  }
  return tusLoaded;
}

/**
 * Mounts the uploads controls. `folder()` is the folder being viewed (the default target).
 * Returns {refresh} to re-read the permissions (done by itself on every reconnection).
 */
export function mountUploads({ folder }) {
  const state = { allowed: false, maxBytes: 0, base: '', userTarget: false };
  const button = h('button', {
    id: 'upload-btn',
    type: 'button',
    className: 'icon-btn',
    title: 'Upload',
    hidden: true,
    attrs: { 'aria-label': 'Upload media', 'aria-controls': 'uploads', 'aria-expanded': 'false' },
  });
  button.append(uploadIcon());
  const anchor = $('refresh-btn');
  anchor.parentNode.insertBefore(button, anchor);

  const fileInput = h('input', { type: 'file', multiple: true, accept: ACCEPT, className: 'visually-hidden', tabIndex: -1, attrs: { 'aria-hidden': 'true', 'data-upload': 'files' } });
  const dirInput = h('input', { type: 'file', multiple: true, className: 'visually-hidden', tabIndex: -1, attrs: { 'aria-hidden': 'true', webkitdirectory: true, 'data-upload': 'folder' } });
  const target = h('input', { id: 'uploads-folder', type: 'text', autocomplete: 'off', spellcheck: false, placeholder: 'the top of the library', attrs: { 'aria-describedby': 'uploads-target-help' } });
  const targetError = h('p', { id: 'uploads-target-help', className: 'uploads-help' }, 'Folders you drop or pick keep their structure under this folder.');
  const summary = h('p', { id: 'uploads-summary', className: 'uploads-summary', attrs: { role: 'status', 'aria-live': 'polite' } });
  const detail = h('p', { className: 'uploads-detail' });
  const total = h('progress', { className: 'uploads-total', max: 1, value: 0, attrs: { 'aria-label': 'All uploads' } });
  const closeBtn = h('button', { type: 'button', className: 'icon-btn uploads-close', title: 'Hide uploads', attrs: { 'aria-label': 'Hide uploads' } }, '×');
  const clearBtn = h('button', { type: 'button', className: 'uploads-clear' }, 'Clear finished');
  const panel = h(
    'section',
    { id: 'uploads', className: 'uploads', hidden: true, attrs: { 'aria-labelledby': 'uploads-title' } },
    h('div', { className: 'uploads-head' }, h('h2', { id: 'uploads-title' }, 'Uploads'), closeBtn),
    h(
      'div',
      { className: 'uploads-target' },
      h('label', { htmlFor: 'uploads-folder' }, 'Upload to folder'),
      target,
      targetError,
      h(
        'div',
        { className: 'uploads-pick' },
        h('button', { type: 'button', className: 'uploads-choose', on: { click: () => fileInput.click() } }, 'Choose files…'),
        h('button', { type: 'button', className: 'uploads-choose', on: { click: () => dirInput.click() } }, 'Choose a folder…'),
        fileInput,
        dirInput,
      ),
      h('p', { className: 'uploads-help' }, 'Or drop files and folders anywhere on the window.'),
    ),
    summary,
    total,
    detail,
    clearBtn,
  );
  const overlay = h('div', { className: 'uploads-drop', hidden: true, attrs: { 'aria-hidden': 'true' } }, h('p', { className: 'uploads-drop-text' }));
  document.body.append(panel, overlay);

  const meter = new Meter();
  const list = new TransferList(panel, {
    changed: () => paintTotals(),
    pick: (orphan) => pickFor(orphan),
  });
  panel.insertBefore(list.el, clearBtn);

  function show(open = true) {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open && !state.userTarget) target.value = folder();
    if (open) list.loadOrphans(state.base, loadTus, MAX_ORPHANS);
  }

  button.addEventListener('click', () => {
    const opening = panel.hidden;
    show(opening);
    // The pickers, not the folder field: focusing a text field opens a phone's keyboard.
    if (opening) panel.querySelector('.uploads-choose').focus();
  });
  closeBtn.addEventListener('click', () => {
    show(false);
    button.focus();
  });
  panel.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.stopPropagation();
      show(false);
      button.focus();
    }
  });
  target.addEventListener('input', () => {
    state.userTarget = true;
    checkTarget();
  });
  clearBtn.addEventListener('click', () => list.clearFinished());

  /** The clean target folder, or null (and the reason shown) when it cannot be used. */
  function checkTarget() {
    const clean = cleanFolder(target.value);
    target.setAttribute('aria-invalid', String(Boolean(clean.error)));
    targetError.textContent = clean.error ? `This folder cannot be used: ${clean.error}.` : 'Folders you drop or pick keep their structure under this folder.';
    targetError.classList.toggle('error', Boolean(clean.error));
    return clean.error ? null : clean.folder;
  }

  /** Queues what was dropped or picked under the target folder (or `into`, already clean). */
  async function add(found, truncated, unreadable, into) {
    if (!state.allowed) return;
    show(true);
    const dest = into === undefined ? checkTarget() : into;
    if (dest === null) {
      target.focus();
      return;
    }
    let tus;
    try {
      tus = await loadTus();
    } catch (err) {
      summary.textContent = String(err.message || err);
      return;
    }
    await list.loadOrphans(state.base, loadTus, MAX_ORPHANS);
    const { accepted, refused } = planFiles(found, dest, state.maxBytes);
    // A file of an unfinished upload goes back to that upload's folder (and so resumes it).
    for (const a of accepted) {
      const orphan = list.orphanFor(a.file, a.relative);
      if (orphan) a.folder = orphan.folder;
    }
    list.add(accepted, refused, (file, where) => new Sender(tus, state.base, file, where));
    const words = [`${accepted.length} file${accepted.length === 1 ? '' : 's'} queued`];
    if (refused.length) words.push(`${refused.length} refused`);
    if (truncated) words.push('the rest of that folder was left out (too many files)');
    if (unreadable) words.push(`${unreadable} could not be read`);
    announce(`Uploads: ${words.join(', ')}`);
    paintTotals();
  }

  fileInput.addEventListener('change', () => {
    const { found, truncated } = filesFromList(fileInput.files);
    fileInput.value = '';
    add(found, truncated, 0);
  });
  dirInput.addEventListener('change', () => {
    const { found, truncated } = filesFromList(dirInput.files);
    dirInput.value = '';
    add(found, truncated, 0);
  });

  /** An unfinished upload from an earlier session: the person picks its file again. */
  function pickFor(orphan) {
    const one = h('input', { type: 'file', accept: ACCEPT, className: 'visually-hidden' });
    one.addEventListener('change', () => {
      const file = one.files && one.files[0];
      one.remove();
      if (!file) return;
      if (file.name !== orphan.name || file.size !== orphan.size) {
        list.say(orphan, `That is not the same file (${file.name}, ${formatSize(file.size)}): pick ${orphan.name} (${formatSize(orphan.size)})`);
        return;
      }
      // It goes back to its own folder, whatever the target says now.
      add([{ file, relative: '' }], false, 0, orphan.folder);
    });
    one.addEventListener('cancel', () => one.remove());
    document.body.append(one);
    one.click();
  }

  // ---- drag and drop anywhere on the window -----------------------------------------------
  let depth = 0;
  const hasFiles = (ev) => Boolean(ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files'));
  window.addEventListener('dragenter', (ev) => {
    if (!state.allowed || !hasFiles(ev)) return;
    ev.preventDefault();
    depth += 1;
    const dest = cleanFolder(state.userTarget ? target.value : folder());
    overlay.firstChild.textContent = dest.error ? 'Drop to upload' : `Drop to upload to ${dest.folder ? `“${dest.folder}”` : 'the top of the library'}`;
    overlay.hidden = false;
  });
  window.addEventListener('dragover', (ev) => {
    if (!state.allowed || !hasFiles(ev)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  });
  window.addEventListener('dragleave', (ev) => {
    if (!state.allowed || !hasFiles(ev)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  window.addEventListener('drop', (ev) => {
    depth = 0;
    overlay.hidden = true;
    if (!state.allowed || !hasFiles(ev)) return;
    ev.preventDefault();
    if (!state.userTarget) target.value = folder();
    const taken = dropEntries(ev.dataTransfer); // now: the DataTransfer empties after the event
    walkEntries(taken).then(({ found, truncated, unreadable }) => add(found, truncated, unreadable));
  });

  // ---- totals ---------------------------------------------------------------------------------
  let lastSaid = '';
  let frame = 0;
  function paintTotals() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const t = list.totals();
      total.max = Math.max(1, t.size);
      total.value = t.sent;
      total.hidden = t.size === 0;
      const rate = meter.update(t.fresh);
      if (!t.active) meter.reset(t.fresh);
      const pct = t.size ? Math.floor((t.sent / t.size) * 10) * 10 : 0;
      let said = t.count ? `${t.done} of ${t.count} uploaded` : 'Nothing to upload';
      if (t.active) said += `, ${pct}%`;
      if (t.failed) said += `, ${t.failed} failed`;
      if (t.orphans) said += `, ${t.orphans} unfinished from before`;
      // The live region speaks on milestones only, not at every progress report.
      if (said !== lastSaid) {
        lastSaid = said;
        summary.textContent = said;
      }
      detail.textContent = t.active && rate > 0 ? `${formatSize(t.sent)} of ${formatSize(t.size)} · ${formatSize(rate)}/s · ${formatTime(meter.eta(t.size - t.sent))} left` : t.size ? `${formatSize(t.sent)} of ${formatSize(t.size)}` : '';
      button.dataset.busy = String(t.active > 0);
    });
  }
  setInterval(() => {
    if (!panel.hidden || list.totals().active) paintTotals();
  }, 1000);

  // ---- permissions ----------------------------------------------------------------------------
  async function refresh() {
    let perms = null;
    try {
      state.base = await mediaBase();
      const resp = await fetch(`${state.base}/api/health`, { cache: 'no-store' });
      const health = resp.ok ? await resp.json() : null;
      perms = health && health.permissions;
    } catch {
      perms = null; // unreachable: keep what we knew
      if (!state.allowed) return;
    }
    state.allowed = Boolean(perms && perms.upload === true);
    const max = perms && Number(perms.max_upload_bytes);
    state.maxBytes = Number.isFinite(max) && max > 0 ? max : 0;
    button.hidden = !state.allowed;
    document.body.dataset.upload = String(state.allowed);
    if (!state.allowed) {
      panel.hidden = true;
      overlay.hidden = true;
    } else {
      list.loadOrphans(state.base, loadTus, MAX_ORPHANS).then(() => {
        if (list.totals().orphans) button.dataset.unfinished = 'true';
      });
    }
  }
  on('connection', (d) => {
    if (d.state === 'open') refresh();
  });
  if (isDesktop) window.addEventListener('bucketstream:library-changed', () => refresh());
  refresh();

  return { refresh };
}

/**
 * One file's tus upload: wraps tus.Upload with start (resuming a stored upload of the same file
 * to the same folder), pause, cancel (terminating it on the server) and the callbacks the
 * transfer list listens to.
 */
class Sender {
  constructor(tus, base, file, folder) {
    this.tus = tus;
    this.file = file;
    this.folder = folder;
    this.endpoint = `${base || location.origin}/api/uploads`;
    this.upload = null;
    this.stopped = false;
  }

  /** Starts or resumes; `cb` has progress(sent, size), done(), failed(err), resumed(offset). */
  async start(cb) {
    this.stopped = false;
    if (this.upload) {
      // After a pause or an error: the same upload asks the server its offset and goes on.
      this.upload.start();
      return;
    }
    const folder = this.folder;
    const upload = new this.tus.Upload(this.file, {
      endpoint: this.endpoint,
      chunkSize: CHUNK_BYTES,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      metadata: { filename: this.file.name, folder },
      // The default (name, type, size, date, endpoint) plus the folder: the same file sent to
      // two folders is two uploads.
      fingerprint: (file, options) => Promise.resolve(['bucketstream', file.name, file.type, file.size, file.lastModified, options.endpoint, folder].join('-')),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onShouldRetry: (err) => {
        const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
        return status === 0 || status >= 500 || status === 409 || status === 423 || status === 429;
      },
      onProgress: (sent, size) => cb.progress(sent, size),
      onSuccess: () => cb.done(),
      onError: (err) => cb.failed(describeError(err)),
      onAfterResponse: (req, res) => {
        // The server's offset of a resumed upload (its answer to HEAD).
        if (req.getMethod() === 'HEAD') {
          const offset = Number(res.getHeader('Upload-Offset'));
          if (Number.isFinite(offset) && offset > 0) cb.resumed(offset);
        }
      },
    });
    this.upload = upload;
    if (!upload.url) {
      const previous = await upload.findPreviousUploads();
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
    }
    // Paused or canceled while the stored uploads were looked up.
    if (!this.stopped) upload.start();
  }

  /** Stops sending; what the server has is kept (start() resumes from it). */
  pause() {
    this.stopped = true;
    if (this.upload) this.upload.abort(false).catch(() => {});
  }

  /** Stops and deletes the upload on the server (and its stored URL). */
  async cancel() {
    this.stopped = true;
    if (!this.upload) return;
    const upload = this.upload;
    this.upload = null;
    if (upload.url) await upload.abort(true);
    else await upload.abort(false);
  }
}
