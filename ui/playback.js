// playback.js: what plays when, for app.js: an item picked from the list (and the list it was
// picked from, which goes on playing when the queue runs out), "Play album" / "Play all", the
// next item when one ends or Next is pressed (skipping ids that left the library), Previous
// (back to the start first), and the queue's controls in the player bar (shuffle, repeat, the
// "up next" badge). It holds no state of its own besides that list; the queue, the player and
// the view are app.js's.

import { announce, setIcon } from './util.js';

const $ = (id) => document.getElementById(id);

/**
 * The playback actions over app.js's `library`, `queue`, `player` and `view` (LibraryView):
 * {playItem(item), playList(items), playId(id), advance(auto), back(), paintQueueControls()}.
 */
export function playback({ library, queue, player, view }) {
  function playItem(item) {
    if (player.item && player.item.id === item.id) {
      player.play();
      return;
    }
    queue.playNow(item.id);
    // The list it was picked from goes on playing when the queue runs out.
    listContext = library.visibleItems().map((i) => i.id);
    player.load(item);
    view.setCurrent(item.id);
  }

  let listContext = [];

  /** Plays `items` in order: the first now, the others queued right after it. */
  function playList(items) {
    if (!items || !items.length) return;
    const ids = items.map((i) => i.id);
    queue.playNow(ids[0]);
    for (let i = ids.length - 1; i >= 1; i -= 1) queue.playNext(ids[i]);
    listContext = ids;
    player.load(library.get(ids[0]) || items[0]);
    view.setCurrent(ids[0]);
    announce(`Playing ${items.length} track${items.length === 1 ? '' : 's'}`);
  }

  /** The item after the current one in the list it was started from, if any. */
  function nextFromList() {
    const at = player.item ? listContext.indexOf(player.item.id) : -1;
    if (at < 0) return null;
    for (let i = at + 1; i < listContext.length; i += 1) {
      if (library.get(listContext[i]) && !queue.ids.includes(listContext[i])) return listContext[i];
    }
    return null;
  }

  function playId(id) {
    const item = library.get(id);
    if (!item) return false;
    player.load(item);
    view.setCurrent(item.id);
    return true;
  }

  /** Next item; `auto` when the current one ended. Skips ids that left the library. */
  function advance(auto) {
    for (let tries = 0; tries < queue.ids.length + 1; tries += 1) {
      const id = queue.next(auto);
      if (!id) {
        const more = nextFromList();
        if (more) {
          queue.playNow(more);
          playId(more);
        } else if (auto) announce('End of the queue');
        return;
      }
      if (auto && player.item && id === player.item.id) {
        player.seekTo(0);
        player.play();
        return;
      }
      if (playId(id)) return;
    }
  }

  function back() {
    if (player.position() > 3) {
      player.seekTo(0);
      return;
    }
    const id = queue.prev();
    if (id) playId(id);
  }

  function paintQueueControls() {
    const shuffle = $('shuffle-btn');
    shuffle.setAttribute('aria-pressed', String(queue.shuffle));
    const repeat = $('repeat-btn');
    const label = { off: 'Repeat: off', all: 'Repeat: all', one: 'Repeat: one' }[queue.repeat];
    repeat.setAttribute('aria-label', label);
    repeat.title = label;
    repeat.dataset.mode = queue.repeat;
    setIcon(repeat, queue.repeat === 'one' ? 'repeatOne' : 'repeat');
    const badge = $('queue-count');
    const upcoming = queue.ids.length - Math.max(0, queue.index + 1);
    badge.hidden = upcoming <= 0;
    badge.textContent = String(upcoming);
    $('queue-btn').setAttribute('aria-label', upcoming > 0 ? `Queue, ${upcoming} up next` : 'Queue');
  }

  return { playItem, playList, playId, advance, back, paintQueueControls };
}
