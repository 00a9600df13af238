// subtitles.js: subtitles for the video player. For each video it asks the server for its tracks
// (files beside it and text tracks inside it: GET /api/items/{id}/subtitles), adds them to the
// <video> as <track> elements whose WebVTT the server converts, and offers them in a captions
// menu in the video view: "Off" and each track by language (keyboard: the menu's arrows, Escape;
// `c` anywhere toggles). The chosen language is remembered (local storage) and picked again for
// the next video that has it. When the player plays a stream that starts later in the film (a
// transcoded seek: `player.offset` seconds, announced by an `offsetchange` event on the media
// element, whose `detail.offset` may carry it too, and checked whenever a new stream loads), the tracks are fetched again with
// `?offset=SECONDS`, so cues stay in step with a `currentTime` that restarted at 0.

import { h, icon, load, save } from './util.js';
import { fetchJson, subtitlesUrl, subtitleUrl } from './api.js';

const PREF = 'subtitles'; // local storage: { lang: 'en' } or { lang: null } (off)

let names = null;
/** A language's name in the reader's language ("English" for `en`), or the code itself. */
function languageName(code) {
  try {
    names = names || new Intl.DisplayNames([navigator.language || 'en', 'en'], { type: 'language' });
    return names.of(code) || code;
  } catch {
    return code;
  }
}

/** What the menu and the <track>'s label say for `info` (a server track). */
export function trackLabel(info) {
  const lang = info.language ? languageName(info.language) : '';
  const own = info.label && info.label.toLowerCase() !== String(info.language || '').toLowerCase() ? info.label : '';
  let text = lang && own ? `${lang} — ${own}` : lang || own || info.id;
  if (info.forced && !/forced/i.test(text)) text += ' (forced)';
  if (info.sdh && !/\bsdh\b/i.test(text)) text += ' (SDH)';
  return text;
}

/** The track of `tracks` to show for a preferred language `lang`: a full track over a forced one. */
export function pick(tracks, lang) {
  if (!lang) return null;
  const base = (code) => String(code || '').split('-')[0];
  const same = tracks.filter((t) => t.info.language === lang);
  const near = same.length ? same : tracks.filter((t) => t.info.language && base(t.info.language) === base(lang));
  return near.find((t) => !t.info.forced) || near[0] || null;
}

export class Subtitles {
  constructor(player) {
    this.player = player;
    this.media = player.media;
    this.item = null;
    this.tracks = []; // [{ info, el }]
    this.offset = 0;
    this.shown = null; // the track showing, or null
    this.last = null; // the track shown before "off" (for `c`)
    this.token = 0;
    this.button = h('button', {
      id: 'cc-btn',
      type: 'button',
      className: 'icon-btn',
      title: 'Subtitles (c)',
      hidden: true,
      attrs: { 'aria-label': 'Subtitles', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': 'cc-menu' },
    });
    this.button.append(icon('captions'));
    this.menu = h('div', { id: 'cc-menu', className: 'cc-menu', hidden: true, attrs: { role: 'menu', 'aria-label': 'Subtitles' } });
    const head = this.player.stage.querySelector('.stage-head');
    const before = document.getElementById('pip-btn');
    head.insertBefore(this.button, before);
    head.append(this.menu);
    this.button.addEventListener('click', () => (this.menu.hidden ? this.openMenu() : this.closeMenu()));
    this.menu.addEventListener('keydown', (ev) => this.menuKey(ev));
    document.addEventListener('click', (ev) => {
      if (!this.menu.hidden && !this.menu.contains(ev.target) && !this.button.contains(ev.target)) this.closeMenu(false);
    });
    // A transcoded stream that starts later: the player says so, or a new stream loads.
    this.media.addEventListener('offsetchange', (ev) => this.syncOffset(ev.detail && ev.detail.offset));
    this.media.addEventListener('loadstart', () => this.syncOffset());
    // The browser turns tracks on by itself when they are added (its automatic selection):
    // the choice made here stands.
    this.media.textTracks.addEventListener('change', () => this.enforce());
  }

  /**
   * Puts the tracks' modes back to the choice (the browser changed them). In fullscreen, where
   * the browser's own controls and captions menu stand in for the page's, their choice is the
   * person's and is taken instead.
   */
  enforce() {
    if (!this.tracks.length) return;
    if (document.fullscreenElement) {
      const on = this.tracks.find((t) => t.el.track.mode === 'showing') || null;
      if (on !== this.shown) this.show(on);
      return;
    }
    for (const t of this.tracks) {
      const want = t === this.shown ? 'showing' : 'disabled';
      if (t.el.track.mode !== want) t.el.track.mode = want;
    }
  }

  /** The subtitles of `item` (none for audio): the list is fetched, the remembered language shown. */
  async load(item) {
    const token = ++this.token;
    this.clear();
    this.item = item;
    this.offset = this.currentOffset();
    if (!item || item.kind !== 'video') return;
    let list = [];
    try {
      list = await fetchJson(subtitlesUrl(item));
    } catch (err) {
      console.warn('no subtitle list', err);
    }
    if (token !== this.token || !Array.isArray(list) || !list.length) return;
    this.tracks = list.map((info) => ({ info, el: this.trackElement(info) }));
    for (const t of this.tracks) this.media.append(t.el);
    this.button.hidden = false;
    const pref = load(PREF, null);
    this.show(pref ? pick(this.tracks, pref.lang) : null, false);
  }

  /** Removes every track (a new item, or nothing loaded). */
  clear() {
    for (const t of this.tracks) {
      t.el.remove();
      forgetBlob(t.el);
    }
    this.tracks = [];
    this.shown = null;
    this.last = null;
    this.button.hidden = true;
    this.button.dataset.on = 'false';
    this.closeMenu(false);
  }

  trackElement(info) {
    const el = h('track', { kind: 'subtitles', label: trackLabel(info) });
    setTrackSrc(el, subtitleUrl(this.item, info.id, this.offset));
    if (info.language) el.srclang = info.language;
    el.dataset.sub = info.id;
    return el;
  }

  /** Shows `track` (null: off), the others disabled; `remember` keeps its language for next time. */
  show(track, remember = true) {
    for (const t of this.tracks) t.el.track.mode = t === track ? 'showing' : 'disabled';
    if (this.shown && !track) this.last = this.shown;
    this.shown = track;
    this.button.dataset.on = String(Boolean(track));
    this.button.title = track ? `Subtitles: ${trackLabel(track.info)} (c)` : 'Subtitles: off (c)';
    if (remember) save(PREF, { lang: track ? track.info.language || null : null });
    this.drawMenu();
  }

  /** `c`: subtitles off, or back on (the last shown, the remembered language, or the first). */
  toggle() {
    if (!this.tracks.length) return false;
    if (this.shown) this.show(null);
    else {
      const pref = load(PREF, null);
      this.show(this.last || pick(this.tracks, pref && pref.lang) || this.tracks[0]);
    }
    return true;
  }

  /** The stream's offset in seconds: `told` (an event's), else the player's, else 0. */
  currentOffset(told) {
    const o = Number(told ?? (this.player.offset || 0));
    return Number.isFinite(o) && o > 0 ? o : 0;
  }

  /** The stream's offset changed: each track is fetched again with the new one (`told`: an event's). */
  syncOffset(told) {
    const offset = this.currentOffset(told);
    if (offset === this.offset || !this.tracks.length) {
      this.offset = offset;
      return;
    }
    this.offset = offset;
    // A new src reloads a track in place (its cues replaced, its mode kept); new elements would
    // let the browser's automatic track selection turn another one on.
    for (const t of this.tracks) setTrackSrc(t.el, subtitleUrl(this.item, t.info.id, offset));
  }

  drawMenu() {
    const entry = (text, track) => {
      const on = this.shown === track;
      return h('button', {
        type: 'button',
        className: 'cc-item',
        text,
        attrs: { role: 'menuitemradio', 'aria-checked': String(on), tabindex: '-1' },
        dataset: { sub: track ? track.info.id : 'off' },
        on: {
          click: () => {
            this.show(track);
            this.closeMenu();
          },
        },
      });
    };
    this.menu.replaceChildren(entry('Off', null), ...this.tracks.map((t) => entry(trackLabel(t.info), t)));
  }

  openMenu() {
    this.drawMenu();
    this.menu.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    const items = [...this.menu.querySelectorAll('.cc-item')];
    (items.find((el) => el.getAttribute('aria-checked') === 'true') || items[0]).focus();
  }

  closeMenu(focusButton = true) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (focusButton) this.button.focus();
  }

  menuKey(ev) {
    const items = [...this.menu.querySelectorAll('.cc-item')];
    const at = items.indexOf(document.activeElement);
    const move = { ArrowDown: 1, ArrowUp: -1 }[ev.key];
    if (move) items[(at + move + items.length) % items.length].focus();
    else if (ev.key === ' ' || ev.key === 'Enter') {
      if (at >= 0) items[at].click();
    } else if (ev.key === 'Home') items[0].focus();
    else if (ev.key === 'End') items[items.length - 1].focus();
    else if (ev.key === 'Escape' || ev.key === 'Tab') this.closeMenu(ev.key === 'Escape');
    else return;
    if (ev.key !== 'Tab') ev.preventDefault();
    ev.stopPropagation();
  }
}

/**
 * Points `el` at `url`. A `<track>` from another origin loads only into a CORS-mode media
 * element; the desktop window's page (tauri://localhost) reads its server at
 * http://127.0.0.1:PORT, so there the text is fetched (the server allows that origin) and the
 * track gets a blob: URL of this page's own. The latest call wins.
 */
function setTrackSrc(el, url) {
  let foreign = false;
  try {
    foreign = new URL(url, document.baseURI).origin !== window.location.origin;
  } catch {
    foreign = false;
  }
  if (!foreign) {
    el.src = url;
    return;
  }
  const ask = (el.srcAsked || 0) + 1;
  el.srcAsked = ask;
  fetch(url, { cache: 'no-store' })
    .then((resp) => (resp.ok ? resp.blob() : Promise.reject(new Error(`HTTP ${resp.status}`))))
    .then((blob) => {
      if (el.srcAsked !== ask) return;
      forgetBlob(el);
      el.blobUrl = URL.createObjectURL(blob);
      el.src = el.blobUrl;
    })
    .catch((err) => console.warn('subtitle track not loaded', url, err));
}

/** Frees the blob: URL `el` was given by setTrackSrc, if any. */
function forgetBlob(el) {
  if (el.blobUrl) URL.revokeObjectURL(el.blobUrl);
  el.blobUrl = null;
}
