-- Full-text search. Words are split in Go (parley.Tokenize) so that SQLite
-- and PostgreSQL index exactly the same words; FTS5's ascii tokenizer keeps
-- those words as they are. The FTS tables are contentless (the text stays in
-- messages and customers) and keep no positions (detail=none): phrases are
-- checked in Go on the candidates.
--
-- FTS rows are numbered by message_search.docid and customer_search.docid,
-- explicit integer keys that VACUUM never renumbers (an implicit rowid may
-- change). Deleting a message or a customer, directly or by cascade,
-- deletes its docid row, whose trigger deletes the FTS row, in the same
-- transaction. Inserting is the store's job, in the transaction that writes
-- the message or the customer, since the words come from Go.

CREATE TABLE message_search (
    docid      INTEGER PRIMARY KEY,
    message_id TEXT    NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE
) STRICT;

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    words, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);

CREATE TRIGGER message_search_delete AFTER DELETE ON message_search BEGIN
    DELETE FROM messages_fts WHERE rowid = old.docid;
END;

CREATE TABLE customer_search (
    docid       INTEGER PRIMARY KEY,
    customer_id TEXT    NOT NULL UNIQUE REFERENCES customers (id) ON DELETE CASCADE
) STRICT;

CREATE VIRTUAL TABLE customers_fts USING fts5 (
    words, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);

CREATE TRIGGER customer_search_delete AFTER DELETE ON customer_search BEGIN
    DELETE FROM customers_fts WHERE rowid = old.docid;
END;

-- Every word ever indexed, so a prefix is expanded into the words it
-- starts (parley.SearchTerm.Words): FTS5 answers an OR of whole words as
-- it walks its posting lists, where a prefix query first gathers every
-- posting of every matching word. Words stay when their rows go; a stale
-- word only finds nothing.
CREATE TABLE search_words (
    word TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Exports walk conversations by (created_at, id), a page at a time.
CREATE INDEX conversations_created_id ON conversations (created_at, id);
