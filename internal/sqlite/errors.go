package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io/fs"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleychat/parley"
)

// extendedCodes maps SQLite extended result codes to Parley's codes, with a
// caller-safe message. Primary codes (the low byte) are looked up in
// primaryCodes when the extended code is not listed.
var extendedCodes = map[int]struct{ code, msg string }{
	sqlite3.SQLITE_CONSTRAINT_UNIQUE:     {parley.ECONFLICT, "that conflicts with an existing record"},
	sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY: {parley.ECONFLICT, "a record with that id already exists"},
	sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY: {parley.ENOTFOUND, "a record it refers to does not exist"},
	sqlite3.SQLITE_CONSTRAINT_CHECK:      {parley.EINVALID, "a value is out of range"},
	sqlite3.SQLITE_CONSTRAINT_NOTNULL:    {parley.EINVALID, "a required value is missing"},
	constraintDatatype:                   {parley.EINVALID, "a value has the wrong type"},
}

// constraintDatatype is SQLITE_CONSTRAINT_DATATYPE (a STRICT table refusing a
// value), which the lib package does not name.
const constraintDatatype = sqlite3.SQLITE_CONSTRAINT | 12<<8

var primaryCodes = map[int]string{
	sqlite3.SQLITE_BUSY:       parley.EUNAVAILABLE, // another process holds the lock past busy_timeout
	sqlite3.SQLITE_LOCKED:     parley.EUNAVAILABLE,
	sqlite3.SQLITE_CANTOPEN:   parley.EUNAVAILABLE,
	sqlite3.SQLITE_NOTADB:     parley.EUNAVAILABLE,
	sqlite3.SQLITE_IOERR:      parley.EUNAVAILABLE,
	sqlite3.SQLITE_FULL:       parley.EUNAVAILABLE,
	sqlite3.SQLITE_READONLY:   parley.EUNAVAILABLE,
	sqlite3.SQLITE_PERM:       parley.EUNAVAILABLE,
	sqlite3.SQLITE_AUTH:       parley.EUNAVAILABLE,
	sqlite3.SQLITE_CORRUPT:    parley.EUNAVAILABLE,
	sqlite3.SQLITE_PROTOCOL:   parley.EUNAVAILABLE,
	sqlite3.SQLITE_INTERRUPT:  parley.EUNAVAILABLE,
	sqlite3.SQLITE_TOOBIG:     parley.ETOOLARGE,
	sqlite3.SQLITE_MISMATCH:   parley.EINVALID,
	sqlite3.SQLITE_CONSTRAINT: parley.EINVALID,
}

// translate turns an error from database/sql or the driver into a
// *parley.Error: SQLite errors by their extended result code, missing rows
// as ENOTFOUND, cancellations and closed connections as EUNAVAILABLE, and
// anything else as EINTERNAL. A *parley.Error passes through unchanged.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return pe
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		if m, ok := extendedCodes[se.Code()]; ok {
			return &parley.Error{Code: m.code, Op: op, Message: m.msg, Err: err}
		}
		if code, ok := primaryCodes[se.Code()&0xff]; ok {
			return &parley.Error{Code: code, Op: op, Err: err}
		}
		return &parley.Error{Code: parley.EINTERNAL, Op: op, Err: err}
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &parley.Error{Code: parley.ENOTFOUND, Op: op, Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "the request was cancelled or timed out", Err: err}
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn):
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Err: err}
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Err: err}
	}
	return &parley.Error{Code: parley.EINTERNAL, Op: op, Err: err}
}

// sqliteReason says in words why a database file could not be used.
func sqliteReason(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return "the file is not a SQLite database"
		case sqlite3.SQLITE_CANTOPEN:
			return "the file cannot be opened (check that the directory exists and is writable)"
		case sqlite3.SQLITE_CORRUPT:
			return "the database file is corrupt"
		case sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_AUTH:
			return "permission denied"
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return "the database is locked by another process"
		case sqlite3.SQLITE_IOERR:
			return "an I/O error occurred"
		case sqlite3.SQLITE_FULL:
			return "the disk is full"
		}
	}
	return err.Error()
}
