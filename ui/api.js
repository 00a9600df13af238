// api.js: the one module through which the player talks to its backend.
//
// In a browser it uses fetch (/api/videos, /api/health, /api/refresh) and a WebSocket at /ws
// with reconnect and exponential backoff. Inside the Tauri desktop app (window.__TAURI_INTERNALS__)
// it calls the commands list_library, refresh_library and media_base through invoke, and opens
// the WebSocket at media_base + "/ws" for live updates. Everything else in ui/ calls this module.
//
// Above the server's paging threshold (/api/health's paging_threshold; the desktop's
// library_state) the player pages on the server instead (paged.js): pagingMode() says which,
// the WebSocket is opened with ?list=none, and pages, folders and groups are fetched with
// fetchPage, fetchFolders, fetchGroups and fetchAlbum (pages and folders through invoke in the
// desktop app: query_library and library_folders; groups from its in-process server).
// Resume positions live on the server (fetchPosition, sendPosition: /api/items/{id}/position,
// the same rows as Subsonic's bookmarks), the desktop window's included.
//
// Events (subscribe with api.on(name, fn)):
//   "list"       {items, generation}          a full list (initial load, fetch_videos, resync)
//   "state"      {count, generation}          paged mode: the library's size (no items)
//   "changed"    {added, removed, changed, generation, count}
//   "status"     {ok, error: {code, message} | null}   the catalog's refresh health
//   "connection" {state: "connecting"|"open"|"closed", retryIn?: ms, attempts}
//   "scan"       {running, done, total, failed, fetched_bytes}   the tag scan's progress

const tauri = typeof window !== 'undefined' ? window.__TAURI_INTERNALS__ : undefined;

/** True inside the desktop app. */
export const isDesktop = Boolean(tauri && typeof tauri.invoke === 'function');

const listeners = new Map();
let socket = null;
let base = ''; // '' in a browser (same origin); "http://127.0.0.1:PORT" in the desktop app
let attempts = 0;
let retryTimer = 0;
let generation = -1;
let started = false;
let connectionState = 'closed';
let pingTimer = 0;
let paged = false; // the library is paged on the server (decided once, by pagingMode())

const BACKOFF_MIN = 500;
const BACKOFF_MAX = 15000;

/** Subscribes `fn` to event `name`; returns an unsubscribe function. */
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}

function emit(name, detail) {
  for (const fn of listeners.get(name) || []) {
    try {
      fn(detail);
    } catch (err) {
      console.error(`api: "${name}" listener failed`, err);
    }
  }
}

/** Calls a Tauri command (desktop only). */
export function invoke(cmd, args = {}) {
  if (!isDesktop) return Promise.reject(new Error(`not in the desktop app: ${cmd}`));
  return tauri.invoke(cmd, args);
}

async function getJson(path, init) {
  return fetchJson(base + path, init);
}

/** Fetches `url` (no cache) and answers its JSON; a failure throws an Error with the server's
 * `{code, message}` (or `http_NNN`). */
export async function fetchJson(url, init) {
  const resp = await fetch(url, { cache: 'no-store', ...init });
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  if (!resp.ok) {
    const err = new Error((body && body.error && body.error.message) || `HTTP ${resp.status}`);
    err.code = (body && body.error && body.error.code) || `http_${resp.status}`;
    throw err;
  }
  return body;
}

/** The media base URL ('' in a browser). */
export async function mediaBase() {
  if (isDesktop && !base) {
    base = String(await invoke('media_base')).replace(/\/+$/, '');
  }
  return base;
}

/** The URL of a server path (`/transcode/…`): same origin, or the desktop's own server. */
export function serverUrl(path) {
  return base + path;
}

/** The URL that plays `item`. */
export function mediaUrl(item) {
  return base + item.url;
}

/**
 * The URL of an item's or album's art (`path` is a server path, /art/<hash>) at about `size` px
 * (300 for thumbnails, 1000 for the big cover and the Media Session).
 */
export function artUrl(path, size) {
  return `${base}${path}?size=${size}`;
}

/** The URL of `item`'s subtitle track list. */
export function subtitlesUrl(item) {
  return `${base}/api/items/${encodeURIComponent(item.id)}/subtitles`;
}

/** The URL of `item`'s subtitle track `sub` as WebVTT, its cues moved `offset` seconds earlier. */
export function subtitleUrl(item, sub, offset = 0) {
  const url = `${base}/subtitles/${encodeURIComponent(item.id)}/${encodeURIComponent(sub)}.vtt`;
  return offset > 0 ? `${url}?offset=${offset}` : url;
}

/** The whole library as an array of items. */
export async function listLibrary() {
  const items = isDesktop ? await invoke('list_library') : await getJson('/api/videos');
  return Array.isArray(items) ? items : []; // an empty body: nothing listed yet
}

/**
 * Whether the library is above the server's paging threshold: {paged, count, threshold}. Asked
 * once before the player starts; a server that cannot be asked (down, old) means whole lists.
 */
export async function pagingMode() {
  let state = null;
  try {
    if (isDesktop) state = await invoke('library_state');
    else {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 3000);
      try {
        state = await getJson('/api/health', { signal: ctl.signal });
      } finally {
        clearTimeout(timer);
      }
    }
  } catch {
    state = null;
  }
  const count = state && Number(state.count);
  const threshold = state && Number(state.paging_threshold);
  paged = Number.isFinite(count) && Number.isFinite(threshold) && count > threshold;
  return { paged, count: paged ? count : 0, threshold: Number.isFinite(threshold) ? threshold : null, generation: paged ? Number(state.generation) : -1 };
}

/** One page of /api/videos: `query` is its query string ({total, items, generation}). */
export async function fetchPage(query, signal) {
  if (isDesktop) return invoke('query_library', { query }); // a JSON body: parsed by invoke
  return getJson(`/api/videos?${query}`, { signal });
}

/** The subfolders of `under` with their counts ({generation, under, items, folders}). */
export async function fetchFolders(under, kind, signal) {
  const q = new URLSearchParams({ under: under || '' });
  if (kind) q.set('kind', kind);
  if (isDesktop) return invoke('library_folders', { query: q.toString() });
  return getJson(`/api/folders?${q}`, { signal });
}

/**
 * The server's albums, artists or genres (`name`), as /api/albums and its siblings (the desktop
 * window asks its in-process server too: it is granted CORS there).
 */
export async function fetchGroups(name, signal) {
  if (!['albums', 'artists', 'genres'].includes(name)) return [];
  return getJson(`/api/${name}`, { signal });
}

/** One album and its tracks ({album, tracks}). */
export async function fetchAlbum(id, signal) {
  return getJson(`/api/albums/${encodeURIComponent(id)}`, { signal });
}

/**
 * The server's resume position of item `id`: {id, position_ms, changed_ms}, both null when it
 * has none. It is the item's Subsonic bookmark, so a phone's bookmark is where this player
 * resumes. Throws when the server cannot say (no media library there, offline).
 */
export async function fetchPosition(id, signal) {
  return getJson(`/api/items/${encodeURIComponent(id)}/position`, { signal });
}

/**
 * Saves `ms` as the server's resume position of item `id`, or forgets it (`ms` null: played to
 * the end, or back at the top). `keepalive` lets it outlive the page (pagehide).
 */
export async function sendPosition(id, ms, { keepalive = false } = {}) {
  const path = `/api/items/${encodeURIComponent(id)}/position`;
  if (ms === null) return getJson(path, { method: 'DELETE', keepalive });
  return getJson(path, {
    method: 'PUT',
    keepalive,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ position_ms: Math.max(0, Math.round(ms)) }),
  });
}

/** Server health, or null where it cannot be asked (the desktop app). */
export async function health() {
  if (isDesktop) return null;
  return getJson('/api/health');
}

/**
 * Asks for a fresh listing. Over an open WebSocket it sends fetch_videos (the answer comes back
 * as a "list" event); otherwise it refreshes over HTTP or invoke and emits "list" itself.
 */
export async function refresh() {
  if (socket && socket.readyState === WebSocket.OPEN) {
    // With the generation we hold, an unchanged library is answered without the items.
    socket.send(generation >= 0 ? JSON.stringify({ type: 'fetch_videos', generation }) : 'fetch_videos');
    return;
  }
  if (paged) {
    // No socket: refresh, then the count (the page fetches the rows it shows).
    const state = await getJson('/api/refresh', { method: 'POST' }).catch(() => getJson('/api/health'));
    emit('state', { count: Number(state.count) || 0, generation: Number(state.generation) });
    return;
  }
  let items;
  if (isDesktop) {
    items = await invoke('refresh_library');
  } else {
    try {
      await getJson('/api/refresh', { method: 'POST' });
    } catch (err) {
      emit('status', { ok: false, error: { code: err.code || 'error', message: err.message } });
    }
    items = await getJson('/api/videos');
  }
  emit('list', { items: Array.isArray(items) ? items : [], generation: -1 });
}

function wsUrl() {
  const list = paged ? '?list=none' : '';
  if (base) return `${base.replace(/^http/, 'ws')}/ws${list}`;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws${list}`;
}

function setConnection(state, extra = {}) {
  connectionState = state;
  emit('connection', { state, attempts, ...extra });
}

/** The WebSocket's state: "connecting", "open" or "closed". */
export function connection() {
  return connectionState;
}

function handleMessage(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    // A server whose library never loaded may send `"items":}`: that is an empty list.
    const empty = /^\{"type":"media_list","generation":(\d+)/.exec(text);
    if (empty) msg = { type: 'media_list', generation: Number(empty[1]), items: [] };
    else {
      console.warn('api: a WebSocket message that is not JSON was ignored');
      return;
    }
  }
  if (!msg || typeof msg !== 'object') return;
  switch (msg.type) {
    case 'media_list':
      if (msg.paged === true) {
        generation = typeof msg.generation === 'number' ? msg.generation : -1;
        emit('state', { count: typeof msg.count === 'number' ? msg.count : 0, generation });
        return;
      }
      if (!Array.isArray(msg.items)) return;
      // The same generation arrives again on reconnect: nothing to redo then.
      if (typeof msg.generation === 'number' && msg.generation === generation) return;
      generation = typeof msg.generation === 'number' ? msg.generation : -1;
      emit('list', { items: msg.items, generation });
      break;
    case 'library_changed':
      generation = typeof msg.generation === 'number' ? msg.generation : generation;
      emit('changed', {
        added: Array.isArray(msg.added) ? msg.added : [],
        removed: Array.isArray(msg.removed) ? msg.removed : [],
        changed: Array.isArray(msg.changed) ? msg.changed : [],
        generation,
        count: msg.count,
      });
      break;
    case 'status':
      emit('status', { ok: Boolean(msg.ok), error: msg.error || null });
      break;
    case 'scan_progress':
      emit('scan', scanOf(msg));
      break;
    case 'error':
      console.warn('api: the server refused a message:', msg.code, msg.message);
      break;
    default:
      break; // pong and future message types
  }
}

/** A scan progress report with every field a finite number (hostile or missing values: 0). */
export function scanOf(s) {
  const n = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return { running: Boolean(s && s.running), done: n(s && s.done), total: n(s && s.total), failed: n(s && s.failed), fetched_bytes: n(s && s.fetched_bytes) };
}

function scheduleReconnect() {
  clearTimeout(retryTimer);
  const delay = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** Math.min(attempts, 8));
  const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
  attempts += 1;
  setConnection('closed', { retryIn: jittered });
  retryTimer = setTimeout(openSocket, jittered);
}

function openSocket() {
  clearTimeout(retryTimer);
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
  setConnection('connecting');
  let ws;
  try {
    ws = new WebSocket(wsUrl());
  } catch (err) {
    console.warn('api: cannot open the WebSocket', err);
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.onopen = () => {
    attempts = 0;
    // A restarted server counts generations from 1 again: take its first list whatever it says.
    generation = -1;
    setConnection('open');
    clearInterval(pingTimer);
    // Application-level keepalive so proxies that ignore control frames keep the socket.
    pingTimer = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
    }, 25000);
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') handleMessage(ev.data);
  };
  ws.onclose = () => {
    clearInterval(pingTimer);
    if (socket === ws) socket = null;
    scheduleReconnect();
  };
  ws.onerror = () => {
    // onclose follows and schedules the retry.
  };
}

/** Reconnects now instead of waiting for the backoff timer. */
export function reconnect() {
  attempts = 0;
  openSocket();
}

/**
 * Starts the live connection. In the desktop app the list first comes through invoke; in a
 * browser the WebSocket's media_list is the first list, with /api/videos as a fallback when the
 * socket cannot open quickly.
 */
export async function start() {
  if (started) return;
  started = true;
  await mediaBase();
  if (paged) {
    // The WebSocket's first frame says the count; nothing whole is fetched.
  } else if (isDesktop) {
    listLibrary()
      .then((items) => emit('list', { items, generation: -1 }))
      .catch((err) => emit('status', { ok: false, error: { code: 'desktop', message: String(err) } }));
  } else {
    setTimeout(() => {
      if (!paged && generation === -1 && connectionState !== 'open') {
        listLibrary()
          .then((items) => {
            if (generation === -1) emit('list', { items, generation: -1 });
          })
          .catch(() => {}); // the offline state is shown from the connection events
      }
    }, 3000);
  }
  window.addEventListener('online', () => {
    if (connectionState === 'closed') reconnect();
  });
  if (isDesktop) {
    // The desktop settings view restarted the media server (new library, LAN switch or port):
    // take the new media base and the new list (it reconnects the WebSocket itself).
    window.addEventListener('bucketstream:library-changed', (ev) => {
      const next = ev.detail && ev.detail.mediaBase;
      if (typeof next === 'string' && next) base = next.replace(/\/+$/, '');
      if (paged) return; // the reconnected WebSocket brings the new count
      listLibrary()
        .then((items) => emit('list', { items, generation: -1 }))
        .catch((err) => emit('status', { ok: false, error: { code: 'desktop', message: String(err) } }));
    });
  }
  // A phone waking up should not wait out the backoff.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && connectionState === 'closed') reconnect();
  });
  openSocket();
}

/** The api object handed to the desktop settings view. */
export const api = {
  isDesktop,
  on,
  invoke,
  mediaBase,
  mediaUrl,
  artUrl,
  listLibrary,
  pagingMode,
  fetchPage,
  fetchFolders,
  fetchGroups,
  fetchAlbum,
  fetchPosition,
  sendPosition,
  health,
  refresh,
  reconnect,
  connection,
  start,
};
