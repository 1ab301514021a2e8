package server

import (
	"bytes"
	"net"
	"regexp"
)

// FramingListener returns a listener whose connections answer the client's
// framing mistakes with 400 Bad Request where net/http answers with a 5xx
// before any handler runs: an unsupported Transfer-Encoding (501) and an
// HTTP version other than 1.x (505). Both are the client's doing, and a 5xx
// would blame wsim (and make SDKs retry a request that can never succeed).
//
// net/http writes those answers itself, in plain text, straight to the
// connection, with a fixed set of headers no handler's response has (a
// handler's always carries Date and a length or chunked encoding); that
// exact shape is what is rewritten, so the API's own 5xx answers (501 for
// an operation not implemented, 503 for a store down) pass untouched. The
// other framing errors net/http finds (malformed request line, headers or
// chunking, a missing Host, headers too large) are already 4xx and kept.
func FramingListener(ln net.Listener) net.Listener { return framingListener{ln} }

type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return framingConn{c}, nil
}

type framingConn struct{ net.Conn }

// netHTTPError matches net/http's own error answer: a status line
// immediately followed by its fixed headers, then the text.
var netHTTPError = regexp.MustCompile(`\AHTTP/1\.1 5[0-9][0-9] [^\r\n]*\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n`)

const framingHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c framingConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 5")) {
		return c.Conn.Write(p)
	}
	loc := netHTTPError.FindIndex(p)
	if loc == nil {
		return c.Conn.Write(p)
	}
	text := bytes.TrimSpace(p[loc[1]:])
	// "505 HTTP Version Not Supported: unsupported protocol version" says
	// its status again; keep only the reason.
	if i := bytes.Index(text, []byte(": ")); i >= 0 && len(text) > 3 && text[0] == '5' {
		text = text[i+2:]
	}
	if _, err := c.Conn.Write([]byte("HTTP/1.1 400 Bad Request" + framingHeaders + "400 Bad Request: " + string(text))); err != nil {
		return 0, err
	}
	return len(p), nil
}
