// player.js: playback. One <video> element plays both audio and video; this module binds it to
// the persistent player bar (play/pause, seek bar with buffered ranges, previous/next, volume,
// mute, speed), the video view (fullscreen, picture-in-picture), per-item resume positions and
// the Media Session API (title, artist, album, cover), and turns playback failures into a clear
// message with a download link. Before the media has loaded, the seek bar shows the length the
// library read from the file (duration_ms).
//
// What the browser cannot play as it is plays through /transcode (playpath.js picks direct,
// remux, audio or full transcode). A transcoded stream starts `offset` seconds into the item:
// the seek bar shows the whole length from the metadata and the time is offset + currentTime;
// a seek inside what is buffered is a normal seek, one outside reloads the stream from there.
// `player.offset` is the current offset, and the media element fires `offsetchange`
// ({detail: {offset}}) whenever it changes (subtitles shift their cues by it).
//
// Resume positions are positions.js's (the server's bookmark, or this browser's); a transcode
// starts at the resume point itself, so it waits for it.

import { setIcon, formatTime, load, save, throttle } from './util.js';
import { mediaUrl, serverUrl } from './api.js';
import { Positions, RESUME_MIN } from './positions.js';
import { choosePath, decidePath, fallbackPath, transcodePath, inRanges, browserCaps } from './playpath.js';
import { failureReason, showFailure } from './playfail.js';
import { updateSession, updatePosition } from './mediasession.js';
import { displayTitle } from './groups.js';
import { Subtitles } from './subtitles.js';
import { toggleFullscreen, togglePip, pipUnsupported } from './stage.js';

const $ = (id) => document.getElementById(id);

export class Player {
  constructor({ onEnded, onNext, onPrev, onError, onIdle }) {
    this.media = $('media');
    this.stage = $('video-stage');
    this.item = null;
    this.resuming = false; // until the resume point is decided, no position is stored
    this.resume = Promise.resolve(null);
    this.positions = new Positions();
    this.path = { how: 'direct' };
    this.offset = 0;
    this.streamError = null;
    this.session = Math.random().toString(36).slice(2, 12);
    this.caps = browserCaps();
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
      this.seekTo(Number(e.seek.value));
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
      this.storePosition(true);
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
      if (this.item) this.positions.ended(this.item.id);
      this.callbacks.onEnded();
    });
    m.addEventListener('error', () => this.onMediaError());
    window.addEventListener('pagehide', () => this.storePosition(true));
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.storePosition(true);
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
   * Loads `item`; `autoplay` starts it. A remembered position (the server's, or this browser's)
   * is restored once the metadata is known; a transcode starts there.
   */
  load(item, { autoplay = true } = {}) {
    this.storePosition(true);
    this.item = item;
    save('current', item.id);
    this.hideError();
    this.resuming = true;
    this.resume = this.positions.resumePoint(item, () => this.item === item);
    const m = this.media;
    this.path = choosePath(item, this.caps);
    this.streamError = null;
    if (this.streaming()) this.streamFromResume(item, autoplay);
    else this.setSource(0);
    this.askDecoder(item, autoplay);
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
    if (this.streaming()) return;
    if (autoplay) this.play();
    else m.load();
  }

  /**
   * MediaCapabilities, asked about the path just taken (playpath.js decidePath): when the
   * decoder says it cannot take it, the item switches to a transcode from where it is.
   */
  async askDecoder(item, autoplay) {
    const first = this.path;
    const path = await decidePath(item, this.caps);
    if (this.item !== item || this.path !== first) return;
    if (path.how === first.how && path.mode === first.mode) return;
    this.path = path;
    if (this.resuming) {
      this.streamFromResume(item, autoplay || !this.media.paused);
      return;
    }
    const playing = autoplay || !this.media.paused;
    this.setSource(this.position());
    if (playing) this.play();
    this.syncTime();
  }

  /** Starts the transcode of `item` at its resume point once that is known. */
  async streamFromResume(item, autoplay) {
    this.setOffset(0);
    this.media.removeAttribute('src');
    const t = await this.resume;
    if (this.item !== item || !this.resuming) return;
    this.resuming = false;
    const told = item.duration_ms ? item.duration_ms / 1000 : NaN;
    const start = t !== null && t > RESUME_MIN && !(t > told - RESUME_MIN) ? t : 0;
    this.setSource(start);
    this.syncTime();
    if (autoplay) this.play();
    else this.media.load();
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
    if (this.item) this.seekTo(this.position() + seconds);
  }

  /** Seeks to `seconds` into the item; a transcode outside its buffered part restarts there. */
  seekTo(seconds) {
    const m = this.media;
    const len = this.length();
    if (!this.item || !Number.isFinite(len)) return;
    const t = Math.min(len, Math.max(0, seconds));
    if (!this.streaming()) {
      m.currentTime = t;
      return;
    }
    const rel = t - this.offset;
    const ranges = [];
    for (let i = 0; i < m.buffered.length; i += 1) ranges.push([m.buffered.start(i), m.buffered.end(i)]);
    if (rel >= 0 && inRanges(ranges, rel)) {
      m.currentTime = rel;
      return;
    }
    const playing = !m.paused;
    this.setSource(t);
    if (playing) this.play();
    this.syncTime();
  }

  /** Whether the item plays through /transcode. */
  streaming() {
    return this.path.how === 'transcode';
  }

  /** Seconds into the item. */
  position() {
    return this.offset + (this.media.currentTime || 0);
  }

  /** The item's length: the media's own, or (transcoding, or before it loads) the library's. */
  length() {
    const d = this.media.duration;
    if (!this.streaming() && Number.isFinite(d) && d > 0) return d;
    return this.item && this.item.duration_ms ? this.item.duration_ms / 1000 : NaN;
  }

  /** Points the element at the item (direct, or a transcode from `start` seconds). */
  setSource(start) {
    const item = this.item;
    if (!this.streaming()) {
      this.setOffset(0);
      this.media.src = mediaUrl(item);
      return;
    }
    this.setOffset(start);
    this.media.src = serverUrl(transcodePath(item, this.path.mode, start, this.session));
    this.learnStart(item, transcodePath(item, this.path.mode, start, null), start);
  }

  /**
   * The element cannot read response headers: the same stream asked again (it joins the run,
   * no second ffmpeg) gives X-Start, where the stream's zero really is, or the error.
   */
  async learnStart(item, path, start) {
    const ctl = new AbortController();
    try {
      const resp = await fetch(serverUrl(path), { signal: ctl.signal, cache: 'no-store' });
      if (item !== this.item || this.asked !== start) return;
      if (resp.ok) {
        const x = Number(resp.headers.get('x-start'));
        if (Number.isFinite(x)) this.setOffset(x, start);
      } else {
        const body = await resp.json().catch(() => null);
        this.streamError = body && body.error ? body.error : { code: '', message: `HTTP ${resp.status}` };
      }
    } catch {
      /* the element's own request says what went wrong */
    } finally {
      ctl.abort();
    }
  }

  setOffset(offset, asked = offset) {
    this.asked = asked;
    this.offset = offset;
    this.media.dispatchEvent(new CustomEvent('offsetchange', { detail: { offset } }));
  }

  volumeBy(delta) {
    const m = this.media;
    m.volume = Math.min(1, Math.max(0, Math.round((m.volume + delta) * 100) / 100));
    if (m.volume > 0) m.muted = false;
  }

  toggleMute() {
    this.media.muted = !this.media.muted;
  }

  toggleFullscreen() {
    if (this.item && this.item.kind === 'video') return toggleFullscreen(this.stage, () => this.showStage(true));
    return Promise.resolve();
  }

  togglePip() {
    return togglePip(this.media);
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
    const item = this.item;
    this.resume.then((t) => {
      // Once per load: a later loadedmetadata (a reload after an error) keeps the time it has.
      if (this.item !== item || !this.resuming || this.streaming()) return;
      this.resuming = false;
      if (t !== null && t > RESUME_MIN && t < m.duration - RESUME_MIN) m.currentTime = t;
      this.syncTime();
    });
    this.syncTime();
    this.updateSession();
  }

  /** Remembers where the current item is (positions.js; at once on the server when `now`). */
  storePosition(now = false) {
    const len = this.length();
    if (!this.item || this.resuming || !Number.isFinite(len)) return;
    this.positions.store(this.item.id, this.position(), len, now);
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
    // Until the media says, the length read from the file's tags stands in (not seekable yet);
    // a transcode always shows it (its stream starts at the offset and has no length).
    const d = this.length();
    const known = (this.streaming() || Number.isFinite(m.duration)) && Number.isFinite(d) && d > 0;
    const now = known ? Math.min(d, this.position()) : 0;
    this.els.seek.max = Number.isFinite(d) ? String(d) : '0';
    this.els.seek.disabled = !known;
    this.els.seek.value = String(now);
    this.els.seek.style.setProperty('--played', known ? `${((now / d) * 100).toFixed(2)}%` : '0%');
    this.els.cur.textContent = formatTime(now);
    this.els.dur.textContent = formatTime(d);
    this.els.seek.setAttribute('aria-valuetext', `${formatTime(now)} of ${formatTime(d)}`);
    this.syncBuffered();
    this.updatePosition();
  }

  /** Paints the buffered ranges behind the seek bar. */
  syncBuffered() {
    const m = this.media;
    const d = this.length();
    if (!Number.isFinite(d) || d <= 0) return;
    const stops = [];
    for (let i = 0; i < m.buffered.length; i += 1) {
      const a = (((this.offset + m.buffered.start(i)) / d) * 100).toFixed(2);
      const b = (((this.offset + m.buffered.end(i)) / d) * 100).toFixed(2);
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
    // Once: a guess that failed (direct play without codec metadata, a remux) is transcoded.
    const next = this.triedFallback === item ? null : fallbackPath(item, this.path);
    if (next) {
      this.triedFallback = item;
      this.path = next;
      if (this.resuming && this.streaming()) {
        this.streamFromResume(item, true);
        return;
      }
      this.setSource(this.streaming() ? this.position() : 0);
      this.play();
      return;
    }
    // The element's error says nothing of why: the server's answer does (learnStart may not
    // have had it yet).
    if (this.streaming() && !this.streamError) await this.learnStart(item, transcodePath(item, this.path.mode, this.asked, null), this.asked);
    const why = await failureReason(item, err, this.streaming() && this.streamError);
    if (item !== this.item) return;
    showFailure(this.els.error, item, why, () => this.load(item));
    this.syncPlaying();
    this.callbacks.onError(item, why);
  }

  hideError() {
    this.els.error.hidden = true;
    this.els.error.replaceChildren();
    document.body.classList.remove('has-error');
  }

  /** Media Session: the item's metadata and the transport actions (mediasession.js). */
  updateSession() {
    updateSession(this);
  }

  /** Media Session: the position on the lock screen. */
  updatePosition() {
    updatePosition(this);
  }
}

