// app.js: the player's entry point. It wires the api (list, live changes, scan progress,
// connection), the library model and its virtualized view, the navigation between the sections
// (Folders, Songs, Albums, Artists, Genres, Videos) and their pages (an album, an artist, a
// genre: each a history entry), the queue, the player bar, the status messages, the keyboard
// shortcuts and, in the desktop app only, the settings view owned by ui/desktop/.
//
// Above the server's paging threshold (lan.paging_threshold, 5,000 items by default) the model
// is paged.js's PagedLibrary instead of library.js's Library: the same interface, with the
// list paged, searched and grouped on the server. The choice is made once, before the first
// paint, from /api/health (the desktop's library_state).

import { api, on, isDesktop } from './api.js';
import { Library, SORTS, SECTIONS } from './library.js';
import { PagedLibrary } from './paged.js';
import { LibraryView, renderCrumbs, renderPageHead } from './views.js';
import { displayTitle } from './groups.js';
import { Queue, QueuePanel } from './queue.js';
import { Player } from './player.js';
import { playback } from './playback.js';
import { Status } from './status.js';
import { bindKeys } from './keys.js';
import { setManage, openManage } from './manage.js';
import { mountUploads } from './uploads.js';
import { icon, load, save, announce } from './util.js';

const $ = (id) => document.getElementById(id);

// Static icons named in the markup.
for (const el of document.querySelectorAll('[data-icon]')) el.prepend(icon(el.dataset.icon));

const prefs = load('view', {});
const mode = await api.pagingMode();
const library = mode.paged ? new PagedLibrary(onLibraryChange) : new Library(onLibraryChange);
document.body.dataset.paged = String(mode.paged);
library.sort = SORTS[prefs.sort] ? prefs.sort : 'name-asc';
library.kind = ['all', 'audio', 'video'].includes(prefs.kind) ? prefs.kind : 'all';
{
  const start = navFromHash();
  library.section = start.section;
  library.folder = start.folder;
  library.page = start.page;
}
let userMode = prefs.mode === 'grid' ? 'grid' : 'list'; // the Layout toggle (Folders only)

const status = new Status({
  retry: () => api.reconnect(),
  clearSearch: () => setQuery(''),
  showAll: () => setKind('all'),
  refresh: () => refresh(),
});

const view = new LibraryView($('library'), {
  play: (item) => playItem(item),
  playNext: (item) => {
    queue.playNext(item.id);
    announce(`“${displayTitle(item)}” plays next`);
  },
  enqueue: (item) => {
    queue.enqueue(item.id);
    announce(`“${displayTitle(item)}” added to the queue`);
  },
  manage: (item, btn) => openManage(item, btn),
  open: (path) => openFolder(path),
  openGroup: (type, summary) => {
    // The row that opened the page goes away: focus moves to the page's "Play" button.
    focusHead = true;
    navigate({ section: `${type}s`, page: { type, key: summary.key } });
  },
  showFolder: () => library.query !== '' || library.folder === '',
  // Paged mode: the rows in view, so that only their pages are fetched.
  range: (first, last) => {
    if (library.setRange) library.setRange(first, last);
  },
});
view.setMode(modeFor());

const queue = new Queue(() => {
  panel.render();
  paintQueueControls();
});
const panel = new QueuePanel($('queue-panel'), queue, library, { play: (id) => playId(id) });

const player = new Player({
  onEnded: () => advance(true),
  onNext: () => advance(false),
  onPrev: () => back(),
  onError: () => {},
  // Play with nothing loaded: start the first item of the list on screen.
  onIdle: () => {
    const first = library.visibleItems()[0];
    if (first) playItem(first);
  },
});
const { playItem, playList, playId, advance, back, paintQueueControls } = playback({ library, queue, player, view });

// ---- library -------------------------------------------------------------------------------

let restored = false;
let paintFrame = 0;
let keepScroll = true;
let pendingMeasure = false; // a list arrived: measure list -> rows drawn (read by the perf test)

let refreshFrame = 0;

function onLibraryChange(reason, detail) {
  if (reason === 'page') {
    // A fetched page landed (paged mode): only its placeholder rows are redrawn.
    if (!refreshFrame) {
      refreshFrame = requestAnimationFrame(() => {
        refreshFrame = 0;
        view.refresh();
        view.setCurrent(player.item ? player.item.id : null);
      });
    }
    return;
  }
  if (reason === 'view') keepScroll = false;
  if (reason === 'delta' && detail) {
    // Tags filling in during a scan are not worth a word each time; files coming and going are.
    const parts = [];
    if (detail.added) parts.push(`${detail.added} added`);
    if (detail.removed) parts.push(`${detail.removed} removed`);
    if (parts.length) announce(`Library updated: ${parts.join(', ')}`);
  }
  if (reason !== 'view') {
    queue.prune((id) => library.get(id) !== undefined);
    // The playing item's tags may have just been read: the player bar and Media Session follow.
    const fresh = player.item && library.get(player.item.id);
    if (fresh) player.update(fresh);
  }
  schedulePaint();
}

function schedulePaint() {
  if (paintFrame) return;
  paintFrame = requestAnimationFrame(() => {
    paintFrame = 0;
    paint();
  });
}

let shownRows = null;
let shownCrumbs = null;
let shownHead;
let focusHead = false;

/** The layout of the current view: the toggle's in Folders, covers for albums and videos. */
function modeFor() {
  if (library.section === 'folders') return userMode;
  return !library.page && (library.section === 'albums' || library.section === 'videos') ? 'grid' : 'list';
}

function coverFor() {
  if (library.page) return null;
  return library.section === 'albums' ? 'square' : library.section === 'videos' ? 'wide' : null;
}

function paint() {
  const rows = library.rows();
  // Status and connection changes repaint the notices only; the rows are redrawn when they change.
  if (rows !== shownRows) {
    shownRows = rows;
    view.setMode(modeFor());
    view.setRows(rows.rows, keepScroll, rows.style, coverFor());
  }
  if (pendingMeasure) {
    pendingMeasure = false;
    try {
      performance.measure('bs:list-rendered', 'bs:list-received');
    } catch {
      /* marks unavailable */
    }
  }
  keepScroll = true;
  view.setCurrent(player.item ? player.item.id : null);
  const crumbs = library.crumbs();
  const crumbKey = `${hashOf(library)}\u0000${crumbs.map((c) => c.name).join('\u0000')}`;
  if (shownCrumbs !== crumbKey) {
    shownCrumbs = crumbKey;
    renderCrumbs($('crumbs'), crumbs, (nav) => navigate(nav));
    paintSections();
  }
  const group = library.pageGroup();
  if (shownHead !== group) {
    shownHead = group;
    renderPageHead($('page-head'), group, () => {
      const g = library.pageGroup();
      if (g) playList(g.tracks);
    });
  }
  if (focusHead) {
    focusHead = false;
    const btn = document.querySelector('#page-head .play-all');
    if (btn && !btn.disabled) btn.focus();
  }
  let text = rows.counts;
  if (rows.searching) text += ` matching, of ${library.size.toLocaleString()}`;
  $('counts').textContent = library.loaded ? text : '';
  // The search the rows on screen answer (paged mode: the previous one until the next lands).
  $('counts').dataset.query = rows.query !== undefined ? rows.query : library.query;
  status.paint(library, rows);
  document.body.dataset.loaded = String(library.loaded);
  if (library.loaded && !restored) restoreSession();
}

/** Opens a folder; each one is a history entry (#folder=...), so Back goes up again. */
function openFolder(path) {
  navigate({ section: 'folders', folder: path });
}

/**
 * The address of a view state: "" (the top of Folders), #folder=PATH, #songs, #albums, …, or
 * #album=KEY, #artist=KEY, #genre=KEY for a page.
 */
function hashOf({ section, folder, page }) {
  if (page) return `#${page.type}=${encodeURIComponent(page.key)}`;
  if (section === 'folders') return folder ? `#folder=${encodeURIComponent(folder)}` : '';
  return `#${section}`;
}

/** The view state named in the address; the top of Folders when it names nothing known. */
function navFromHash() {
  const m = /^#([a-z]+)(?:=(.*))?$/.exec(location.hash);
  const top = { section: 'folders', folder: '', page: null };
  if (!m) return top;
  let value = '';
  try {
    value = m[2] === undefined ? '' : decodeURIComponent(m[2]);
  } catch {
    return top;
  }
  if (m[1] === 'folder') return { ...top, folder: value };
  if (['album', 'artist', 'genre'].includes(m[1]) && value) return { section: `${m[1]}s`, folder: '', page: { type: m[1], key: value } };
  if (SECTIONS[m[1]] && m[2] === undefined) return { ...top, section: m[1] };
  return top;
}

/**
 * Goes to a section, a folder or a page: each is a history entry, so Back returns and a reload
 * stays put.
 */
function navigate(nav, fromHistory = false) {
  const next = {
    section: SECTIONS[nav.section] ? nav.section : 'folders',
    folder: nav.section === 'folders' ? nav.folder || '' : library.folder,
    page: nav.page || null,
  };
  const hash = hashOf(next);
  if (!fromHistory && hash !== hashOf(library)) {
    history.pushState(null, '', hash || `${location.pathname}${location.search}`);
  }
  library.set(next);
  if (next.section === 'folders') announce(next.folder ? `Folder ${next.folder}` : 'Library top');
  else {
    const group = library.pageGroup();
    announce(group ? group.name : SECTIONS[next.section]);
  }
}

/** The section buttons and the toolbar controls that apply to the view shown. */
function paintSections() {
  for (const btn of document.querySelectorAll('button[data-section]')) {
    if (btn.dataset.section === library.section) btn.setAttribute('aria-current', library.page ? 'true' : 'page');
    else btn.removeAttribute('aria-current');
  }
  const folders = library.section === 'folders';
  document.querySelector('.segmented[aria-label="Show"]').hidden = !folders;
  document.querySelector('.segmented[aria-label="Layout"]').hidden = !folders;
  document.querySelector('.sort').hidden = library.page !== null && library.page.type === 'album';
  document.body.dataset.section = library.section;
}

window.addEventListener('popstate', () => navigate(navFromHash(), true));

let queryTimer = 0;
function setQuery(text) {
  const input = $('search');
  if (input.value !== text) input.value = text;
  clearTimeout(queryTimer);
  library.set({ query: text.trim() });
}

function setKind(kind) {
  for (const btn of document.querySelectorAll('[data-kind]')) btn.setAttribute('aria-pressed', String(btn.dataset.kind === kind));
  library.set({ kind });
  savePrefs();
}

function savePrefs() {
  save('view', { sort: library.sort, kind: library.kind, mode: userMode });
}

async function refresh() {
  const btn = $('refresh-btn');
  btn.classList.add('spinning');
  try {
    await api.refresh();
    announce('Refreshing the library');
  } catch (err) {
    announce(`Refresh failed: ${err.message}`);
  } finally {
    setTimeout(() => btn.classList.remove('spinning'), 600);
  }
}

// ---- playback ------------------------------------------------------------------------------
// What plays when (an item, a list, next, previous) and the queue's controls: playback.js.

/** After a reload: the last item comes back, paused at its remembered position. */
function restoreSession() {
  restored = true;
  const id = load('current', null);
  const item = id && library.get(id);
  if (!item || player.item) return;
  if (queue.currentId !== id) queue.playNow(id);
  player.load(item, { autoplay: false });
  view.setCurrent(id);
}

// ---- controls ------------------------------------------------------------------------------

$('search').addEventListener('input', (ev) => {
  clearTimeout(queryTimer);
  const text = ev.target.value;
  // Instant for short lists; a short pause while typing keeps 10,000 items responsive.
  // Paged: the server searches, so wait for a pause in the typing (150 ms) before asking.
  const pause = library.paged ? 150 : library.size > 2000 ? 60 : 0;
  queryTimer = setTimeout(() => library.set({ query: text.trim() }), pause);
});
for (const btn of document.querySelectorAll('[data-kind]')) btn.addEventListener('click', () => setKind(btn.dataset.kind));
for (const btn of document.querySelectorAll('[data-view]')) {
  btn.setAttribute('aria-pressed', String(btn.dataset.view === userMode));
  btn.addEventListener('click', () => {
    for (const b of document.querySelectorAll('[data-view]')) b.setAttribute('aria-pressed', String(b === btn));
    userMode = btn.dataset.view;
    view.setMode(modeFor());
    savePrefs();
  });
}
for (const btn of document.querySelectorAll('[data-kind]')) btn.setAttribute('aria-pressed', String(btn.dataset.kind === library.kind));
const sort = $('sort');
for (const [value, { label }] of Object.entries(SORTS)) sort.append(new Option(label, value, false, value === library.sort));
sort.addEventListener('change', () => {
  library.set({ sort: sort.value });
  savePrefs();
});
$('refresh-btn').addEventListener('click', () => refresh());
for (const btn of document.querySelectorAll('button[data-section]')) {
  btn.addEventListener('click', () => navigate({ section: btn.dataset.section, folder: '' }));
}
$('queue-btn').addEventListener('click', () => panel.toggle());
$('shuffle-btn').addEventListener('click', () => {
  queue.toggleShuffle();
  announce(queue.shuffle ? 'Shuffle on' : 'Shuffle off');
});
$('repeat-btn').addEventListener('click', () => {
  queue.cycleRepeat();
  announce($('repeat-btn').title);
});
paintQueueControls();

bindKeys({
  player,
  next: () => advance(false),
  prev: () => back(),
  focusSearch: () => {
    const input = $('search');
    input.focus();
    input.select();
  },
  clearSearch: () => setQuery(''),
  closePanels: () => {
    if (!$('queue-panel').hidden) panel.toggle(false);
  },
});

// ---- api -----------------------------------------------------------------------------------

on('list', ({ items }) => {
  performance.mark('bs:list-received');
  pendingMeasure = true;
  library.replace(items);
});
on('changed', (delta) => library.apply(delta));
on('state', (state) => {
  if (library.setState) library.setState(state);
});
on('scan', (scan) => status.setScan(scan));
on('status', (s) => {
  status.setCatalog(s);
  if (s.ok) api.health().then((h) => { status.setHealth(h); setManage(h); }).catch(() => {});
  schedulePaint();
});
on('connection', (detail) => {
  status.setConnection(detail);
  if (detail.state === 'open' && !isDesktop) {
    api.health().then((h) => {
      status.setHealth(h);
      setManage(h);
      schedulePaint();
    }).catch(() => {});
  }
  schedulePaint();
});

// ---- desktop app only ----------------------------------------------------------------------

async function mountDesktopSettings() {
  const section = $('desktop-settings');
  const btn = $('settings-btn');
  btn.hidden = false;
  btn.addEventListener('click', () => {
    section.hidden = !section.hidden;
    btn.setAttribute('aria-expanded', String(!section.hidden));
  });
  try {
    const mod = await import('./desktop/settings.js');
    await mod.mount(section, api);
    // The settings view may show itself (e.g. on first run); the button follows its state.
    btn.setAttribute('aria-expanded', String(!section.hidden));
  } catch (err) {
    console.warn('desktop settings are not available', err);
  }
}

document.body.dataset.desktop = String(isDesktop);
setManage(null);
if (isDesktop) mountDesktopSettings();
// Upload controls appear only where /api/health grants permissions.upload.
mountUploads({ folder: () => library.folder });
paint();
api.start().catch((err) => {
  console.error('cannot start', err);
  status.setConnection({ state: 'closed', retryIn: 0 });
  schedulePaint();
});

// The mobile queue sheet sits right above the player bar, whatever height the bar has.
new ResizeObserver(([entry]) => {
  document.documentElement.style.setProperty('--player-h', `${Math.ceil(entry.target.getBoundingClientRect().height)}px`);
}).observe($('player'));
