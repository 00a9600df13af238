// groups.js: the media library's grouped views computed in the page from the items: albums,
// artists and genres. Groups are kept incrementally (an item added, changed or removed touches
// only its own groups), and each group's summary (name, artist, year, art, track order) is worked
// out again only when one of its items changed, so a scan pushing tags for 100,000 items stays
// cheap. It knows nothing about the DOM.
//
// Album key: the album artist when tagged, else the album's folder (a trailing "CD 1" / "Disc 2"
// folder counts as its parent), with the album name; all case- and accent-insensitive. Tracks of
// one album without an album artist whose artists disagree show as "Various Artists".

/** Case- and accent-insensitive form of `text`, for keys and search. */
export function fold(text) {
  if (typeof text !== 'string' || !text) return '';
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** A string key that sorts like a natural, case- and accent-insensitive name order with `<`. */
export function sortKey(text) {
  return fold(text).replace(/\d+/g, (d) => d.replace(/^0+(?=\d)/, '').padStart(12, '0'));
}

/** The title to show for an item: its tag, falling back to the file name. */
export function displayTitle(item) {
  return item.title || item.name;
}

const sortKeys = new WeakMap();

/** The cached sort key of `item`'s display title. */
export function titleKey(item) {
  let k = sortKeys.get(item);
  if (k === undefined) {
    k = sortKey(displayTitle(item));
    sortKeys.set(item, k);
  }
  return k;
}

/** Compares two items in album order: disc, track, then title. */
export function trackOrder(a, b) {
  const da = a.disc || 1;
  const db = b.disc || 1;
  if (da !== db) return da - db;
  const ta = a.track || Number.MAX_SAFE_INTEGER;
  const tb = b.track || Number.MAX_SAFE_INTEGER;
  if (ta !== tb) return ta - tb;
  return cmpKeys(titleKey(a), titleKey(b)) || cmpKeys(a.id, b.id);
}

/** Plain string comparison (for keys made by sortKey). */
export function cmpKeys(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

const DISC_FOLDER = /\/?(?:cd|disc|disk)[ _-]*\d+$/i;

/** The album key of `item`, or null when it has no album tag (or is not audio). */
export function albumKey(item) {
  if (item.kind !== 'audio' || !item.album) return null;
  const album = fold(item.album);
  if (!album) return null;
  if (item.album_artist && fold(item.album_artist)) return `a:${fold(item.album_artist)}\u0000${album}`;
  return `f:${fold(item.folder.replace(DISC_FOLDER, ''))}\u0000${album}`;
}

/** The artist keys of `item` (its artist and album artist, once each). */
function artistKeys(item) {
  if (item.kind !== 'audio') return [];
  const out = [];
  for (const name of [item.artist, item.album_artist]) {
    const k = fold(name);
    if (k && !out.includes(k)) out.push(k);
  }
  return out;
}

function genreKey(item) {
  return item.kind === 'audio' ? fold(item.genre) || null : null;
}

/** One group: its item ids and a summary worked out again when they change. */
class Group {
  constructor(key) {
    this.key = key;
    this.ids = new Set();
    this.stale = true;
    this.summary = null;
  }
}

export const VARIOUS = 'Various Artists';
export const UNKNOWN_ARTIST = 'Unknown artist';

export class Groups {
  /** `get(id)` returns the current item for an id (the library's map). */
  constructor(get) {
    this.get = get;
    this.albums = new Map();
    this.artists = new Map();
    this.genres = new Map();
    this.keysOf = new Map(); // id -> {album, artists, genre}
    this.sorted = { albums: null, artists: null, genres: null };
  }

  /** Rebuilds every group from `items` (an iterable). */
  rebuild(items) {
    this.albums = new Map();
    this.artists = new Map();
    this.genres = new Map();
    this.keysOf = new Map();
    for (const item of items) this.add(item);
  }

  /** Adds `item` to its groups. */
  add(item) {
    const keys = { album: albumKey(item), artists: artistKeys(item), genre: genreKey(item) };
    if (!keys.album && !keys.artists.length && !keys.genre) return;
    this.keysOf.set(item.id, keys);
    if (keys.album) this.join(this.albums, 'albums', keys.album, item.id);
    for (const k of keys.artists) this.join(this.artists, 'artists', k, item.id);
    if (keys.genre) this.join(this.genres, 'genres', keys.genre, item.id);
  }

  /** Takes the item with `id` out of its groups. */
  remove(id) {
    const keys = this.keysOf.get(id);
    if (!keys) return;
    this.keysOf.delete(id);
    if (keys.album) this.leave(this.albums, 'albums', keys.album, id);
    for (const k of keys.artists) this.leave(this.artists, 'artists', k, id);
    if (keys.genre) this.leave(this.genres, 'genres', keys.genre, id);
  }

  join(map, kind, key, id) {
    let g = map.get(key);
    if (!g) {
      g = new Group(key);
      map.set(key, g);
    }
    g.ids.add(id);
    g.stale = true;
    this.sorted[kind] = null;
  }

  leave(map, kind, key, id) {
    const g = map.get(key);
    if (!g) return;
    g.ids.delete(id);
    g.stale = true;
    if (!g.ids.size) map.delete(key);
    this.sorted[kind] = null;
  }

  items(group) {
    const out = [];
    for (const id of group.ids) {
      const item = this.get(id);
      if (item) out.push(item);
    }
    return out;
  }

  /** The album with `key`: {key, name, artist, year, art, tracks (in order), count, durationMs}. */
  album(key) {
    const g = this.albums.get(key);
    if (!g) return null;
    if (g.stale || !g.summary) {
      const tracks = this.items(g).sort(trackOrder);
      let albumArtist = '';
      let artist = null;
      let agree = true;
      let year = null;
      let art = null;
      let durationMs = 0;
      for (const t of tracks) {
        if (!albumArtist && t.album_artist) albumArtist = t.album_artist;
        if (t.artist) {
          if (artist === null) artist = t.artist;
          else if (fold(artist) !== fold(t.artist)) agree = false;
        }
        if (t.year && (year === null || t.year < year)) year = t.year;
        if (!art && t.art) art = t.art;
        durationMs += t.duration_ms || 0;
      }
      const name = tracks.length ? tracks[0].album : '';
      const shown = albumArtist || (agree ? artist || UNKNOWN_ARTIST : VARIOUS);
      g.summary = { type: 'album', key, name, artist: shown, year, art, tracks, count: tracks.length, durationMs, sk: sortKey(name) };
      g.stale = false;
    }
    return g.summary;
  }

  /** The artist with `key`: {key, name, albums (keys), tracks, count, art}. */
  artist(key) {
    const g = this.artists.get(key);
    if (!g) return null;
    if (g.stale || !g.summary) {
      const tracks = this.items(g);
      let name = '';
      const albums = new Set();
      for (const t of tracks) {
        if (!name) name = fold(t.artist) === key ? t.artist : t.album_artist;
        const a = this.keysOf.get(t.id);
        if (a && a.album) albums.add(a.album);
      }
      g.summary = { type: 'artist', key, name: name || key, albums: [...albums], tracks, count: tracks.length, sk: sortKey(name || key) };
      g.stale = false;
    }
    return g.summary;
  }

  /** The genre with `key`: {key, name, albums (keys), tracks, count}. */
  genre(key) {
    const g = this.genres.get(key);
    if (!g) return null;
    if (g.stale || !g.summary) {
      const tracks = this.items(g);
      const albums = new Set();
      for (const t of tracks) {
        const a = this.keysOf.get(t.id);
        if (a && a.album) albums.add(a.album);
      }
      const name = tracks.length ? tracks[0].genre : key;
      g.summary = { type: 'genre', key, name, albums: [...albums], tracks, count: tracks.length, sk: sortKey(name) };
      g.stale = false;
    }
    return g.summary;
  }

  /** Every summary of `kind` ("albums", "artists", "genres") sorted by name. */
  list(kind) {
    if (this.sorted[kind]) return this.sorted[kind];
    const map = this[kind];
    const one = kind === 'albums' ? (k) => this.album(k) : kind === 'artists' ? (k) => this.artist(k) : (k) => this.genre(k);
    const out = [];
    for (const key of map.keys()) out.push(one(key));
    out.sort((a, b) => cmpKeys(a.sk, b.sk) || cmpKeys(a.key, b.key));
    this.sorted[kind] = out;
    return out;
  }

  /** Albums `keys` as summaries, by year then name. */
  albumsOf(keys) {
    const out = [];
    for (const k of keys) {
      const a = this.album(k);
      if (a) out.push(a);
    }
    return out.sort((a, b) => (a.year || 0) - (b.year || 0) || cmpKeys(a.sk, b.sk));
  }
}
