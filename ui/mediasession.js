// mediasession.js: the Media Session API for the player (title, artist, album, cover on the
// lock screen and in the OS media controls; media keys; the position). Split from player.js;
// each function takes the Player.

import { artUrl } from './api.js';
import { displayTitle } from './groups.js';

/**
 * Media Session: title, artist, album and artwork (the cover at 300 and 1000 px, else the
 * app's icon), and the transport actions (media keys, lock screen). Untagged files show their
 * folder instead.
 */
export function updateSession(player) {
  if (!('mediaSession' in navigator) || !player.item) return;
  const s = navigator.mediaSession;
  const item = player.item;
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
  if (player.sessionBound) return;
  player.sessionBound = true;
  const set = (action, fn) => {
    try {
      s.setActionHandler(action, fn);
    } catch {
      /* action unsupported */
    }
  };
  set('play', () => player.play());
  set('pause', () => player.media.pause());
  set('previoustrack', () => player.callbacks.onPrev());
  set('nexttrack', () => player.callbacks.onNext());
  set('seekbackward', (d) => player.seekBy(-(d.seekOffset || 10)));
  set('seekforward', (d) => player.seekBy(d.seekOffset || 10));
  set('seekto', (d) => player.seekTo(d.seekTime));
}

export function updatePosition(player) {
  const m = player.media;
  if (!('mediaSession' in navigator) || !navigator.mediaSession.setPositionState) return;
  const d = player.length();
  if (!Number.isFinite(d) || d <= 0) return;
  try {
    navigator.mediaSession.setPositionState({
      duration: d,
      playbackRate: m.playbackRate || 1,
      position: Math.min(player.position(), d),
    });
  } catch {
    /* ignore */
  }
}
