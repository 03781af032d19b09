-- Attachments' companions: thumbnails made once from image attachments, and
-- the keys of blobs no row refers to any more, which a sweep deletes from
-- the blob store (on disk the bytes live outside the database, so a cascade
-- cannot reach them; the triggers below record every key a delete orphans,
-- cascades included, in the same transaction).

CREATE TABLE thumbnails (
    attachment_id uuid        PRIMARY KEY REFERENCES attachments (id) ON DELETE CASCADE,
    key           text        NOT NULL,
    content_type  text        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size          bigint      NOT NULL CHECK (size >= 0),
    width         integer     NOT NULL CHECK (width > 0),
    height        integer     NOT NULL CHECK (height > 0),
    created_at    timestamptz NOT NULL
);

CREATE TABLE blob_garbage (
    key      text        PRIMARY KEY,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blob_garbage_added_at ON blob_garbage (added_at);

CREATE FUNCTION blob_garbage_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO blob_garbage (key) VALUES (old.key) ON CONFLICT (key) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER attachments_blob_garbage AFTER DELETE ON attachments
    FOR EACH ROW EXECUTE FUNCTION blob_garbage_add();
CREATE TRIGGER thumbnails_blob_garbage AFTER DELETE ON thumbnails
    FOR EACH ROW EXECUTE FUNCTION blob_garbage_add();

-- Blobs kept in the database (PARLEY_BLOBS=postgres), so every node sees
-- them. A blob is a row and its bytes in chunks of at most 256 KiB, written
-- and read one chunk at a time; complete turns true only once every chunk
-- is in, and Open sees only complete blobs. A write that stops half-way is
-- deleted by its writer, or by the sweep of stale incomplete blobs after a
-- crash.
CREATE TABLE blobs (
    key        uuid        PRIMARY KEY,
    size       bigint      NOT NULL DEFAULT 0 CHECK (size >= 0),
    complete   boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blobs_incomplete ON blobs (created_at) WHERE NOT complete;

CREATE TABLE blob_chunks (
    key  uuid    NOT NULL REFERENCES blobs (key) ON DELETE CASCADE,
    n    integer NOT NULL CHECK (n >= 0),
    data bytea   NOT NULL,
    PRIMARY KEY (key, n)
);
-- Attachments are mostly compressed already (images, PDF, zip): storing the
-- chunks out of line without compression saves the CPU of trying.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
