-- Bucketstream library database, schema 4 (issue #16): ratings from 1 to 5 (Subsonic
-- `setRating`; 0 there removes one), on an item (by key), an album or an artist (by view id).
-- `getAlbumList2` type `highest` lists albums by theirs.
CREATE TABLE ratings (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('item', 'album', 'artist')),
    target TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, kind, target)
);
