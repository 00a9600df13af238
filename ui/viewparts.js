// viewparts.js: what views.js draws around the library list: the breadcrumb, the head of an
// album, artist or genre page, the notices (loading, empty, error, offline, no results), and the
// small pieces the list shares with them (a cover <img>, "12 tracks", a placeholder's hue).
// views.js re-exports renderCrumbs, renderNotice, renderPageHead and artImage under their
// names. As there, every tag goes in as text and images come only from the server's /art/ paths.

import { h, icon, formatDuration } from './util.js';
import { artUrl } from './api.js';

/** An <img> of the art at `path` (one of the server's /art/ paths), at `size` px. */
export function artImage(path, size) {
  const img = h('img', { className: 'art', alt: '', src: artUrl(path, size) });
  img.setAttribute('loading', 'lazy');
  img.setAttribute('decoding', 'async');
  return img;
}

/** "1 track", "12 tracks". */
export function count(n, word) {
  return `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
}

/** A stable hue from an id, for the grid's placeholder artwork. */
export function hue(id) {
  let n = 0;
  for (let i = 0; i < 6 && i < id.length; i += 1) n = (n * 31 + id.charCodeAt(i)) % 360;
  return n;
}

/** Fills the breadcrumb list `ol` from Library.crumbs(); `open(nav)` goes to a crumb. */
export function renderCrumbs(ol, crumbs, open) {
  ol.replaceChildren();
  crumbs.forEach((crumb, i) => {
    const last = i === crumbs.length - 1;
    const btn = h('button', { type: 'button', className: 'crumb', text: crumb.name, on: { click: () => open(crumb.nav) } });
    if (i === 0) btn.prepend(icon('home', 18));
    if (last) btn.setAttribute('aria-current', 'page');
    ol.append(h('li', {}, btn));
  });
}

/**
 * Shows a state message in `box` (loading, empty, error, offline, no results), or hides it when
 * `state` is null. `actions` are [{label, run}] buttons.
 */
export function renderNotice(box, state) {
  // The same notice again (paints come with every connection attempt): leave it alone, so its
  // buttons stay put under the pointer and the keyboard focus.
  const key = state ? JSON.stringify([state.kind, state.title, state.text, state.detail, (state.actions || []).map((a) => a.label)]) : '';
  if (box.dataset.shown === key && (state ? !box.hidden : box.hidden)) return;
  box.dataset.shown = key;
  if (!state) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  box.dataset.kind = state.kind;
  const buttons = (state.actions || []).map((a) =>
    h('button', { type: 'button', className: 'btn', text: a.label, on: { click: a.run } }),
  );
  const parts = [
    h('p', { className: 'notice-title', text: state.title }),
    state.text ? h('p', { className: 'notice-text', text: state.text }) : null,
    state.detail ? h('p', { className: 'notice-detail', text: state.detail }) : null,
    buttons.length ? h('p', { className: 'notice-actions' }, buttons) : null,
  ];
  box.replaceChildren(...parts.filter(Boolean));
}

/**
 * The head of an album, artist or genre page in `box`: cover, name, artist and length, and a
 * "Play album" / "Play all" button calling `play(items)`; hidden when `group` is null.
 */
export function renderPageHead(box, group, play) {
  if (!group) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  box.dataset.type = group.type;
  const art = h('span', { className: `page-art kind ${group.type}` });
  if (group.art) art.append(artImage(group.art, 300));
  else art.append(icon(group.type, 40));
  art.style.setProperty('--hue', String(hue(group.key)));
  const meta = [];
  if (group.type === 'album') {
    meta.push(group.artist);
    if (group.year) meta.push(String(group.year));
    meta.push(count(group.count, 'track'));
    if (group.durationMs) meta.push(formatDuration(group.durationMs));
  } else {
    meta.push(count(group.albums.length, 'album'), count(group.count, 'track'));
  }
  const label = group.type === 'album' ? 'Play album' : 'Play all';
  const tracks = group.tracks;
  const btn = h('button', { type: 'button', className: 'btn primary play-all', on: { click: () => play(tracks) } }, icon('play', 20), label);
  btn.disabled = tracks.length === 0;
  const kind = { album: 'Album', artist: 'Artist', genre: 'Genre' }[group.type];
  box.replaceChildren(
    art,
    h(
      'div',
      { className: 'page-text' },
      h('p', { className: 'page-kind', text: kind }),
      h('h2', { className: 'page-title', text: group.name }),
      h('p', { className: 'page-meta', text: meta.join(' · ') }),
      h('p', { className: 'page-actions' }, btn),
    ),
  );
}
