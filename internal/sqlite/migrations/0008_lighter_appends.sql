-- Fewer index entries per append. Every append wrote an entry in each of the
-- message's indexes and moved the conversation in each of its activity
-- indexes; on the one writer those are most of an append's cost, and the
-- entries keyed by conversation land on a different page per conversation,
-- each one more page to write at commit.
--
-- Unread counts no longer count customer messages through their own index:
-- each message keeps customer_through, the number of customer messages in
-- its conversation up to and including it, and the conversation keeps
-- customer_messages, its total. The unread count past a read mark at seq s
-- is customer_messages minus the customer_through of the message at s, one
-- probe of (conversation_id, seq).
ALTER TABLE messages ADD COLUMN customer_through INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN customer_messages INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET customer_through = w.n
FROM (SELECT rowid AS r,
             count(*) FILTER (WHERE sender_type = 'customer')
                 OVER (PARTITION BY conversation_id ORDER BY seq) AS n
      FROM messages) AS w
WHERE messages.rowid = w.r AND w.n > 0;

UPDATE conversations SET customer_messages = m.n
FROM (SELECT conversation_id, count(*) AS n FROM messages
      WHERE sender_type = 'customer' GROUP BY conversation_id) AS m
WHERE conversations.id = m.conversation_id;

DROP INDEX messages_customer_seq;

-- Nothing reads messages by time alone (exports and search reach messages
-- through their conversation or the search index).
DROP INDEX messages_created_at;

-- The inbox across every status merges the three (status, activity_at, id)
-- ranges instead of walking an index of its own.
DROP INDEX conversations_activity;
