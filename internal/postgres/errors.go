package postgres

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleychat/parley"
)

// constraintMessages says, for constraints a caller can trip, what went wrong
// in words the caller may see. Unlisted constraints get the code's default.
var constraintMessages = map[string]string{
	"users_email_key":                   "that email is already taken",
	"sessions_token_hash_key":           "that session token is already in use",
	"api_tokens_token_hash_key":         "that API token is already in use",
	"customers_token_hash_key":          "that customer token is already in use",
	"conversations_customer_open_key":   "the customer already has an open conversation",
	"messages_client_msg_id_key":        "that client message id was already used",
	"quick_replies_owner_shortcut_key":  "that shortcut is already taken",
	"quick_replies_shared_shortcut_key": "that shortcut is already taken",
	"sessions_user_id_fkey":             "user not found",
	"api_tokens_user_id_fkey":           "user not found",
	"conversations_customer_id_fkey":    "customer not found",
	"conversations_assignee_id_fkey":    "assignee not found",
	"participants_conversation_id_fkey": "conversation not found",
	"messages_conversation_id_fkey":     "conversation not found",
	"transfers_conversation_id_fkey":    "conversation not found",
	"transfers_from_agent_id_fkey":      "agent not found",
	"transfers_to_agent_id_fkey":        "agent not found",
	"transfers_by_user_id_fkey":         "user not found",
	"quick_replies_owner_id_fkey":       "owner not found",
	"sop_documents_created_by_fkey":     "author not found",
	"sop_documents_updated_by_fkey":     "author not found",
}

// sqlstateCodes maps PostgreSQL error codes (SQLSTATE) to Parley's. Classes
// are matched by their first two characters after exact codes.
var sqlstateCodes = map[string]string{
	"23505": parley.ECONFLICT,    // unique_violation
	"23P01": parley.ECONFLICT,    // exclusion_violation
	"40001": parley.ECONFLICT,    // serialization_failure: a lost race
	"40P01": parley.ECONFLICT,    // deadlock_detected: a lost race
	"55P03": parley.ECONFLICT,    // lock_not_available
	"23503": parley.ENOTFOUND,    // foreign_key_violation: the referenced record is missing
	"23514": parley.EINVALID,     // check_violation
	"23502": parley.EINVALID,     // not_null_violation
	"22001": parley.EINVALID,     // string_data_right_truncation
	"22003": parley.EINVALID,     // numeric_value_out_of_range
	"22007": parley.EINVALID,     // invalid_datetime_format
	"22008": parley.EINVALID,     // datetime_field_overflow
	"22021": parley.EINVALID,     // character_not_in_repertoire
	"22P02": parley.EINVALID,     // invalid_text_representation
	"22P05": parley.EINVALID,     // untranslatable_character
	"54000": parley.ETOOLARGE,    // program_limit_exceeded (e.g. an index row too large)
	"53300": parley.EUNAVAILABLE, // too_many_connections
	"57014": parley.EUNAVAILABLE, // query_canceled (statement timeout)
	"57P01": parley.EUNAVAILABLE, // admin_shutdown
	"57P02": parley.EUNAVAILABLE, // crash_shutdown
	"57P03": parley.EUNAVAILABLE, // cannot_connect_now
	"25006": parley.EUNAVAILABLE, // read_only_sql_transaction: a standby after failover
}

var sqlstateClasses = map[string]string{
	"08": parley.EUNAVAILABLE, // connection_exception
	"53": parley.EUNAVAILABLE, // insufficient_resources
	"58": parley.EUNAVAILABLE, // system_error (I/O)
	"22": parley.EINVALID,     // data_exception
}

// translate turns an error from pgx into a *parley.Error: server errors by
// their SQLSTATE, connection failures as EUNAVAILABLE, anything else as
// EINTERNAL. A *parley.Error passes through unchanged.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &parley.Error{Code: parley.ENOTFOUND, Op: op, Err: err}
	}
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connErr):
		// Checked before PgError: a refused login wraps the server's error.
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Err: err}
	case errors.As(err, &pgErr):
		code := sqlstateCodes[pgErr.Code]
		if code == "" && len(pgErr.Code) == 5 {
			code = sqlstateClasses[pgErr.Code[:2]]
		}
		if code == "" {
			code = parley.EINTERNAL
		}
		return &parley.Error{Code: code, Op: op, Message: constraintMessages[pgErr.ConstraintName], Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		pgconn.Timeout(err), pgconn.SafeToRetry(err), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Err: err}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Err: err}
	}
	return &parley.Error{Code: parley.EINTERNAL, Op: op, Err: err}
}

// pgCode returns the SQLSTATE and constraint of a server error, "" otherwise.
func pgCode(err error) (code, constraint string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code, pgErr.ConstraintName
	}
	return "", ""
}
