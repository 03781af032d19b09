-- The agents' workflow: round-robin assignment, the times reports need,
-- satisfaction ratings, kept versions of SOP documents and their pins.

-- Round-robin: the agent assigned a conversation longest ago goes next.
ALTER TABLE users ADD COLUMN last_assigned_at INTEGER;
CREATE INDEX users_round_robin ON users (last_assigned_at, id) WHERE disabled = 0 AND availability = 'online';

-- Reports: when a conversation left the queue and who took it first, and
-- when and by whom the first agent reply came. Plain ids, not references:
-- a report keeps counting an agent whose account was deleted.
ALTER TABLE conversations ADD COLUMN first_assigned_at INTEGER;
ALTER TABLE conversations ADD COLUMN first_assignee_id TEXT;
ALTER TABLE conversations ADD COLUMN first_response_at INTEGER;
ALTER TABLE conversations ADD COLUMN first_response_by TEXT;

UPDATE conversations SET
    first_response_at = (SELECT m.created_at FROM messages m WHERE m.conversation_id = conversations.id
        AND m.sender_type = 'agent' AND m.kind IN ('text', 'file') ORDER BY m.seq LIMIT 1),
    first_response_by = (SELECT m.sender_id FROM messages m WHERE m.conversation_id = conversations.id
        AND m.sender_type = 'agent' AND m.kind IN ('text', 'file') ORDER BY m.seq LIMIT 1);
-- Conversations assigned before this migration left the queue at their first
-- reply, as far as anyone can tell now, or else when they were created.
UPDATE conversations SET first_assigned_at = coalesce(first_response_at, created_at), first_assignee_id = assignee_id
    WHERE assignee_id IS NOT NULL;

CREATE TRIGGER conversations_first_assigned_insert AFTER INSERT ON conversations
WHEN new.assignee_id IS NOT NULL
BEGIN
    UPDATE conversations SET first_assigned_at = new.created_at, first_assignee_id = new.assignee_id WHERE id = new.id;
END;

CREATE TRIGGER conversations_first_assigned_update AFTER UPDATE OF assignee_id ON conversations
WHEN new.assignee_id IS NOT NULL AND new.first_assigned_at IS NULL
BEGIN
    UPDATE conversations SET first_assigned_at = new.updated_at, first_assignee_id = new.assignee_id WHERE id = new.id;
END;

CREATE TRIGGER messages_first_response AFTER INSERT ON messages
WHEN new.sender_type = 'agent' AND new.kind IN ('text', 'file')
BEGIN
    UPDATE conversations SET first_response_at = new.created_at, first_response_by = new.sender_id
        WHERE id = new.conversation_id AND first_response_at IS NULL;
END;

-- The queue, longest waiting first.
CREATE INDEX conversations_waiting_queue ON conversations (created_at, id) WHERE status = 'waiting' AND assignee_id IS NULL;
-- Reports by closing time, and the conversations still waiting at a moment.
CREATE INDEX conversations_closed_at ON conversations (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX conversations_waiting_until ON conversations (coalesce(first_assigned_at, closed_at, 9223372036854775807));
CREATE INDEX conversations_first_response ON conversations (created_at) WHERE first_response_at IS NOT NULL;

CREATE TABLE ratings (
    conversation_id TEXT    PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment         TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX ratings_created_at ON ratings (created_at);

CREATE TABLE sop_versions (
    sop_id     TEXT    NOT NULL REFERENCES sop_documents (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL CHECK (version >= 1),
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL DEFAULT '',
    tags       TEXT    NOT NULL DEFAULT '[]',
    changed_by TEXT    REFERENCES users (id) ON DELETE SET NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (sop_id, version)
) STRICT, WITHOUT ROWID;
CREATE INDEX sop_versions_changed_by ON sop_versions (changed_by) WHERE changed_by IS NOT NULL;
INSERT INTO sop_versions (sop_id, version, title, body, tags, changed_by, changed_at)
    SELECT id, version, title, body, tags, updated_by, updated_at FROM sop_documents;

CREATE TABLE conversation_sops (
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sop_id          TEXT    NOT NULL REFERENCES sop_documents (id) ON DELETE CASCADE,
    pinned_by       TEXT    REFERENCES users (id) ON DELETE SET NULL,
    pinned_at       INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, sop_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX conversation_sops_sop ON conversation_sops (sop_id);
CREATE INDEX conversation_sops_pinned_by ON conversation_sops (pinned_by) WHERE pinned_by IS NOT NULL;
