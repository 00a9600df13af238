-- Bucketstream library database, schema 3 (issue #16): what the listener did, kept across
-- restarts and shared by the player and the Subsonic API. Items are named by (source, key), the
-- same identity item ids are made from, so a restart or a re-scan keeps them.

-- Play counts (Subsonic `scrobble`).
CREATE TABLE plays (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, key)
);

-- Stars: an item (by key), an album or an artist (by their view ids).
CREATE TABLE stars (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('item', 'album', 'artist')),
    target TEXT NOT NULL,
    starred_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, kind, target)
);

-- Bookmarks: where to resume an item (the player's resume positions are the same thing).
CREATE TABLE bookmarks (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    position_ms INTEGER NOT NULL,
    comment TEXT,
    created_ms INTEGER NOT NULL,
    changed_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, key)
);

-- Playlists and their entries, in order (an item may appear more than once).
CREATE TABLE playlists (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    comment TEXT,
    public INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    changed_ms INTEGER NOT NULL
);
CREATE TABLE playlist_entries (
    playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (playlist_id, pos)
);
