-- Bucketstream library database, schema 1 (issue #13).
-- Sources are named by their identity (s3://bucket/prefix, a local folder); records, listings
-- and their rows refer to them by a small integer so that 1,000,000 rows do not repeat it.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE
);

-- What was read from one object version: (source, key) holds one version, and a lookup with
-- another ETag or size is a miss. ItemMeta is kept as columns so searches and grouped queries
-- (albums, artists, genres, paging) can use indexes.
CREATE TABLE records (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    etag TEXT,
    size INTEGER NOT NULL,
    title TEXT,
    artist TEXT,
    album TEXT,
    album_artist TEXT,
    track INTEGER,
    disc INTEGER,
    year INTEGER,
    genre TEXT,
    duration_ms INTEGER,
    width INTEGER,
    height INTEGER,
    art TEXT,
    bitrate_kbps INTEGER,
    sample_rate INTEGER,
    channels INTEGER,
    video_codec TEXT,
    audio_codec TEXT,
    art_hash TEXT,
    error TEXT,
    fetched_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source_id, key)
);
CREATE INDEX records_artist ON records (artist COLLATE NOCASE);
CREATE INDEX records_album_artist ON records (album_artist COLLATE NOCASE);
CREATE INDEX records_album ON records (album COLLATE NOCASE);
CREATE INDEX records_genre ON records (genre COLLATE NOCASE);
CREATE INDEX records_art_hash ON records (art_hash);

-- Pictures, by the SHA-256 of their original bytes, with their JPEG copies.
CREATE TABLE art (
    hash TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    original BLOB NOT NULL,
    small BLOB NOT NULL,
    large BLOB
);

-- The last successful listing of each source, in listing order.
CREATE TABLE listings (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT,
    modified_s INTEGER,
    modified_ns INTEGER,
    PRIMARY KEY (source_id, pos)
);
CREATE TABLE listing_saves (
    source_id INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    saved_ms INTEGER NOT NULL
);
