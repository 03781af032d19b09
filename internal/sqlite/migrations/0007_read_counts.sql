-- Inbox unread totals with a viewer: the conversations the viewer has read
-- up to their last customer message are counted, per (status, assignee) as
-- inbox_counts counts conversations, instead of being found through every
-- read mark the viewer has (14,000 for a busy agent, 40 ms a page).
--
-- An agent's participant row names the (status, assignee) of its
-- conversation in caught_status and caught_assignee ('' unassigned) while
-- the agent is caught up on it (its last customer message is at or below
-- the agent's read mark), NULL otherwise; inbox_read_counts counts the rows
-- in each. Triggers keep both exact inside the transaction that changes a
-- read mark or a conversation (cascades and SET NULL actions fire them too):
-- a read mark or a conversation change sets the row's bucket, and a bucket
-- change moves the count. A customer message in a conversation an agent was
-- caught up on empties that agent's bucket; other appends touch nothing.
-- The migration's hook sets the buckets of the rows stored before it, and
-- the triggers count them.
ALTER TABLE participants ADD COLUMN caught_status TEXT;
ALTER TABLE participants ADD COLUMN caught_assignee TEXT;

CREATE TABLE inbox_read_counts (
    user_id       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    assignee_id   TEXT    NOT NULL,
    conversations INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, status, assignee_id)
) STRICT, WITHOUT ROWID;

-- A read mark given or raised: the row's bucket from its conversation.
CREATE TRIGGER participants_caught_insert AFTER INSERT ON participants
WHEN new.user_type = 'agent'
BEGIN
    UPDATE participants SET (caught_status, caught_assignee) =
        (SELECT c.status, coalesce(c.assignee_id, '') FROM conversations c
         WHERE c.id = new.conversation_id AND c.last_customer_seq > 0 AND c.last_customer_seq <= new.last_read_seq)
    WHERE conversation_id = new.conversation_id AND user_id = new.user_id AND user_type = new.user_type;
END;

CREATE TRIGGER participants_caught_read AFTER UPDATE OF last_read_seq ON participants
WHEN new.user_type = 'agent' AND new.last_read_seq IS NOT old.last_read_seq
BEGIN
    UPDATE participants SET (caught_status, caught_assignee) =
        (SELECT c.status, coalesce(c.assignee_id, '') FROM conversations c
         WHERE c.id = new.conversation_id AND c.last_customer_seq > 0 AND c.last_customer_seq <= new.last_read_seq)
    WHERE conversation_id = new.conversation_id AND user_id = new.user_id AND user_type = new.user_type;
END;

-- A conversation changed in what decides the buckets of its agents' rows.
CREATE TRIGGER conversations_caught_update AFTER UPDATE OF status, assignee_id, last_customer_seq ON conversations
WHEN old.status IS NOT new.status
  OR old.assignee_id IS NOT new.assignee_id
  OR old.last_customer_seq IS NOT new.last_customer_seq
BEGIN
    UPDATE participants SET
        caught_status = CASE WHEN new.last_customer_seq > 0 AND last_read_seq >= new.last_customer_seq
                             THEN new.status END,
        caught_assignee = CASE WHEN new.last_customer_seq > 0 AND last_read_seq >= new.last_customer_seq
                               THEN coalesce(new.assignee_id, '') END
    WHERE conversation_id = new.id AND user_type = 'agent'
      AND (caught_status IS NOT (CASE WHEN new.last_customer_seq > 0 AND last_read_seq >= new.last_customer_seq
                                      THEN new.status END)
        OR caught_assignee IS NOT (CASE WHEN new.last_customer_seq > 0 AND last_read_seq >= new.last_customer_seq
                                        THEN coalesce(new.assignee_id, '') END));
END;

-- A bucket that changes moves the count; a row that goes takes its count.
CREATE TRIGGER participants_caught_count AFTER UPDATE OF caught_status, caught_assignee ON participants
WHEN old.caught_status IS NOT new.caught_status OR old.caught_assignee IS NOT new.caught_assignee
BEGIN
    UPDATE inbox_read_counts SET conversations = conversations - 1
    WHERE old.caught_status IS NOT NULL
      AND user_id = old.user_id AND status = old.caught_status AND assignee_id = old.caught_assignee;
    INSERT INTO inbox_read_counts (user_id, status, assignee_id, conversations)
    SELECT new.user_id, new.caught_status, new.caught_assignee, 1 WHERE new.caught_status IS NOT NULL
    ON CONFLICT (user_id, status, assignee_id) DO UPDATE SET conversations = conversations + 1;
END;

CREATE TRIGGER participants_caught_delete AFTER DELETE ON participants
WHEN old.caught_status IS NOT NULL
BEGIN
    UPDATE inbox_read_counts SET conversations = conversations - 1
    WHERE user_id = old.user_id AND status = old.caught_status AND assignee_id = old.caught_assignee;
END;
