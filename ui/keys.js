// keys.js: keyboard shortcuts for the whole page.
//
//   space        play / pause (anywhere but text fields and menus)
//   ← / →        seek back / forward 5 s (shift: 30 s)
//   ↑ / ↓        volume up / down (outside lists and menus, where arrows move the selection)
//   /            search        n / p  next / previous        f  fullscreen        m  mute
//   c            subtitles on / off (a video with subtitles)
//   Escape       clears the search when in it; closes the queue panel otherwise
//   ?            shows this list
//
// Shortcuts never fire while a modifier key (Ctrl, Alt, Meta) is held, so browser and system
// shortcuts keep working.

import { h } from './util.js';

const SEEK_STEP = 5;
const SEEK_BIG = 30;
const VOLUME_STEP = 0.05;

/** True when `el` takes typed text (so letters and space belong to it). */
function typing(el) {
  if (!el) return false;
  if (el.isContentEditable) return true;
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  if (el.tagName !== 'INPUT') return false;
  return !['range', 'checkbox', 'radio', 'button', 'submit', 'reset'].includes(el.type);
}

/** True when `el` uses the arrow keys itself (sliders, selects, the library rows). */
function usesArrows(el) {
  if (!el) return false;
  if (typing(el)) return true;
  if (el.tagName === 'INPUT' && el.type === 'range') return true;
  return Boolean(el.closest && el.closest('.layer, .queue-list, [role="listbox"], [role="menu"]'));
}

/**
 * Installs the shortcuts. `ctx` has {player, next(), prev(), focusSearch(), clearSearch(),
 * closePanels()}.
 */
export function bindKeys(ctx) {
  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.altKey || ev.metaKey) return;
    const target = ev.target instanceof Element ? ev.target : null;
    const { player } = ctx;

    if (ev.key === 'Escape') {
      if (target && target.id === 'search') {
        ctx.clearSearch();
        target.blur();
      } else {
        ctx.closePanels();
      }
      return;
    }
    if (typing(target)) return;

    switch (ev.key) {
      case ' ':
      case 'Spacebar':
      case 'k':
        if (player.toggle()) ev.preventDefault();
        break;
      case 'ArrowLeft':
      case 'ArrowRight': {
        if (target && target.tagName === 'INPUT' && target.type === 'range') return;
        const step = ev.shiftKey ? SEEK_BIG : SEEK_STEP;
        player.seekBy(ev.key === 'ArrowLeft' ? -step : step);
        ev.preventDefault();
        break;
      }
      case 'ArrowUp':
      case 'ArrowDown':
        if (usesArrows(target)) return;
        player.volumeBy(ev.key === 'ArrowUp' ? VOLUME_STEP : -VOLUME_STEP);
        ev.preventDefault();
        break;
      case '/':
        ctx.focusSearch();
        ev.preventDefault();
        break;
      case 'n':
      case 'N':
        ctx.next();
        break;
      case 'p':
      case 'P':
        ctx.prev();
        break;
      case 'f':
      case 'F':
        player.toggleFullscreen();
        break;
      case 'm':
      case 'M':
        player.toggleMute();
        break;
      case 'c':
      case 'C':
        if (player.subtitles && player.subtitles.toggle()) ev.preventDefault();
        break;
      case '?':
        showHelp();
        ev.preventDefault();
        break;
      default:
        break;
    }
  });
}

/** The shortcut list as [keys, what] pairs (for a help view or the README). */
export const SHORTCUTS = [
  ['Space', 'Play or pause'],
  ['← →', 'Seek 5 seconds (Shift: 30)'],
  ['↑ ↓', 'Volume'],
  ['/', 'Search'],
  ['N / P', 'Next / previous'],
  ['F', 'Fullscreen (video)'],
  ['M', 'Mute'],
  ['C', 'Subtitles on or off'],
  ['Esc', 'Clear the search or close the queue'],
  ['?', 'This list'],
];

/** Opens the list of shortcuts in a modal dialog (Esc or the button closes it). */
export function showHelp() {
  let dialog = document.getElementById('shortcuts');
  if (!dialog) {
    const rows = SHORTCUTS.map(([keys, what]) => h('tr', {}, h('th', { scope: 'row' }, h('kbd', { text: keys })), h('td', { text: what })));
    const close = h('button', { type: 'button', className: 'btn', text: 'Close' });
    dialog = h(
      'dialog',
      { id: 'shortcuts', className: 'shortcuts', attrs: { 'aria-labelledby': 'shortcuts-title' } },
      h('h2', { id: 'shortcuts-title', text: 'Keyboard shortcuts' }),
      h('table', {}, h('tbody', {}, rows)),
      h('p', { className: 'notice-actions' }, close),
    );
    close.addEventListener('click', () => dialog.close());
    dialog.addEventListener('click', (ev) => {
      if (ev.target === dialog) dialog.close(); // a click on the backdrop
    });
    document.body.append(dialog);
  }
  if (!dialog.open) dialog.showModal();
  return dialog;
}

/** Seek step in seconds (exported for tests and the help text). */
export const STEPS = { seek: SEEK_STEP, big: SEEK_BIG, volume: VOLUME_STEP };
