package seeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	twoSeeds = "h1:8101:rack1:dc1:100|h2:8101:rack2:dc1:200"
	okHeader = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
)

// wait bounds every blocking step of a test.
const wait = 5 * time.Second

// rawFlorida is a Florida service on 127.0.0.1: for each connection it reads
// the request up to its blank line, sends it on requests, and lets handle
// answer. It returns the address.
func rawFlorida(t *testing.T, handle func(c net.Conn)) (addr string, requests <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	reqs := make(chan []byte, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(wait))
				req, err := readRequest(c)
				if err != nil {
					return
				}
				select {
				case reqs <- req:
				default:
				}
				handle(c)
			}()
		}
	}()
	return ln.Addr().String(), reqs
}

// readRequest reads up to and including the blank line ending a request.
func readRequest(c net.Conn) ([]byte, error) {
	var req []byte
	buf := make([]byte, 512)
	for !bytes.HasSuffix(req, []byte("\r\n\r\n")) && !bytes.HasSuffix(req, []byte("\n\n")) {
		n, err := c.Read(buf)
		req = append(req, buf[:n]...)
		if err != nil {
			return req, err
		}
	}
	return req, nil
}

// reply answers every request with resp.
func reply(resp string) func(net.Conn) {
	return func(c net.Conn) { _, _ = io.WriteString(c, resp) }
}

func florida(addr string) *Florida {
	return &Florida{Addr: addr, Request: []byte(DefaultFloridaRequest)}
}

func fetchCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func seedLines(seeds []config.Seed) []string {
	var out []string
	for _, s := range seeds {
		out = append(out, s.String())
	}
	return out
}

func TestFloridaParsesSeedsAndSendsDynomiteRequest(t *testing.T) {
	addr, reqs := rawFlorida(t, reply(okHeader+twoSeeds+"\n"))
	seeds, err := florida(addr).Fetch(fetchCtx(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"h1:8101:rack1:dc1:100", "h2:8101:rack2:dc1:200"}, seedLines(seeds))
	assert.Equal(t, DefaultFloridaRequest, string(<-reqs), "the exact bytes Dynomite sends")
}

func TestFloridaRequestFromEnvironment(t *testing.T) {
	for _, tc := range []struct{ env, sent string }{
		{"", DefaultFloridaRequest},
		{"GET /seeds HTTP/1.0", "GET /seeds HTTP/1.0\r\n\r\n"},
		{"GET /seeds HTTP/1.0\r\n", "GET /seeds HTTP/1.0\r\n\r\n"},
		// The multi-line form of Dynomite's docs (bare LF) goes out untouched.
		{"GET /c1 HTTP/1.0\nHost: 127.0.0.1\nUser-Agent: HTMLGET 1.0\n\n", "GET /c1 HTTP/1.0\nHost: 127.0.0.1\nUser-Agent: HTMLGET 1.0\n\n"},
	} {
		t.Run(fmt.Sprintf("%q", tc.env), func(t *testing.T) {
			addr, reqs := rawFlorida(t, reply(okHeader+twoSeeds))
			host, port, err := net.SplitHostPort(addr)
			require.NoError(t, err)
			env := map[string]string{EnvFloridaIP: host, EnvFloridaPort: port, EnvFloridaRequest: tc.env}
			p, err := New(&config.Config{SeedProvider: FloridaName}, func(k string) string { return env[k] })
			require.NoError(t, err)
			_, err = p.Fetch(fetchCtx(t))
			require.NoError(t, err)
			assert.Equal(t, tc.sent, string(<-reqs))
		})
	}
}

func TestFloridaAgainstNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/REST/v1/admin/get_seeds", r.URL.Path)
		_, _ = io.WriteString(w, twoSeeds)
	}))
	t.Cleanup(srv.Close)
	seeds, err := florida(srv.Listener.Addr().String()).Fetch(fetchCtx(t))
	require.NoError(t, err)
	assert.Len(t, seeds, 2)
}

func TestFloridaRejectsBadResponses(t *testing.T) {
	for _, tc := range []struct {
		name, resp, want string
	}{
		{"not found", "HTTP/1.0 404 Not Found\r\n\r\n" + twoSeeds, `status "HTTP/1.0 404 Not Found", want 200 OK`},
		{"200 OK only in the body", "HTTP/1.0 500 Oops\r\n\r\n200 OK\r\n", `status "HTTP/1.0 500 Oops"`},
		{"garbage entry", okHeader + "h1:8101:rack1:dc1:100|garbage", `bad payload: seed 2 "garbage"`},
		{"bad token", okHeader + "h1:8101:rack1:dc1:notanumber", `bad payload: seed 1 "h1:8101:rack1:dc1:notanumber": tokens`},
		{"empty body", okHeader, "no seeds in the response body"},
		{"blank body", okHeader + " \n", "no seeds in the response body"},
		{"bare LF", "HTTP/1.0 200 OK\n\n" + twoSeeds, "no CRLF-terminated status line"},
		{"no end of header", "HTTP/1.0 200 OK\r\nX: y\r\n", `not terminated by "\r\n\r\n"`},
		{"nothing", "", "no CRLF-terminated status line in 0-byte response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := rawFlorida(t, reply(tc.resp))
			seeds, err := florida(addr).Fetch(fetchCtx(t))
			require.Error(t, err)
			assert.Nil(t, seeds)
			assert.Contains(t, err.Error(), "florida "+addr+": ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestFloridaServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	_, err = florida(addr).Fetch(fetchCtx(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "florida "+addr+": dial tcp "+addr+": ")
	assert.Contains(t, err.Error(), "refused")
	var opErr *net.OpError
	assert.True(t, errors.As(err, &opErr), "the cause stays in the chain: %v", err)
}

func TestFloridaOversizedResponse(t *testing.T) {
	body := strings.Repeat("h1:8101:rack1:dc1:100|", DefaultFloridaMaxResponse/20)
	addr, _ := rawFlorida(t, reply(okHeader+body))
	_, err := florida(addr).Fetch(fetchCtx(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("florida %s: response larger than %d bytes", addr, DefaultFloridaMaxResponse))
}

func TestFloridaSlowServerTimesOut(t *testing.T) {
	for name, handle := range map[string]func(net.Conn){
		"silent":       func(c net.Conn) { _, _ = io.Copy(io.Discard, c) },
		"never closes": func(c net.Conn) { _, _ = io.WriteString(c, okHeader+twoSeeds); _, _ = io.Copy(io.Discard, c) },
	} {
		t.Run(name, func(t *testing.T) {
			addr, _ := rawFlorida(t, handle)
			f := florida(addr)
			f.Timeout = 100 * time.Millisecond
			start := time.Now()
			_, err := f.Fetch(fetchCtx(t))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "florida "+addr+": read response: timed out (limit 100ms)")
			assert.Less(t, time.Since(start), wait/2)
		})
	}
}

func TestFloridaCancelled(t *testing.T) {
	addr, _ := rawFlorida(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	ctx, cancel := context.WithCancel(fetchCtx(t))
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := florida(addr).Fetch(ctx)
	require.Error(t, err)
	assert.Equal(t, "florida "+addr+": read response: context canceled", err.Error())
	assert.ErrorIs(t, err, context.Canceled)
}
