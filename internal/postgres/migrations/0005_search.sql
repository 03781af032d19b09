-- Full-text search. Words are split in Go (parley.Tokenize) so that
-- PostgreSQL and SQLite index exactly the same words: the store passes them
-- as an array and array_to_tsvector takes them as lexemes as they are, with
-- no parser, dictionary or locale in between (the same as the 'simple'
-- configuration would give for them, without its parser's notions of
-- emails, URLs or hyphenated words). Positions are not kept: phrases are
-- checked in Go on the candidates.
--
-- The search column is written by the statement that inserts or updates the
-- row, so the index is always in step with it, and goes with the row when
-- it is deleted (cascades included). Rows stored before this migration are
-- indexed by the store, in this migration's transaction.

ALTER TABLE messages ADD COLUMN search tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX messages_search ON messages USING gin (search);

ALTER TABLE customers ADD COLUMN search tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX customers_search ON customers USING gin (search);

-- Every word ever indexed, so a prefix is expanded into the words it
-- starts (parley.SearchTerm.Words): GIN answers an OR of whole lexemes from
-- their entries, where a prefix match first gathers every posting of every
-- matching lexeme. Byte order ("C"), so a prefix is a range. Words are
-- added before the rows that use them (see learnWords) and stay when the
-- rows go; a stale word only finds nothing.
CREATE TABLE search_words (
    word text COLLATE "C" PRIMARY KEY
);

-- Exports walk conversations by (created_at, id), a page at a time.
CREATE INDEX conversations_created_id ON conversations (created_at, id);
