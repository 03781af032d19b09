-- Parley's schema on SQLite. Ids are TEXT (canonical lower-case uuids), times
-- INTEGER unix microseconds UTC, free-form data JSON TEXT, booleans 0/1.
-- Tables are STRICT so a value of the wrong type is refused, not coerced.

CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('agent', 'senior_agent', 'team_lead', 'admin')),
    availability  TEXT    NOT NULL CHECK (availability IN ('online', 'away', 'offline')),
    max_chats     INTEGER NOT NULL DEFAULT 0 CHECK (max_chats >= 0),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX users_name ON users (name, id);

CREATE TABLE sessions (
    id              TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      TEXT    NOT NULL UNIQUE,
    csrf_token      TEXT    NOT NULL DEFAULT '',
    ip              TEXT    NOT NULL DEFAULT '',
    user_agent      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user_id ON sessions (user_id);
-- DeleteExpiredSessions sweeps by whichever expiry comes first.
CREATE INDEX sessions_expiry ON sessions (min(idle_expires_at, expires_at));

CREATE TABLE api_tokens (
    id           TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_tokens_user_id ON api_tokens (user_id, created_at DESC, id DESC);
CREATE INDEX api_tokens_created_at ON api_tokens (created_at DESC, id DESC);

CREATE TABLE customers (
    id         TEXT    PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL DEFAULT '',
    email      TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    ip         TEXT    NOT NULL DEFAULT '',
    location   TEXT    NOT NULL DEFAULT '{}',
    metadata   TEXT    NOT NULL DEFAULT '{}',
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) STRICT;
CREATE INDEX customers_first_seen ON customers (first_seen DESC, id DESC);
CREATE INDEX customers_email ON customers (email, first_seen DESC, id DESC);

CREATE TABLE conversations (
    id                   TEXT    PRIMARY KEY,
    status               TEXT    NOT NULL CHECK (status IN ('waiting', 'active', 'closed')),
    customer_id          TEXT    NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    assignee_id          TEXT    REFERENCES users (id) ON DELETE SET NULL,
    customer_ip          TEXT    NOT NULL DEFAULT '',
    metadata             TEXT    NOT NULL DEFAULT '{}',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    closed_at            INTEGER,
    last_message_at      INTEGER,
    -- The inbox sort key: last_message_at, else created_at.
    activity_at          INTEGER NOT NULL,
    last_seq             INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_customer_seq    INTEGER NOT NULL DEFAULT 0 CHECK (last_customer_seq >= 0),
    last_message_preview TEXT    NOT NULL DEFAULT ''
) STRICT;
-- Every inbox filter shape pages along one of these in (activity_at, id)
-- order, so a page is an index range scan, never a sort of the whole set.
CREATE INDEX conversations_status_activity ON conversations (status, activity_at DESC, id DESC);
CREATE INDEX conversations_assignee_activity ON conversations (assignee_id, activity_at DESC, id DESC);
-- A customer has few conversations: sorting them is cheap, and leaving
-- activity_at out spares every append an index update.
CREATE INDEX conversations_customer ON conversations (customer_id);
CREATE INDEX conversations_created_at ON conversations (created_at DESC);
CREATE INDEX conversations_activity ON conversations (activity_at DESC, id DESC);
-- One open conversation per customer; concurrent starts create exactly one.
CREATE UNIQUE INDEX conversations_customer_open_key ON conversations (customer_id) WHERE status <> 'closed';

-- inbox_counts keeps how many conversations each (status, assignee) pair
-- holds, and how many of them have a customer message, so inbox totals are a
-- sum over a few rows instead of a count over every conversation. Triggers
-- keep it exact inside the transaction that changes a conversation
-- (cascades and SET NULL actions fire them too). '' stands for unassigned.
CREATE TABLE inbox_counts (
    status                 TEXT    NOT NULL,
    assignee_id            TEXT    NOT NULL,
    conversations          INTEGER NOT NULL DEFAULT 0,
    with_customer_messages INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (status, assignee_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO inbox_counts (status, assignee_id, conversations, with_customer_messages)
    VALUES (new.status, coalesce(new.assignee_id, ''), 1, new.last_customer_seq > 0)
    ON CONFLICT (status, assignee_id) DO UPDATE SET
        conversations = conversations + 1,
        with_customer_messages = with_customer_messages + excluded.with_customer_messages;
END;

CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations BEGIN
    UPDATE inbox_counts SET
        conversations = conversations - 1,
        with_customer_messages = with_customer_messages - (old.last_customer_seq > 0)
    WHERE status = old.status AND assignee_id = coalesce(old.assignee_id, '');
END;

CREATE TRIGGER conversations_count_update AFTER UPDATE OF status, assignee_id, last_customer_seq ON conversations
WHEN old.status IS NOT new.status
  OR old.assignee_id IS NOT new.assignee_id
  OR (old.last_customer_seq > 0) <> (new.last_customer_seq > 0)
BEGIN
    UPDATE inbox_counts SET
        conversations = conversations - 1,
        with_customer_messages = with_customer_messages - (old.last_customer_seq > 0)
    WHERE status = old.status AND assignee_id = coalesce(old.assignee_id, '');
    INSERT INTO inbox_counts (status, assignee_id, conversations, with_customer_messages)
    VALUES (new.status, coalesce(new.assignee_id, ''), 1, new.last_customer_seq > 0)
    ON CONFLICT (status, assignee_id) DO UPDATE SET
        conversations = conversations + 1,
        with_customer_messages = with_customer_messages + excluded.with_customer_messages;
END;

CREATE TABLE participants (
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT    NOT NULL,
    user_type       TEXT    NOT NULL CHECK (user_type IN ('customer', 'agent')),
    joined_at       INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    last_read_seq   INTEGER NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    PRIMARY KEY (conversation_id, user_id, user_type)
) STRICT, WITHOUT ROWID;
-- Inbox unread totals walk one viewer's read marks from here.
CREATE INDEX participants_user ON participants (user_id, user_type, conversation_id, last_read_seq);

CREATE TABLE messages (
    id              TEXT    PRIMARY KEY,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    client_msg_id   TEXT,
    sender_id       TEXT,
    sender_type     TEXT    NOT NULL CHECK (sender_type IN ('customer', 'agent', 'system')),
    kind            TEXT    NOT NULL CHECK (kind IN ('text', 'file', 'system', 'note')),
    content         TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    metadata        TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (conversation_id, seq)
) STRICT;
-- The sender's idempotency key. Empty client ids are stored as NULL.
CREATE UNIQUE INDEX messages_client_msg_id_key ON messages (conversation_id, sender_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
CREATE INDEX messages_created_at ON messages (created_at DESC);
-- Unread counts are counts of customer messages past a seq.
CREATE INDEX messages_customer_seq ON messages (conversation_id, seq) WHERE sender_type = 'customer';

CREATE TABLE attachments (
    id              TEXT    PRIMARY KEY,
    message_id      TEXT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The attachment's place in its message, so they read back in the order sent.
    position        INTEGER NOT NULL DEFAULT 0,
    key             TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    type            TEXT    NOT NULL CHECK (type IN ('image', 'document')),
    content_type    TEXT    NOT NULL,
    size            INTEGER NOT NULL CHECK (size >= 0),
    name            TEXT    NOT NULL,
    checksum        TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_message_id ON attachments (message_id, position);
CREATE INDEX attachments_conversation_id ON attachments (conversation_id);

CREATE TABLE transfers (
    id              TEXT    PRIMARY KEY,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    from_agent_id   TEXT    REFERENCES users (id) ON DELETE SET NULL,
    to_agent_id     TEXT    REFERENCES users (id) ON DELETE SET NULL,
    by_user_id      TEXT    REFERENCES users (id) ON DELETE SET NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX transfers_conversation ON transfers (conversation_id, created_at);
-- Deleting a user nulls these references; without indexes that is a scan of every transfer.
CREATE INDEX transfers_from_agent ON transfers (from_agent_id) WHERE from_agent_id IS NOT NULL;
CREATE INDEX transfers_to_agent ON transfers (to_agent_id) WHERE to_agent_id IS NOT NULL;
CREATE INDEX transfers_by_user ON transfers (by_user_id) WHERE by_user_id IS NOT NULL;

CREATE TABLE quick_replies (
    id         TEXT    PRIMARY KEY,
    owner_id   TEXT    REFERENCES users (id) ON DELETE CASCADE,
    shortcut   TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX quick_replies_owner_shortcut_key ON quick_replies (owner_id, shortcut) WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX quick_replies_shared_shortcut_key ON quick_replies (shortcut) WHERE owner_id IS NULL;

CREATE TABLE sop_documents (
    id         TEXT    PRIMARY KEY,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL DEFAULT '',
    tags       TEXT    NOT NULL DEFAULT '[]',
    version    INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_by TEXT    REFERENCES users (id) ON DELETE SET NULL,
    updated_by TEXT    REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sop_documents_title ON sop_documents (title, id);
CREATE INDEX sop_documents_created_by ON sop_documents (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX sop_documents_updated_by ON sop_documents (updated_by) WHERE updated_by IS NOT NULL;
