// status.js: what the player says about its state: the connection indicator in the top bar, the
// banner over a stale list (offline, S3 failing), and the full-pane notices for loading, empty,
// error, offline and no-results, each telling the person what to do next, and the progress bar
// of the tag scan. The texts for error codes are generated from the server's ErrorCode enum
// (errors.js).

import { ERROR_HELP } from './errors.js';
import { renderNotice } from './views.js';
import { scanOf } from './api.js';

const $ = (id) => document.getElementById(id);

export class Status {
  constructor({ retry, clearSearch, showAll, refresh }) {
    this.actions = { retry, clearSearch, showAll, refresh };
    this.connection = { state: 'connecting' };
    this.catalog = { ok: true, error: null };
    this.health = null;
    this.countdown = 0;
    this.conn = $('conn');
    this.connText = $('conn-text');
    this.banner = $('banner');
    this.notice = $('notice');
    this.scan = { running: false, done: 0, total: 0, failed: 0, fetched_bytes: 0 };
  }

  /** A scan progress report (api.scanOf shape): the bar shows while it runs. */
  setScan(scan) {
    this.scan = scan;
    const box = $('scan');
    const bar = $('scan-bar');
    if (!scan.running) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const total = Math.max(scan.total, scan.done);
    const done = Math.min(scan.done, total);
    bar.setAttribute('aria-valuemax', String(total));
    bar.setAttribute('aria-valuenow', String(done));
    const text = total
      ? `Reading tags: ${done.toLocaleString()} of ${total.toLocaleString()}${scan.failed ? ` (${scan.failed.toLocaleString()} unreadable)` : ''}`
      : 'Reading tags…';
    bar.setAttribute('aria-valuetext', text);
    bar.style.setProperty('--done', total ? `${((done / total) * 100).toFixed(1)}%` : '0%');
    $('scan-text').textContent = text;
  }

  setConnection(detail) {
    this.connection = detail;
    clearInterval(this.countdown);
    if (detail.state === 'closed' && detail.retryIn) {
      const until = Date.now() + detail.retryIn;
      this.retryAt = until;
      this.countdown = setInterval(() => this.paintConnection(), 1000);
    }
    this.paintConnection();
  }

  setCatalog(status) {
    this.catalog = status;
  }

  setHealth(health) {
    this.health = health;
    if (health) this.catalog = { ok: health.ok, error: health.last_error };
    if (health && health.scan) this.setScan(scanOf(health.scan));
  }

  retrySeconds() {
    return Math.max(0, Math.ceil(((this.retryAt || 0) - Date.now()) / 1000));
  }

  paintConnection() {
    const state = this.connection.state;
    this.conn.dataset.state = state;
    let text = 'Live';
    if (state === 'connecting') text = 'Connecting…';
    else if (state === 'closed') text = `Offline · retry in ${this.retrySeconds()} s`;
    this.connText.textContent = text;
    this.conn.title =
      state === 'open'
        ? 'Connected: the library updates by itself'
        : state === 'closed'
          ? 'Not connected to the server; retrying with backoff'
          : 'Connecting to the server';
  }

  /** Re-evaluates the banner and the notice for the library model and view. */
  paint(library, view) {
    const offline = this.connection.state === 'closed';
    const err = this.catalog && !this.catalog.ok ? this.catalog.error : null;
    const help = err ? ERROR_HELP[err.code] || ['The library could not be refreshed', ''] : null;

    // Banner: the list is shown but may be stale.
    if (library.loaded && library.size > 0 && (offline || err)) {
      this.banner.hidden = false;
      this.banner.dataset.kind = offline ? 'offline' : 'error';
      this.banner.textContent = offline
        ? 'The server is not reachable. Showing the last list; playback of loaded media may continue. Reconnecting…'
        : `${help[0]}. Showing the last good list. ${help[1]}`;
    } else {
      this.banner.hidden = true;
      this.banner.textContent = '';
    }

    let state = null;
    if (!library.loaded && err && !offline) {
      state = { kind: 'error', title: help[0], text: help[1], detail: err.message, actions: [{ label: 'Try again', run: this.actions.refresh }] };
    } else if (!library.loaded) {
      state = offline
        ? {
            kind: 'offline',
            title: 'Cannot reach the Bucketstream server',
            text: 'Check that bucketstream-server is running and that this device is on the same network. Retrying by itself.',
            actions: [{ label: 'Retry now', run: this.actions.retry }],
          }
        : { kind: 'loading', title: 'Loading the library…' };
    } else if (library.size === 0) {
      if (err) {
        state = { kind: 'error', title: help[0], text: help[1], detail: err.message, actions: [{ label: 'Try again', run: this.actions.refresh }] };
      } else if (this.health && this.health.source === 'local') {
        state = {
          kind: 'empty',
          title: 'No media yet',
          text: 'No bucket is configured, and the local folders hold no playable files. Add mp3, m4a, flac, mp4 or webm files there, or start the server with --bucket NAME to play an S3 bucket.',
          detail: this.health.location ? `Folders: ${this.health.location}` : '',
          actions: [{ label: 'Refresh', run: this.actions.refresh }],
        };
      } else {
        state = {
          kind: 'empty',
          title: 'The library is empty',
          text: 'Upload audio or video files (mp3, m4a, flac, mp4, webm…) to the bucket; they appear here by themselves, or press Refresh.',
          detail: this.health && this.health.location ? `Source: ${this.health.location}` : '',
          actions: [{ label: 'Refresh', run: this.actions.refresh }],
        };
      }
    } else if (view.pending) {
      state = { kind: 'loading', title: 'Loading the library…' };
    } else if (view.rows.length === 0 && view.empty && !library.query) {
      state = { kind: 'no-results', title: view.empty.title, text: view.empty.text };
    } else if (view.rows.length === 0) {
      const actions = [];
      if (library.query) actions.push({ label: 'Clear the search', run: this.actions.clearSearch });
      if (library.kind !== 'all') actions.push({ label: 'Show audio and video', run: this.actions.showAll });
      state = {
        kind: 'no-results',
        title: library.query ? `Nothing matches “${library.query}”` : 'Nothing to show here',
        text: library.query ? 'Try fewer words, or search from the top folder.' : 'This folder holds nothing of that kind.',
        actions,
      };
    }
    renderNotice(this.notice, state);
  }
}
