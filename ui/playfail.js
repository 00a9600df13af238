// playfail.js: why an item cannot play, in words the listener can act on, and the message
// with a download link and a retry button that the player shows in its place. Kept apart from
// player.js so the reasons (the server's HTTP status, a lost connection, a transcode's error
// code) are in one place.

import { h } from './util.js';
import { mediaUrl } from './api.js';
import { ERROR_HELP } from './errors.js';

/**
 * Why `item` failed with the media element's error `err`: a transcode's own error (`stream`,
 * the server's `{code, message}`) when there is one, else what a HEAD of the file says.
 */
export async function failureReason(item, err, stream) {
  if (stream) return ERROR_HELP[stream.code] ? ERROR_HELP[stream.code].join(': ') : `It could not be converted here: ${stream.message}`;
  let why = 'This browser cannot play this file (its format or codec is not supported here).';
  try {
    const resp = await fetch(mediaUrl(item), { method: 'HEAD', cache: 'no-store' });
    if (!resp.ok) why = `The server could not deliver it (HTTP ${resp.status}). S3 may be unreachable; try again shortly.`;
  } catch {
    if (err.code === 2) why = 'The connection to the server was lost while loading it.';
  }
  return why;
}

/** Fills `box` with the failure of `item` (`why`), a download link and a retry button. */
export function showFailure(box, item, why, retry) {
  const link = h('a', { className: 'btn', href: mediaUrl(item), text: 'Download' });
  link.setAttribute('download', item.key.split('/').pop() || item.name);
  const again = h('button', { type: 'button', className: 'btn', text: 'Try again', on: { click: retry } });
  box.replaceChildren(h('strong', { text: `Cannot play “${item.name}”.` }), ' ', h('span', { text: why }), ' ', link, ' ', again);
  box.hidden = false;
  document.body.classList.add('has-error');
}
