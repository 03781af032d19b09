package realtime

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// A socket keeps the read and write buffers its HTTP connection is hijacked
// with for as long as it lives. net/http's are 4 KB each: for an idle widget
// socket, more memory than everything else it holds. Parley's frames are
// small (a message is a few hundred bytes of JSON), and a frame larger than
// a buffer is read or written past it, straight from or to the connection,
// so small buffers cost at most a system call more for a large frame.
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 1024
)

// smallBuffers is the ResponseWriter the WebSocket handshake is given: its
// Hijack hands over the connection with buffers of the sizes above.
type smallBuffers struct {
	http.ResponseWriter
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent after its handshake request, which net/http
	// read ahead, must stay buffered: the WebSocket library keeps what the
	// reader holds and reads the rest from the connection itself.
	br := bufio.NewReaderSize(conn, socketReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		early, err := brw.Reader.Peek(n)
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(socketReadBuffer, n))
		if _, err := br.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	// net/http flushed the response headers before handing over its
	// writer, which is empty.
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, socketWriteBuffer)), nil
}
