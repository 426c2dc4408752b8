package seeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors/config"
)

// Florida defaults.
const (
	DefaultFloridaTimeout     = 5 * time.Second
	DefaultFloridaMaxResponse = 1 << 20
)

// Florida is florida_provider: it sends a raw HTTP request to a local
// "Florida" service and reads the seed list from the body of its reply.
type Florida struct {
	// Addr is the service's host:port. New: DYNOMITE_FLORIDA_IP and
	// DYNOMITE_FLORIDA_PORT, default 127.0.0.1:8080.
	Addr string
	// Request is written to the connection as is; FloridaRequest builds it.
	// New: DYNOMITE_FLORIDA_REQUEST, default DefaultFloridaRequest.
	Request []byte
	// Timeout bounds one whole exchange, from dial to the server closing the
	// connection. Default DefaultFloridaTimeout (5 s) when 0.
	Timeout time.Duration
	// MaxResponse bounds the response, header included, in bytes.
	// Default DefaultFloridaMaxResponse (1 MiB) when 0.
	MaxResponse int
}

// FloridaRequest turns a DYNOMITE_FLORIDA_REQUEST value into the bytes to
// send. A value already ending in a blank line ("\r\n\r\n" or "\n\n", as in
// Dynomite's docs) is sent untouched; otherwise trailing line ends are
// replaced by "\r\n\r\n", so a bare request line such as
// "GET /seeds HTTP/1.0" is a complete request (Dynomite would send it
// unterminated and wait for a reply that never comes).
func FloridaRequest(s string) []byte {
	if strings.HasSuffix(s, "\r\n\r\n") || strings.HasSuffix(s, "\n\n") {
		return []byte(s)
	}
	return []byte(strings.TrimRight(s, "\r\n") + "\r\n\r\n")
}

// Name implements Provider.
func (*Florida) Name() string { return FloridaName }

// Fetch implements Provider. Every error names the service's address.
func (f *Florida) Fetch(ctx context.Context) ([]config.Seed, error) {
	body, err := f.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("florida %s: %w", f.Addr, err)
	}
	seeds, err := config.ParseSeedList(string(body))
	if err != nil {
		return nil, fmt.Errorf("florida %s: bad payload: %w", f.Addr, err)
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("florida %s: no seeds in the response body", f.Addr)
	}
	return seeds, nil
}

// get does one exchange and returns the response body. Like Dynomite it
// reads until the server closes the connection (the default request is
// HTTP/1.0) and ignores Content-Length.
func (f *Florida) get(ctx context.Context) ([]byte, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultFloridaTimeout
	}
	limit := f.MaxResponse
	if limit <= 0 {
		limit = DefaultFloridaMaxResponse
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Say why an operation stopped: the "i/o timeout" the deadline below
	// causes does not tell a timeout from a cancellation.
	cause := func(op string, err error) error {
		switch ctx.Err() {
		case context.DeadlineExceeded:
			return fmt.Errorf("%s: timed out (limit %v): %w", op, timeout, err)
		case context.Canceled:
			return fmt.Errorf("%s: %w", op, context.Canceled)
		}
		return fmt.Errorf("%s: %w", op, err)
	}

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", f.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, cause("connect", err)
		}
		return nil, err // already "dial tcp <addr>: <cause>"
	}
	defer conn.Close()
	// Unblock reads and writes once the deadline passes or ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := conn.Write(f.Request); err != nil {
		return nil, cause("send request", err)
	}
	resp, err := io.ReadAll(io.LimitReader(conn, int64(limit)+1))
	if err != nil {
		return nil, cause("read response", err)
	}
	if len(resp) > limit {
		return nil, fmt.Errorf("response larger than %d bytes", limit)
	}
	return responseBody(resp)
}

// responseBody checks the status line and returns what follows the header.
// Dynomite accepts any response containing "200 OK\r\n" in its first 8 KiB;
// only the status line counts here, so an error page quoting it is refused.
func responseBody(resp []byte) ([]byte, error) {
	status, _, ok := bytes.Cut(resp, []byte("\r\n"))
	if !ok {
		return nil, fmt.Errorf("no CRLF-terminated status line in %d-byte response %q", len(resp), clip(resp))
	}
	if !bytes.HasSuffix(status, []byte(" 200 OK")) {
		return nil, fmt.Errorf("status %q, want 200 OK", clip(status))
	}
	_, body, ok := bytes.Cut(resp, []byte("\r\n\r\n"))
	if !ok {
		return nil, errors.New(`response header not terminated by "\r\n\r\n"`)
	}
	return body, nil
}

// clip shortens server bytes quoted in an error.
func clip(b []byte) []byte {
	const max = 80
	if len(b) > max {
		return b[:max]
	}
	return b
}
