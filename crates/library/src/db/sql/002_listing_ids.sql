-- #15: the item id of each listed media object (32 hex characters; NULL for folder art and for
-- rows saved before this migration).
ALTER TABLE listings ADD COLUMN item_id TEXT;
-- #15: the same listing packed into one blob (see db/packed.rs), read at start in one go: a
-- restart serves a 1,000,000-object listing without stepping through a million rows.
CREATE TABLE listing_packs (
    source_id INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
    data BLOB NOT NULL
);
