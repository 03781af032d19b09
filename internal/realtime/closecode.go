package realtime

import (
	"github.com/coder/websocket"

	"github.com/parleychat/parley"
)

// Close codes of Parley's own (the 4000-4999 range is for applications).
const (
	CloseUnauthorized websocket.StatusCode = 4401 // no or bad credentials
	CloseForbidden    websocket.StatusCode = 4403 // credentials valid, socket not allowed
)

// closeCodes is the one table from error codes to close codes, used when an
// error ends a connection (most errors only answer a frame with an error
// frame and keep the socket open).
var closeCodes = map[string]websocket.StatusCode{
	parley.EINVALID:      websocket.StatusPolicyViolation, // 1008: protocol misuse
	parley.EUNAUTHORIZED: CloseUnauthorized,               // 4401
	parley.EFORBIDDEN:    CloseForbidden,                  // 4403
	parley.ENOTFOUND:     websocket.StatusPolicyViolation, // 1008
	parley.ECONFLICT:     websocket.StatusPolicyViolation, // 1008
	parley.ETOOLARGE:     websocket.StatusMessageTooBig,   // 1009
	parley.ERATELIMITED:  websocket.StatusPolicyViolation, // 1008: flooding
	parley.EUNAVAILABLE:  websocket.StatusTryAgainLater,   // 1013: reconnect and resume
	parley.EINTERNAL:     websocket.StatusInternalError,   // 1011
}

// CloseCode returns the close code for an error that ends a connection.
func CloseCode(err error) websocket.StatusCode {
	if c, ok := closeCodes[parley.ErrorCode(err)]; ok {
		return c
	}
	return websocket.StatusInternalError
}

// Close codes for endings that are not errors of a request.
const (
	closeShutdown     = websocket.StatusGoingAway       // 1001: the server is stopping
	closeSlowConsumer = websocket.StatusTryAgainLater   // 1013: queue overflowed; resume
	closeIdle         = websocket.StatusPolicyViolation // 1008: no pong in time
)
