-- Inbox totals from counters instead of counting the selection: how many
-- conversations each (status, assignee) bucket holds and how many of them
-- have a customer message, and, per agent, how many conversations of each
-- bucket the agent has read up to their last customer message. A total is
-- then a sum over a few rows, where it was a scan of every conversation
-- plus a walk over the viewer's read marks (40-80 ms at 100,000).
--
-- Counters kept by UPDATE would make concurrent transactions queue on the
-- same rows (every new conversation moves the waiting bucket) and could
-- deadlock two of them moving conversations between the same two buckets
-- in opposite directions. So the triggers only INSERT deltas; readers sum
-- them, and the store folds each table's deltas into one row per bucket in
-- the background (a DELETE ... RETURNING and its sums inserted in one
-- statement, so a delta committed meanwhile is never lost or counted twice).
--
-- An agent's participant row says, in caught, caught_status and
-- caught_assignee, whether the agent is caught up on the conversation and
-- in which bucket it then is. A trigger sets them when the read mark moves
-- (the store share-locks the conversation first), another when the
-- conversation's status or assignee change, and the append of a customer's
-- message clears them; a change of those columns inserts the read deltas.

CREATE TABLE inbox_count_deltas (
    status        text   NOT NULL,
    assignee_id   uuid,
    conversations bigint NOT NULL,
    with_customer bigint NOT NULL
);
CREATE INDEX inbox_count_deltas_bucket ON inbox_count_deltas (status, assignee_id);

CREATE TABLE inbox_read_deltas (
    user_id       uuid   NOT NULL,
    status        text   NOT NULL,
    assignee_id   uuid,
    conversations bigint NOT NULL
);
CREATE INDEX inbox_read_deltas_user ON inbox_read_deltas (user_id, status, assignee_id);

ALTER TABLE participants
    ADD COLUMN caught          boolean NOT NULL DEFAULT false,
    ADD COLUMN caught_status   text,
    ADD COLUMN caught_assignee uuid;

-- What is stored already, before any trigger exists.
UPDATE participants p SET caught = true, caught_status = c.status, caught_assignee = c.assignee_id
FROM conversations c
WHERE c.id = p.conversation_id AND p.user_type = 'agent'
  AND c.last_customer_seq > 0 AND p.last_read_seq >= c.last_customer_seq;

INSERT INTO inbox_count_deltas (status, assignee_id, conversations, with_customer)
SELECT status, assignee_id, count(*), count(*) FILTER (WHERE last_customer_seq > 0)
FROM conversations GROUP BY status, assignee_id;

INSERT INTO inbox_read_deltas (user_id, status, assignee_id, conversations)
SELECT user_id, caught_status, caught_assignee, count(*)
FROM participants WHERE caught GROUP BY user_id, caught_status, caught_assignee;

-- A conversation that comes, goes or changes bucket.
CREATE FUNCTION parley_inbox_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO inbox_count_deltas VALUES (OLD.status, OLD.assignee_id, -1, -(OLD.last_customer_seq > 0)::int);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO inbox_count_deltas VALUES (NEW.status, NEW.assignee_id, 1, (NEW.last_customer_seq > 0)::int);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER conversations_count_insert AFTER INSERT OR DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION parley_inbox_count();
CREATE TRIGGER conversations_count_update AFTER UPDATE ON conversations
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
       OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
       OR (OLD.last_customer_seq > 0) <> (NEW.last_customer_seq > 0))
    EXECUTE FUNCTION parley_inbox_count();

-- A read mark given or raised: the row's bucket from its conversation.
CREATE FUNCTION parley_participant_caught() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    IF NEW.user_type <> 'agent' THEN
        RETURN NEW;
    END IF;
    SELECT status, assignee_id, last_customer_seq INTO c FROM conversations WHERE id = NEW.conversation_id;
    NEW.caught := found AND c.last_customer_seq > 0 AND NEW.last_read_seq >= c.last_customer_seq;
    NEW.caught_status := CASE WHEN NEW.caught THEN c.status END;
    NEW.caught_assignee := CASE WHEN NEW.caught THEN c.assignee_id END;
    RETURN NEW;
END $$;

CREATE TRIGGER participants_caught BEFORE INSERT OR UPDATE OF last_read_seq ON participants
    FOR EACH ROW EXECUTE FUNCTION parley_participant_caught();

-- A conversation changed in what decides the buckets of its agents' rows.
CREATE FUNCTION parley_conversation_caught() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE participants SET
        caught = (NEW.last_customer_seq > 0 AND last_read_seq >= NEW.last_customer_seq),
        caught_status = CASE WHEN NEW.last_customer_seq > 0 AND last_read_seq >= NEW.last_customer_seq
                             THEN NEW.status END,
        caught_assignee = CASE WHEN NEW.last_customer_seq > 0 AND last_read_seq >= NEW.last_customer_seq
                               THEN NEW.assignee_id END
    WHERE conversation_id = NEW.id AND user_type = 'agent'
      AND (caught, caught_status, caught_assignee) IS DISTINCT FROM (
          (NEW.last_customer_seq > 0 AND last_read_seq >= NEW.last_customer_seq),
          CASE WHEN NEW.last_customer_seq > 0 AND last_read_seq >= NEW.last_customer_seq THEN NEW.status END,
          CASE WHEN NEW.last_customer_seq > 0 AND last_read_seq >= NEW.last_customer_seq THEN NEW.assignee_id END);
    RETURN NULL;
END $$;

-- (A customer's message, the other change that moves those rows, ends the
-- agents' caught-up state in the append's own statement, without the cost
-- of a trigger call on every append.)
CREATE TRIGGER conversations_caught AFTER UPDATE ON conversations
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)
    EXECUTE FUNCTION parley_conversation_caught();

-- A row that changes bucket, comes or goes moves the viewer's counts.
CREATE FUNCTION parley_read_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.caught THEN
        INSERT INTO inbox_read_deltas VALUES (OLD.user_id, OLD.caught_status, OLD.caught_assignee, -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.caught THEN
        INSERT INTO inbox_read_deltas VALUES (NEW.user_id, NEW.caught_status, NEW.caught_assignee, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER participants_read_count_insert AFTER INSERT OR DELETE ON participants
    FOR EACH ROW EXECUTE FUNCTION parley_read_count();
-- No column list: the columns change through the BEFORE trigger too, which
-- a column list would not see.
CREATE TRIGGER participants_read_count_update AFTER UPDATE ON participants
    FOR EACH ROW
    WHEN ((OLD.caught, OLD.caught_status, OLD.caught_assignee) IS DISTINCT FROM
          (NEW.caught, NEW.caught_status, NEW.caught_assignee))
    EXECUTE FUNCTION parley_read_count();
