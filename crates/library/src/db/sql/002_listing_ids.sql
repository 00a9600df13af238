-- #15: the item id of each listed media object (32 hex characters; NULL for folder art and for
-- rows saved before this migration), so a restart serves a 1,000,000-object listing without
-- hashing every key again.
ALTER TABLE listings ADD COLUMN item_id TEXT;
