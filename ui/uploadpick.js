// uploadpick.js: what the uploads panel decides before anything is sent, kept free of the DOM
// so that it can be tested on its own: which files the library plays (the server's extension
// table, crates/core/src/media.rs), the target folder a person typed, the folder each file goes
// to (its folder inside a dropped or picked folder, under the target), the walk of a dropped
// folder tree (bounded: depth, entries and files), speed and time left, and the text of an
// upload error (the server's {error: {code, message}} or the tus status).

/** Extensions the library lists and plays (mirror of `TABLE` in crates/core/src/media.rs). */
export const MEDIA_EXTENSIONS = ['mp3', 'm4a', 'aac', 'flac', 'wav', 'ogg', 'oga', 'opus', 'mp4', 'm4v', 'webm', 'mov', 'mkv'];

/** The `accept` attribute of the file pickers. */
export const ACCEPT = MEDIA_EXTENSIONS.map((e) => `.${e}`).join(',');

/** Bounds of one drop or pick: a folder tree bigger than this is cut off (and said so). */
export const LIMITS = { files: 5000, entries: 20000, depth: 24, nameBytes: 200, folderChars: 1024 };

/** The lower-case extension of `name`, or '' (".mp3" alone has none). */
export function extensionOf(name) {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** True when the library plays files named like `name`. */
export function playable(name) {
  return MEDIA_EXTENSIONS.includes(extensionOf(name));
}

// C0 controls, DEL and C1 controls: never part of a folder name the page sends.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A folder path as typed or found in a dropped tree, made canonical: `/`-separated, no empty or
 * `.` parts, no leading or trailing slash. Returns {folder} or {error} (a `..` or hidden part,
 * a backslash or a control character, a part over LIMITS.nameBytes, or longer than
 * LIMITS.folderChars). The server checks again.
 */
export function cleanFolder(text) {
  const raw = String(text ?? '');
  if (raw.length > LIMITS.folderChars) return { error: 'the folder name is too long' };
  if (CONTROL.test(raw)) return { error: 'the folder name holds a control character' };
  if (raw.includes('\\')) return { error: 'use / between folders, not \\' };
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { error: 'a folder may not be “..”' };
  // The server's rules too (crates/upload/src/name.rs): no hidden folders, 200 bytes a name.
  if (parts.some((p) => p.startsWith('.'))) return { error: 'a folder name may not start with “.” (hidden)' };
  if (parts.some((p) => new TextEncoder().encode(p).length > LIMITS.nameBytes)) return { error: `a folder name is longer than ${LIMITS.nameBytes} bytes` };
  return { folder: parts.join('/') };
}

/** `target` and `relative` (both clean) joined: where a file of a dropped folder goes. */
export function joinFolder(target, relative) {
  return [target, relative].filter((p) => p !== '').join('/');
}

/** The folder part of a dropped entry's `fullPath` ("/Album/CD 1/01.mp3" -> "Album/CD 1"). */
export function folderOfPath(path) {
  const parts = String(path || '').split('/').filter((p) => p !== '');
  parts.pop();
  return parts.join('/');
}

/**
 * Sorts `found` ({file, relative}: relative is the file's folder inside what was dropped or
 * picked) into what is queued and what is refused, under the clean `target` folder.
 * `maxBytes` (the server's limit, if known) refuses larger files up front.
 * Returns {accepted: [{file, folder, relative}], refused: [{name, folder, reason}]}.
 */
export function planFiles(found, target, maxBytes) {
  const accepted = [];
  const refused = [];
  for (const { file, relative } of found) {
    const rel = cleanFolder(relative);
    const folder = rel.error ? '' : joinFolder(target, rel.folder);
    const name = String(file.name || '');
    let reason = '';
    if (rel.error) reason = `its folder cannot be used: ${rel.error}`;
    else if (!playable(name)) reason = extensionOf(name) ? `.${extensionOf(name)} files are not media the library plays` : 'no extension: not media the library plays';
    else if (name.startsWith('.')) reason = 'hidden files (a name starting with “.”) are not uploaded';
    else if (new TextEncoder().encode(name).length > LIMITS.nameBytes) reason = `the file name is longer than ${LIMITS.nameBytes} bytes`;
    else if (name.includes('\\')) reason = 'the file name holds a backslash';
    else if (CONTROL.test(name)) reason = 'the file name holds a control character';
    else if (Number.isFinite(maxBytes) && maxBytes > 0 && file.size > maxBytes) reason = `larger than this server accepts (${maxBytes.toLocaleString()} bytes)`;
    if (reason) refused.push({ name, folder, reason });
    else accepted.push({ file, folder, relative: rel.folder });
  }
  return { accepted, refused };
}

/** The files of an `<input type=file>` (with `webkitdirectory`, their folders too). */
export function filesFromList(list) {
  const found = [];
  for (const file of Array.from(list || []).slice(0, LIMITS.files)) {
    found.push({ file, relative: folderOfPath(`/${file.webkitRelativePath || file.name}`) });
  }
  return { found, truncated: (list ? list.length : 0) > LIMITS.files };
}

/**
 * The entries of a drop, taken synchronously inside the `drop` event (the browser empties the
 * DataTransfer afterwards): FileSystemEntry objects where the browser has them, else Files.
 */
export function dropEntries(dataTransfer) {
  const entries = [];
  const files = [];
  const items = dataTransfer && dataTransfer.items ? Array.from(dataTransfer.items) : [];
  for (const item of items) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    const file = item.getAsFile();
    // The File too: WebKit gives entries that cannot be read for a script-made DataTransfer.
    if (entry) entries.push(entry.isFile && file ? Object.assign(entry, { fallback: file }) : entry);
    else if (file) files.push(file);
  }
  if (!items.length && dataTransfer && dataTransfer.files) files.push(...Array.from(dataTransfer.files));
  return { entries, files };
}

const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));
const batchOf = (reader) => new Promise((resolve, reject) => reader.readEntries(resolve, reject));

/**
 * Walks dropped entries (files and folder trees) into [{file, relative}], depth first, within
 * LIMITS: at most `files` files, `entries` entries looked at and `depth` levels. Returns
 * {found, truncated, unreadable}: truncated when a limit cut the walk short, unreadable the
 * number of entries the browser could not read.
 */
export async function walkEntries({ entries, files }) {
  const found = files.slice(0, LIMITS.files).map((file) => ({ file, relative: '' }));
  let seen = found.length;
  let truncated = files.length > LIMITS.files;
  let unreadable = 0;
  const stack = entries.map((entry) => ({ entry, depth: 0 })).reverse();
  while (stack.length) {
    if (found.length >= LIMITS.files || seen >= LIMITS.entries) {
      truncated = true;
      break;
    }
    const { entry, depth } = stack.pop();
    seen += 1;
    try {
      if (entry.isFile) {
        const file = await fileOf(entry).catch((err) => {
          if (entry.fallback) return entry.fallback;
          throw err;
        });
        found.push({ file, relative: folderOfPath(entry.fullPath) });
      } else if (entry.isDirectory) {
        if (depth >= LIMITS.depth) {
          truncated = true;
          continue;
        }
        const reader = entry.createReader();
        const children = [];
        // readEntries answers in batches (100 in Chromium) until an empty one.
        for (;;) {
          const batch = await batchOf(reader);
          if (!batch.length) break;
          children.push(...batch);
          if (children.length + seen >= LIMITS.entries) break;
        }
        children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (let i = children.length - 1; i >= 0; i -= 1) stack.push({ entry: children[i], depth: depth + 1 });
      }
    } catch {
      unreadable += 1;
    }
  }
  return { found, truncated, unreadable };
}

/**
 * Speed and time left for a stream of progress reports: an exponentially weighted average of
 * bytes per second over reports at least 200 ms apart (a report right after another says little).
 */
export class Meter {
  constructor() {
    this.reset(0);
  }

  /** Starts measuring from `bytes` (a resume starts at the server's offset). */
  reset(bytes, now = performance.now()) {
    this.at = now;
    this.bytes = bytes;
    this.rate = 0;
  }

  /** A report: `bytes` done at `now` (ms). Returns the speed in bytes per second. */
  update(bytes, now = performance.now()) {
    const dt = now - this.at;
    if (dt < 200) return this.rate;
    const instant = Math.max(0, bytes - this.bytes) / (dt / 1000);
    this.rate = this.rate ? this.rate * 0.7 + instant * 0.3 : instant;
    this.at = now;
    this.bytes = bytes;
    return this.rate;
  }

  /** Seconds left for `remaining` bytes at the current speed, or Infinity. */
  eta(remaining) {
    return this.rate > 0 ? remaining / this.rate : Infinity;
  }
}

/**
 * The text of an upload failure from tus-js-client's error: the server's `{error: {message}}`
 * when the body has one, else what the status means, else the client's own message.
 * Returns {text, status, code}.
 */
export function describeError(err) {
  const res = err && err.originalResponse;
  const req = err && err.originalRequest;
  const method = req && typeof req.getMethod === 'function' ? req.getMethod() : '';
  const status = res && typeof res.getStatus === 'function' ? res.getStatus() : 0;
  let body = null;
  try {
    body = res && typeof res.getBody === 'function' ? JSON.parse(res.getBody()) : null;
  } catch {
    body = null;
  }
  const server = body && body.error && typeof body.error.message === 'string' ? body.error.message.slice(0, 300) : '';
  const code = body && body.error && typeof body.error.code === 'string' ? body.error.code.slice(0, 64) : '';
  const byStatus = {
    401: 'this device is not paired with the server',
    403: 'this device may not upload to the library',
    404: 'the server no longer has this upload',
    409: 'the server has a different part of this upload: retry',
    410: 'the upload expired on the server: retry to start again',
    413: 'the file is larger than the server accepts',
    415: 'the server does not take this type of file',
    429: 'the server is busy: retry in a moment',
    460: 'the data was damaged on the way: retry',
  };
  if (method === 'POST') byStatus[404] = 'this server does not take uploads';
  let text = server || byStatus[status] || '';
  if (!text && status >= 500) text = `the server failed (HTTP ${status})`;
  if (!text && status) text = `the server refused it (HTTP ${status})`;
  if (!text) text = navigator.onLine === false ? 'the network is offline' : 'the server could not be reached';
  return { text, status, code };
}
