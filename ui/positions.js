// positions.js: where each item was left, so it resumes there. Kept on the server (the item's
// Subsonic bookmark, /api/items/{id}/position: a phone's bookmark is where the player resumes,
// and a pause here is a bookmark the phone sees), written at most every SERVER_EVERY ms while
// playing and at once when asked (pause, a change of item, the page hiding); and in
// localStorage, which stands in when the server has none or cannot be reached. Of the two, the
// newer wins.

import { load, save, forget } from './util.js';
import { fetchPosition, sendPosition } from './api.js';

export const RESUME_MIN = 3; // seconds: closer to either end than this starts from the top
const SERVER_EVERY = 5000; // ms: the least time between two position saves to the server while playing
const SERVER_WAIT = 3000; // ms: how long the server's position is awaited before the browser's is used

export class Positions {
  constructor() {
    this.remote = { id: null, t: undefined }; // what the server holds, as far as we know
    this.sentAt = 0;
  }

  /**
   * Where to resume `item`, in seconds (null: from the top): the newer of the server's position
   * and this browser's; the browser's alone when the server has none or does not answer within
   * SERVER_WAIT. `current()` says whether `item` is still the one playing.
   */
  async resumePoint(item, current) {
    const saved = load(`pos.${item.id}`, null);
    const local = saved && Number.isFinite(saved.t) ? saved : null;
    let remote;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SERVER_WAIT);
    try {
      const got = await fetchPosition(item.id, abort.signal);
      remote = got && Number.isFinite(got.position_ms) ? { t: got.position_ms / 1000, at: got.changed_ms || 0 } : null;
    } catch {
      remote = undefined; // unknown: the server is not asked to forget what it may hold
    } finally {
      clearTimeout(timer);
    }
    if (current()) this.remote = { id: item.id, t: remote ? remote.t : remote };
    if (remote && !(local && Number.isFinite(local.at) && local.at > remote.at)) return remote.t;
    return local ? local.t : null;
  }

  /**
   * Remembers that item `id` (`len` seconds long) is at `at` seconds: in this browser, and on
   * the server (at once when `now`). Near the top it forgets; near the end it keeps the last
   * position until the item ends.
   */
  store(id, at, len, now) {
    if (at > RESUME_MIN && at < len - RESUME_MIN) {
      const t = Math.round(at * 10) / 10;
      save(`pos.${id}`, { t, d: len, at: Date.now() });
      this.tell(id, t, now);
    } else if (at <= RESUME_MIN) {
      forget(`pos.${id}`);
      this.tell(id, null, now);
    }
  }

  /** Item `id` played to its end: it starts from the top next time, here and on the server. */
  ended(id) {
    forget(`pos.${id}`);
    this.tell(id, null, true);
  }

  /** Saves position `t` (seconds; null forgets) of item `id` on the server when it changed. */
  tell(id, t, now) {
    if (this.remote.id === id && this.remote.t === t) return;
    if (!now && Date.now() - this.sentAt < SERVER_EVERY) return;
    this.sentAt = Date.now();
    this.remote = { id, t };
    const keepalive = document.visibilityState === 'hidden'; // the page may be going away
    sendPosition(id, t === null ? null : t * 1000, { keepalive }).catch(() => {
      // Not saved there (offline, no media library): the browser's copy stands in.
      if (this.remote.id === id && this.remote.t === t) this.remote = { id, t: undefined };
    });
  }
}
