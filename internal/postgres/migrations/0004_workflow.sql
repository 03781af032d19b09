-- The agents' workflow: round-robin assignment, the times reports need,
-- satisfaction ratings, kept versions of SOP documents and their pins.

-- Round-robin: the agent assigned a conversation longest ago goes next.
ALTER TABLE users ADD COLUMN last_assigned_at timestamptz;
CREATE INDEX users_round_robin ON users (last_assigned_at NULLS FIRST, id) WHERE NOT disabled AND availability = 'online';
-- Capacity checks count an agent's active conversations.
CREATE INDEX conversations_active_assignee ON conversations (assignee_id) WHERE status = 'active';

-- Reports: when a conversation left the queue and who took it first, and
-- when and by whom the first agent reply came. Plain ids, not references:
-- a report keeps counting an agent whose account was deleted.
ALTER TABLE conversations ADD COLUMN first_assigned_at timestamptz;
ALTER TABLE conversations ADD COLUMN first_assignee_id uuid;
ALTER TABLE conversations ADD COLUMN first_response_at timestamptz;
ALTER TABLE conversations ADD COLUMN first_response_by uuid;

UPDATE conversations c SET first_response_at = f.created_at, first_response_by = f.sender_id
FROM (SELECT DISTINCT ON (conversation_id) conversation_id, created_at, sender_id FROM messages
      WHERE sender_type = 'agent' AND kind IN ('text', 'file') ORDER BY conversation_id, seq) f
WHERE f.conversation_id = c.id;
-- Conversations assigned before this migration left the queue at their first
-- reply, as far as anyone can tell now, or else when they were created.
UPDATE conversations SET first_assigned_at = coalesce(first_response_at, created_at), first_assignee_id = assignee_id
    WHERE assignee_id IS NOT NULL;

CREATE FUNCTION parley_first_assigned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.first_assigned_at := NEW.created_at;
    ELSE
        NEW.first_assigned_at := NEW.updated_at;
    END IF;
    NEW.first_assignee_id := NEW.assignee_id;
    RETURN NEW;
END $$;
CREATE TRIGGER conversations_first_assigned BEFORE INSERT OR UPDATE OF assignee_id ON conversations
    FOR EACH ROW WHEN (NEW.assignee_id IS NOT NULL AND NEW.first_assigned_at IS NULL)
    EXECUTE FUNCTION parley_first_assigned();

CREATE FUNCTION parley_first_response() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET first_response_at = NEW.created_at, first_response_by = NEW.sender_id
        WHERE id = NEW.conversation_id AND first_response_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_first_response AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.sender_type = 'agent' AND NEW.kind IN ('text', 'file'))
    EXECUTE FUNCTION parley_first_response();

-- The queue, longest waiting first.
CREATE INDEX conversations_waiting_queue ON conversations (created_at, id) WHERE status = 'waiting' AND assignee_id IS NULL;
-- Reports by closing time, and the conversations still waiting at a moment.
CREATE INDEX conversations_closed_at ON conversations (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX conversations_waiting_until ON conversations ((coalesce(first_assigned_at, closed_at, 'infinity'::timestamptz)));
CREATE INDEX conversations_first_response ON conversations (created_at) WHERE first_response_at IS NOT NULL;

CREATE TABLE ratings (
    conversation_id uuid        PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    score           smallint    NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment         text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX ratings_created_at ON ratings (created_at);

CREATE TABLE sop_versions (
    sop_id     uuid        NOT NULL REFERENCES sop_documents (id) ON DELETE CASCADE,
    version    integer     NOT NULL CHECK (version >= 1),
    title      text        NOT NULL,
    body       text        NOT NULL DEFAULT '',
    tags       text[]      NOT NULL DEFAULT '{}',
    changed_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (sop_id, version)
);
CREATE INDEX sop_versions_changed_by ON sop_versions (changed_by) WHERE changed_by IS NOT NULL;
INSERT INTO sop_versions (sop_id, version, title, body, tags, changed_by, changed_at)
    SELECT id, version, title, body, tags, updated_by, updated_at FROM sop_documents;

CREATE TABLE conversation_sops (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sop_id          uuid        NOT NULL REFERENCES sop_documents (id) ON DELETE CASCADE,
    pinned_by       uuid        REFERENCES users (id) ON DELETE SET NULL,
    pinned_at       timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, sop_id)
);
CREATE INDEX conversation_sops_sop ON conversation_sops (sop_id);
CREATE INDEX conversation_sops_pinned_by ON conversation_sops (pinned_by) WHERE pinned_by IS NOT NULL;
