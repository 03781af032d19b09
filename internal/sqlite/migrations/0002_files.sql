-- Attachments' companions: thumbnails made once from image attachments, and
-- the keys of blobs no row refers to any more, which a sweep deletes from
-- the blob store (the bytes live outside the database, so a cascade cannot
-- reach them; the triggers below record every key a delete orphans, cascades
-- included, in the same transaction).

CREATE TABLE thumbnails (
    attachment_id TEXT    PRIMARY KEY REFERENCES attachments (id) ON DELETE CASCADE,
    key           TEXT    NOT NULL,
    content_type  TEXT    NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size          INTEGER NOT NULL CHECK (size >= 0),
    width         INTEGER NOT NULL CHECK (width > 0),
    height        INTEGER NOT NULL CHECK (height > 0),
    created_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE blob_garbage (
    key      TEXT    PRIMARY KEY,
    added_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX blob_garbage_added_at ON blob_garbage (added_at);

CREATE TRIGGER attachments_blob_garbage AFTER DELETE ON attachments BEGIN
    INSERT INTO blob_garbage (key, added_at)
    VALUES (old.key, CAST(unixepoch('subsec') * 1000000 AS INTEGER))
    ON CONFLICT (key) DO NOTHING;
END;

CREATE TRIGGER thumbnails_blob_garbage AFTER DELETE ON thumbnails BEGIN
    INSERT INTO blob_garbage (key, added_at)
    VALUES (old.key, CAST(unixepoch('subsec') * 1000000 AS INTEGER))
    ON CONFLICT (key) DO NOTHING;
END;
