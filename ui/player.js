// player.js: playback. One <video> element plays both audio and video; this module binds it to
// the persistent player bar (play/pause, seek bar with buffered ranges, previous/next, volume,
// mute, speed), the video view (fullscreen, picture-in-picture), per-item resume positions and
// the Media Session API (title, artist, album, cover), and turns playback failures into a clear
// message with a download link. Before the media has loaded, the seek bar shows the length the
// library read from the file (duration_ms). Subtitles are subtitles.js's.

import { h, setIcon, formatTime, load, save, forget, throttle } from './util.js';
import { mediaUrl, artUrl } from './api.js';
import { displayTitle } from './groups.js';
import { Subtitles } from './subtitles.js';

const $ = (id) => document.getElementById(id);
const RESUME_MIN = 3; // seconds: closer to either end than this starts from the top

export class Player {
  constructor({ onEnded, onNext, onPrev, onError, onIdle }) {
    this.media = $('media');
    this.stage = $('video-stage');
    this.item = null;
    this.pendingSeek = null;
    this.stageHidden = false;
    this.callbacks = { onEnded, onNext, onPrev, onError, onIdle };
    this.els = {
      play: $('play-btn'),
      prev: $('prev-btn'),
      next: $('next-btn'),
      seek: $('seek'),
      buffered: $('buffered'),
      cur: $('time-cur'),
      dur: $('time-dur'),
      mute: $('mute-btn'),
      volume: $('volume'),
      speed: $('speed'),
      pip: $('pip-btn'),
      fullscreen: $('fullscreen-btn'),
      title: $('now-title'),
      sub: $('now-sub'),
      now: $('now-btn'),
      error: $('player-error'),
      stageTitle: $('stage-title'),
      minimize: $('stage-minimize'),
    };
    const settings = load('settings', {});
    this.media.volume = Number.isFinite(settings.volume) ? Math.min(1, Math.max(0, settings.volume)) : 1;
    this.media.muted = Boolean(settings.muted);
    this.els.volume.value = String(Math.round(this.media.volume * 100));
    this.els.speed.value = String(settings.speed || 1);
    this.savePosition = throttle(() => this.storePosition(), 1000);
    this.bind();
    this.subtitles = new Subtitles(this);
    this.syncVolume();
    this.syncPlaying();
  }

  bind() {
    const m = this.media;
    const e = this.els;
    e.play.addEventListener('click', () => {
      if (!this.toggle() && this.callbacks.onIdle) this.callbacks.onIdle();
    });
    e.prev.addEventListener('click', () => this.callbacks.onPrev());
    e.next.addEventListener('click', () => this.callbacks.onNext());
    e.seek.addEventListener('input', () => {
      if (!Number.isFinite(m.duration)) return;
      m.currentTime = Number(e.seek.value);
      this.syncTime();
    });
    e.mute.addEventListener('click', () => this.toggleMute());
    e.volume.addEventListener('input', () => {
      m.volume = Number(e.volume.value) / 100;
      if (m.volume > 0) m.muted = false;
    });
    e.speed.addEventListener('change', () => {
      m.playbackRate = Number(e.speed.value) || 1;
      this.storeSettings();
    });
    e.pip.addEventListener('click', () => this.togglePip());
    e.fullscreen.addEventListener('click', () => this.toggleFullscreen());
    e.now.addEventListener('click', () => {
      if (this.item && this.item.kind === 'video') this.showStage(this.stageHidden);
    });
    e.minimize.addEventListener('click', () => this.showStage(false));
    m.addEventListener('play', () => this.syncPlaying());
    m.addEventListener('pause', () => {
      this.syncPlaying();
      this.storePosition();
    });
    m.addEventListener('playing', () => this.hideError());
    m.addEventListener('timeupdate', () => {
      this.syncTime();
      this.savePosition();
    });
    m.addEventListener('durationchange', () => this.syncTime());
    m.addEventListener('progress', () => this.syncBuffered());
    m.addEventListener('seeked', () => {
      this.syncBuffered();
      this.storePosition();
    });
    m.addEventListener('volumechange', () => {
      this.syncVolume();
      this.storeSettings();
    });
    m.addEventListener('loadedmetadata', () => this.onMetadata());
    m.addEventListener('ended', () => {
      if (this.item) forget(`pos.${this.item.id}`);
      this.callbacks.onEnded();
    });
    m.addEventListener('error', () => this.onMediaError());
    window.addEventListener('pagehide', () => this.storePosition());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.storePosition();
    });
    if (!document.pictureInPictureEnabled) e.pip.dataset.unsupported = 'true';
    document.addEventListener('fullscreenchange', () => {
      const full = Boolean(document.fullscreenElement);
      e.fullscreen.setAttribute('aria-pressed', String(full));
      e.fullscreen.setAttribute('aria-label', full ? 'Leave fullscreen' : 'Fullscreen');
      // The player bar is outside the fullscreen view: the browser's own controls stand in.
      m.controls = full;
    });
  }

  /**
   * Loads `item`; `autoplay` starts it. A remembered position is restored once the metadata is
   * known.
   */
  load(item, { autoplay = true } = {}) {
    this.storePosition();
    this.item = item;
    save('current', item.id);
    this.hideError();
    const saved = load(`pos.${item.id}`, null);
    this.pendingSeek = saved && Number.isFinite(saved.t) ? saved.t : null;
    const m = this.media;
    m.src = mediaUrl(item);
    m.playbackRate = Number(this.els.speed.value) || 1;
    m.defaultPlaybackRate = m.playbackRate;
    this.showText(item);
    this.subtitles.load(item);
    this.els.now.disabled = item.kind !== 'video';
    this.els.pip.hidden = item.kind !== 'video' || pipUnsupported(this.els.pip);
    this.els.fullscreen.hidden = item.kind !== 'video';
    if (item.kind === 'video') this.showStage(!this.stageHidden);
    else this.showStage(false, true);
    this.syncTime();
    this.els.buffered.style.background = '';
    this.updateSession();
    if (autoplay) this.play();
    else m.load();
  }

  /** The title, artist and album of `item` in the player bar, the video view and the tab. */
  showText(item) {
    const title = displayTitle(item);
    const tags = [item.artist, item.album].filter(Boolean).join(' — ');
    this.els.title.textContent = title;
    this.els.sub.textContent = tags || item.folder || (item.kind === 'audio' ? 'Audio' : 'Video');
    this.els.stageTitle.textContent = title;
    document.title = `${title} · Bucketstream`;
  }

  /**
   * A newer version of the loaded item (its tags were read while it played): the texts, the
   * known length and the Media Session follow; playback is not touched.
   */
  update(item) {
    if (!this.item || item.id !== this.item.id || item === this.item) return;
    this.item = item;
    this.showText(item);
    this.syncTime();
    this.updateSession();
  }

  /** Leaves nothing loaded (the current item vanished from a restored session). */
  unload() {
    this.item = null;
    this.subtitles.clear();
    this.media.removeAttribute('src');
    this.media.load();
    this.showStage(false, true);
    this.els.title.textContent = 'Nothing playing';
    this.els.sub.textContent = 'Pick something from the library';
    document.title = 'Bucketstream';
  }

  play() {
    const p = this.media.play();
    if (p && p.catch) {
      p.catch((err) => {
        // A browser that wants a gesture first: stay paused, the play button is ready.
        if (err && err.name !== 'NotAllowedError' && err.name !== 'AbortError') console.warn('play failed', err);
        this.syncPlaying();
      });
    }
  }

  toggle() {
    if (!this.item) return false;
    if (this.media.paused) this.play();
    else this.media.pause();
    return true;
  }

  seekBy(seconds) {
    const m = this.media;
    if (!this.item || !Number.isFinite(m.duration)) return;
    m.currentTime = Math.min(m.duration, Math.max(0, m.currentTime + seconds));
  }

  seekTo(seconds) {
    const m = this.media;
    if (Number.isFinite(m.duration)) m.currentTime = Math.min(m.duration, Math.max(0, seconds));
  }

  volumeBy(delta) {
    const m = this.media;
    m.volume = Math.min(1, Math.max(0, Math.round((m.volume + delta) * 100) / 100));
    if (m.volume > 0) m.muted = false;
  }

  toggleMute() {
    this.media.muted = !this.media.muted;
  }

  async toggleFullscreen() {
    if (!this.item || this.item.kind !== 'video') return;
    try {
      if (document.fullscreenElement) await document.exitFullscreen();
      else {
        this.showStage(true);
        await this.stage.requestFullscreen();
      }
    } catch (err) {
      console.warn('fullscreen refused', err);
    }
  }

  async togglePip() {
    try {
      if (document.pictureInPictureElement) await document.exitPictureInPicture();
      else await this.media.requestPictureInPicture();
    } catch (err) {
      console.warn('picture-in-picture refused', err);
    }
  }

  /** Shows or hides the video view. */
  showStage(show, auto = false) {
    this.stage.hidden = !show;
    if (!auto) this.stageHidden = !show;
    document.body.classList.toggle('has-video', show);
    this.els.now.title = show ? 'Now playing' : 'Now playing: show the video';
    if (this.item && this.item.kind === 'video') this.els.now.setAttribute('aria-expanded', String(show));
    else this.els.now.removeAttribute('aria-expanded');
  }

  onMetadata() {
    const m = this.media;
    const t = this.pendingSeek;
    this.pendingSeek = null;
    if (t !== null && t > RESUME_MIN && t < m.duration - RESUME_MIN) m.currentTime = t;
    this.syncTime();
    this.updateSession();
  }

  storePosition() {
    const m = this.media;
    if (!this.item || this.pendingSeek !== null || !Number.isFinite(m.duration)) return;
    if (m.currentTime > RESUME_MIN && m.currentTime < m.duration - RESUME_MIN) {
      save(`pos.${this.item.id}`, { t: Math.round(m.currentTime * 10) / 10, d: m.duration, at: Date.now() });
    } else if (m.currentTime <= RESUME_MIN) {
      forget(`pos.${this.item.id}`);
    }
  }

  storeSettings() {
    save('settings', { volume: this.media.volume, muted: this.media.muted, speed: Number(this.els.speed.value) || 1 });
  }

  syncPlaying() {
    const playing = !this.media.paused && !this.media.ended;
    setIcon(this.els.play, playing ? 'pause' : 'play');
    this.els.play.setAttribute('aria-label', playing ? 'Pause' : 'Play');
    this.els.play.title = playing ? 'Pause (space)' : 'Play (space)';
    document.body.classList.toggle('is-playing', playing);
    if ('mediaSession' in navigator) navigator.mediaSession.playbackState = playing ? 'playing' : 'paused';
  }

  syncTime() {
    const m = this.media;
    const d = m.duration;
    const known = Number.isFinite(d) && d > 0;
    // Until the media says, the length read from the file's tags stands in (not seekable yet).
    const told = this.item && this.item.duration_ms ? this.item.duration_ms / 1000 : NaN;
    const shown = known ? d : told;
    this.els.seek.max = known ? String(d) : Number.isFinite(told) ? String(told) : '0';
    this.els.seek.disabled = !known;
    this.els.seek.value = known ? String(m.currentTime) : '0';
    this.els.seek.style.setProperty('--played', known ? `${((m.currentTime / d) * 100).toFixed(2)}%` : '0%');
    this.els.cur.textContent = formatTime(known ? m.currentTime : 0);
    this.els.dur.textContent = formatTime(shown);
    this.els.seek.setAttribute('aria-valuetext', `${formatTime(known ? m.currentTime : 0)} of ${formatTime(shown)}`);
    this.syncBuffered();
    this.updatePosition();
  }

  /** Paints the buffered ranges behind the seek bar. */
  syncBuffered() {
    const m = this.media;
    const d = m.duration;
    if (!Number.isFinite(d) || d <= 0) return;
    const stops = [];
    for (let i = 0; i < m.buffered.length; i += 1) {
      const a = ((m.buffered.start(i) / d) * 100).toFixed(2);
      const b = ((m.buffered.end(i) / d) * 100).toFixed(2);
      stops.push(`transparent ${a}%, var(--buffered) ${a}%, var(--buffered) ${b}%, transparent ${b}%`);
    }
    this.els.buffered.style.background = stops.length ? `linear-gradient(to right, ${stops.join(', ')})` : '';
  }

  syncVolume() {
    const m = this.media;
    const silent = m.muted || m.volume === 0;
    setIcon(this.els.mute, silent ? 'mute' : 'volume');
    this.els.mute.setAttribute('aria-label', silent ? 'Unmute' : 'Mute');
    this.els.mute.setAttribute('aria-pressed', String(m.muted));
    this.els.mute.title = silent ? 'Unmute (m)' : 'Mute (m)';
    this.els.volume.value = String(Math.round((m.muted ? 0 : m.volume) * 100));
    this.els.volume.setAttribute('aria-valuetext', `${Math.round(m.volume * 100)}%${m.muted ? ', muted' : ''}`);
  }

  async onMediaError() {
    const item = this.item;
    const err = this.media.error;
    if (!item || !err || !this.media.getAttribute('src')) return;
    let why = 'This browser cannot play this file (its format or codec is not supported here).';
    try {
      const resp = await fetch(mediaUrl(item), { method: 'HEAD', cache: 'no-store' });
      if (!resp.ok) why = `The server could not deliver it (HTTP ${resp.status}). S3 may be unreachable; try again shortly.`;
    } catch {
      if (err.code === 2) why = 'The connection to the server was lost while loading it.';
    }
    if (item !== this.item) return;
    const link = h('a', { className: 'btn', href: mediaUrl(item), text: 'Download' });
    link.setAttribute('download', item.key.split('/').pop() || item.name);
    const retry = h('button', { type: 'button', className: 'btn', text: 'Try again', on: { click: () => this.load(item) } });
    this.els.error.replaceChildren(
      h('strong', { text: `Cannot play “${item.name}”.` }),
      ' ',
      h('span', { text: why }),
      ' ',
      link,
      ' ',
      retry,
    );
    this.els.error.hidden = false;
    document.body.classList.add('has-error');
    this.syncPlaying();
    this.callbacks.onError(item, why);
  }

  hideError() {
    this.els.error.hidden = true;
    this.els.error.replaceChildren();
    document.body.classList.remove('has-error');
  }

  /**
   * Media Session: title, artist, album and artwork (the cover at 300 and 1000 px, else the
   * app's icon), and the transport actions (media keys, lock screen). Untagged files show their
   * folder instead.
   */
  updateSession() {
    if (!('mediaSession' in navigator) || !this.item) return;
    const s = navigator.mediaSession;
    const item = this.item;
    const artwork = item.art
      ? [300, 1000].map((n) => ({ src: new URL(artUrl(item.art, n), document.baseURI).href, sizes: `${n}x${n}` }))
      : [{ src: new URL('icon.svg', document.baseURI).href, sizes: '512x512', type: 'image/svg+xml' }];
    try {
      s.metadata = new MediaMetadata({
        title: displayTitle(item),
        artist: item.artist || item.album_artist || item.folder || 'Bucketstream',
        album: item.album || (item.folder ? item.folder.split('/').pop() : 'Library'),
        artwork,
      });
    } catch {
      /* MediaMetadata missing */
    }
    if (this.sessionBound) return;
    this.sessionBound = true;
    const set = (action, fn) => {
      try {
        s.setActionHandler(action, fn);
      } catch {
        /* action unsupported */
      }
    };
    set('play', () => this.play());
    set('pause', () => this.media.pause());
    set('previoustrack', () => this.callbacks.onPrev());
    set('nexttrack', () => this.callbacks.onNext());
    set('seekbackward', (d) => this.seekBy(-(d.seekOffset || 10)));
    set('seekforward', (d) => this.seekBy(d.seekOffset || 10));
    set('seekto', (d) => this.seekTo(d.seekTime));
  }

  updatePosition() {
    const m = this.media;
    if (!('mediaSession' in navigator) || !navigator.mediaSession.setPositionState) return;
    if (!Number.isFinite(m.duration) || m.duration <= 0) return;
    try {
      navigator.mediaSession.setPositionState({
        duration: m.duration,
        playbackRate: m.playbackRate || 1,
        position: Math.min(m.currentTime, m.duration),
      });
    } catch {
      /* ignore */
    }
  }
}

/** True when picture-in-picture is not available here. */
function pipUnsupported(pipButton) {
  return pipButton.dataset.unsupported === 'true';
}
