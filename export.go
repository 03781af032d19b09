package parley

import "time"

// ExportFilter selects the conversations ExportConversations walks: those
// created in [From, To) (each bound when not zero), oldest first.
type ExportFilter struct {
	From, To time.Time
	// ExcludeNotes leaves notes out of the messages.
	ExcludeNotes bool
	// PageSize is how many conversations (and messages) one read fetches:
	// 0 means DefaultExportPage. Only memory and round trips depend on it.
	PageSize int
}

// DefaultExportPage is the page size of an export's reads.
const DefaultExportPage = 200

// ExportVisitor receives an export as it is read: each conversation with its
// customer, then that conversation's messages in seq order (with their
// attachments), before the next conversation. An error from either function
// stops the walk and is returned as is.
type ExportVisitor struct {
	Conversation func(c *Conversation, cu *Customer) error
	Message      func(m *Message) error
}
