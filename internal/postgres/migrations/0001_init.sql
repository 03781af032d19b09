-- Parley's schema on PostgreSQL. Ids are uuid, times timestamptz (microsecond
-- precision, as the domain keeps them), free-form data jsonb.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('agent', 'senior_agent', 'team_lead', 'admin')),
    availability  text        NOT NULL CHECK (availability IN ('online', 'away', 'offline')),
    max_chats     integer     NOT NULL DEFAULT 0 CHECK (max_chats >= 0),
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE sessions (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      text        NOT NULL,
    csrf_token      text        NOT NULL DEFAULT '',
    ip              text        NOT NULL DEFAULT '',
    user_agent      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    idle_expires_at timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX sessions_user_id ON sessions (user_id);
-- DeleteExpiredSessions sweeps by whichever expiry comes first.
CREATE INDEX sessions_expiry ON sessions ((least(idle_expires_at, expires_at)));

CREATE TABLE api_tokens (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    token_hash   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE customers (
    id         uuid        PRIMARY KEY,
    token_hash text        NOT NULL,
    name       text        NOT NULL DEFAULT '',
    email      text        NOT NULL DEFAULT '',
    user_agent text        NOT NULL DEFAULT '',
    ip         text        NOT NULL DEFAULT '',
    location   jsonb       NOT NULL DEFAULT '{}',
    metadata   jsonb       NOT NULL DEFAULT '{}',
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    CONSTRAINT customers_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX customers_first_seen ON customers (first_seen DESC, id DESC);
CREATE INDEX customers_email ON customers (email, first_seen DESC, id DESC);

CREATE TABLE conversations (
    id                   uuid        PRIMARY KEY,
    status               text        NOT NULL CHECK (status IN ('waiting', 'active', 'closed')),
    customer_id          uuid        NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    assignee_id          uuid        REFERENCES users (id) ON DELETE SET NULL,
    customer_ip          text        NOT NULL DEFAULT '',
    metadata             jsonb       NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    closed_at            timestamptz,
    last_message_at      timestamptz,
    -- The inbox sort key: last_message_at, else created_at.
    activity_at          timestamptz NOT NULL,
    last_seq             bigint      NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_customer_seq    bigint      NOT NULL DEFAULT 0 CHECK (last_customer_seq >= 0),
    last_message_preview text        NOT NULL DEFAULT ''
);
-- Every inbox filter shape pages along one of these in (activity_at, id)
-- order, so a page is an index range scan, never a sort of the whole set.
CREATE INDEX conversations_status_activity ON conversations (status, activity_at DESC, id DESC);
CREATE INDEX conversations_assignee_activity ON conversations (assignee_id, activity_at DESC, id DESC);
CREATE INDEX conversations_customer_activity ON conversations (customer_id, activity_at DESC, id DESC);
CREATE INDEX conversations_created_at ON conversations (created_at DESC);
CREATE INDEX conversations_activity ON conversations (activity_at DESC, id DESC);
-- One open conversation per customer; concurrent starts create exactly one.
CREATE UNIQUE INDEX conversations_customer_open_key ON conversations (customer_id) WHERE status <> 'closed';

CREATE TABLE participants (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid        NOT NULL,
    user_type       text        NOT NULL CHECK (user_type IN ('customer', 'agent')),
    joined_at       timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    last_read_seq   bigint      NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    PRIMARY KEY (conversation_id, user_id, user_type)
);
-- Inbox totals join the viewer's read marks from here without touching the heap.
CREATE INDEX participants_user ON participants (user_id, user_type, conversation_id) INCLUDE (last_read_seq);

CREATE TABLE messages (
    id              uuid        PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint      NOT NULL CHECK (seq > 0),
    client_msg_id   text,
    sender_id       uuid,
    sender_type     text        NOT NULL CHECK (sender_type IN ('customer', 'agent', 'system')),
    kind            text        NOT NULL CHECK (kind IN ('text', 'file', 'system', 'note')),
    content         text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT messages_conversation_seq_key UNIQUE (conversation_id, seq)
);
-- The sender's idempotency key. Empty client ids are stored as NULL.
CREATE UNIQUE INDEX messages_client_msg_id_key ON messages (conversation_id, sender_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
CREATE INDEX messages_created_at ON messages (created_at DESC);
-- Unread counts are counts of customer messages past a seq.
CREATE INDEX messages_customer_seq ON messages (conversation_id, seq) WHERE sender_type = 'customer';

CREATE TABLE attachments (
    id              uuid        PRIMARY KEY,
    message_id      uuid        NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The attachment's place in its message, so they read back in the order sent.
    position        smallint    NOT NULL DEFAULT 0,
    key             text        NOT NULL,
    url             text        NOT NULL,
    type            text        NOT NULL CHECK (type IN ('image', 'document')),
    content_type    text        NOT NULL,
    size            bigint      NOT NULL CHECK (size >= 0),
    name            text        NOT NULL,
    checksum        text        NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX attachments_message_id ON attachments (message_id, position);
CREATE INDEX attachments_conversation_id ON attachments (conversation_id);

CREATE TABLE transfers (
    id              uuid        PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    from_agent_id   uuid        REFERENCES users (id) ON DELETE SET NULL,
    to_agent_id     uuid        REFERENCES users (id) ON DELETE SET NULL,
    by_user_id      uuid        REFERENCES users (id) ON DELETE SET NULL,
    reason          text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX transfers_conversation ON transfers (conversation_id, created_at);
-- Deleting a user nulls these references; without indexes that is a scan of every transfer.
CREATE INDEX transfers_from_agent ON transfers (from_agent_id) WHERE from_agent_id IS NOT NULL;
CREATE INDEX transfers_to_agent ON transfers (to_agent_id) WHERE to_agent_id IS NOT NULL;
CREATE INDEX transfers_by_user ON transfers (by_user_id) WHERE by_user_id IS NOT NULL;

CREATE TABLE quick_replies (
    id         uuid        PRIMARY KEY,
    owner_id   uuid        REFERENCES users (id) ON DELETE CASCADE,
    shortcut   text        NOT NULL,
    text       text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX quick_replies_owner_shortcut_key ON quick_replies (owner_id, shortcut) WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX quick_replies_shared_shortcut_key ON quick_replies (shortcut) WHERE owner_id IS NULL;

CREATE TABLE sop_documents (
    id         uuid        PRIMARY KEY,
    title      text        NOT NULL,
    body       text        NOT NULL DEFAULT '',
    tags       text[]      NOT NULL DEFAULT '{}',
    version    integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    updated_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
