-- A search filtered by the conversation (status, assignee) checks each
-- match's conversation before reading its message: message_search names the
-- message's conversation, and conversations_search_filter answers the check
-- from the index alone. Appends never change these columns, so the index
-- costs them nothing. The migration's hook fills the column for the rows
-- stored before it.
ALTER TABLE message_search ADD COLUMN conversation_id TEXT;
CREATE INDEX conversations_search_filter ON conversations (id, status, assignee_id);

-- A customer's conversations, newest first: a search by customer name walks
-- the matching customers newest first and takes their conversations in this
-- order, so it stops after the candidates it needs instead of sorting every
-- match. created_at never changes, so appends do not touch this index either.
DROP INDEX conversations_customer;
CREATE INDEX conversations_customer ON conversations (customer_id, created_at DESC);
