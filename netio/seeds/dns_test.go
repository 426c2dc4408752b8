package seeds

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DNS wire constants (RFC 1035) the test server needs.
const (
	typeTXT   = 16
	classIN   = 1
	rcodeNX   = 3
	flagQR    = 1 << 15
	flagAA    = 1 << 10
	flagRD    = 1 << 8
	flagRA    = 1 << 7
	headerLen = 12
)

// zone maps a lower-case rooted name to its TXT records, each a list of
// character-strings. A name present with no records answers NOERROR with an
// empty answer; an absent name answers NXDOMAIN.
type zone map[string][][]string

// dnsServer answers UDP queries on 127.0.0.1 from z (or drops them all when
// z is nil) and returns a resolver that sends every query to it, and the
// queries it sees as "name type".
func dnsServer(t *testing.T, z zone) (*net.Resolver, <-chan string) {
	t.Helper()
	queries := make(chan string, 64)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			resp, query, ok := answer(z, buf[:n])
			select {
			case queries <- query:
			default:
			}
			if ok && z != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", pc.LocalAddr().String())
		},
	}, queries
}

// answer builds the reply to one query and describes the query; ok is false
// for a malformed query.
func answer(z zone, q []byte) (resp []byte, query string, ok bool) {
	if len(q) < headerLen || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil, "", false
	}
	var labels []string
	i := headerLen
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil, "", false
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil, "", false
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[headerLen : i+5]
	name := strings.ToLower(strings.Join(labels, ".")) + "."
	query = fmt.Sprintf("%s %d", name, qtype)

	records, found := z[name]
	if qtype != typeTXT {
		records = nil
	}
	flags := uint16(flagQR|flagAA|flagRA) | binary.BigEndian.Uint16(q[2:])&flagRD
	if !found {
		flags |= rcodeNX
	}
	resp = binary.BigEndian.AppendUint16(nil, binary.BigEndian.Uint16(q))
	resp = binary.BigEndian.AppendUint16(resp, flags)
	for _, count := range []int{1, len(records), 0, 0} {
		resp = binary.BigEndian.AppendUint16(resp, uint16(count))
	}
	resp = append(resp, question...)
	for _, strs := range records {
		var rdata []byte
		for _, s := range strs {
			rdata = append(append(rdata, byte(len(s))), s...)
		}
		resp = append(resp, 0xC0, headerLen) // pointer to the question's name
		resp = binary.BigEndian.AppendUint16(resp, typeTXT)
		resp = binary.BigEndian.AppendUint16(resp, classIN)
		resp = binary.BigEndian.AppendUint32(resp, 60)
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
		resp = append(resp, rdata...)
	}
	return resp, query, true
}

var testZone = zone{
	"_dynomite.ec2-internal.": {{twoSeeds}},
	// Two records, the second split in two character-strings.
	"multi.test.":   {{"h1:8101:rack1:dc1:100"}, {"h2:8101:rack2:", "dc1:200|h3:8101:rack3:dc1:300"}},
	"garbage.test.": {{"h1:8101:rack1:dc1:100|garbage"}},
	"blank.test.":   {{""}},
	"empty.test.":   {},
}

func TestDNSParsesTXT(t *testing.T) {
	r, _ := dnsServer(t, testZone)
	for _, tc := range []struct {
		domain string
		want   []string
	}{
		{DefaultDNSName, []string{"h1:8101:rack1:dc1:100", "h2:8101:rack2:dc1:200"}},
		{"MULTI.test.", []string{"h1:8101:rack1:dc1:100", "h2:8101:rack2:dc1:200", "h3:8101:rack3:dc1:300"}},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			seeds, err := (&DNS{Domain: tc.domain, Resolver: r}).Fetch(fetchCtx(t))
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, seedLines(seeds))
		})
	}
}

func TestDNSFailures(t *testing.T) {
	r, _ := dnsServer(t, testZone)
	for _, tc := range []struct{ domain, want string }{
		{"missing.test", "dns TXT missing.test: lookup missing.test."},
		{"garbage.test", `dns TXT garbage.test: bad payload: seed 2 "garbage"`},
		{"blank.test", "dns TXT blank.test: no seeds in 1 TXT records"},
		{"empty.test", "dns TXT empty.test: lookup empty.test."},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			seeds, err := (&DNS{Domain: tc.domain, Resolver: r}).Fetch(fetchCtx(t))
			require.Error(t, err)
			assert.Nil(t, seeds)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDNSNXDOMAINIsNotFound(t *testing.T) {
	r, _ := dnsServer(t, testZone)
	_, err := (&DNS{Domain: "missing.test", Resolver: r}).Fetch(fetchCtx(t))
	var dnsErr *net.DNSError
	require.True(t, errors.As(err, &dnsErr), "got %v", err)
	assert.True(t, dnsErr.IsNotFound)
}

func TestDNSTimeout(t *testing.T) {
	r, _ := dnsServer(t, nil)
	d := &DNS{Domain: "slow.test", Resolver: r, Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := d.Fetch(fetchCtx(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dns TXT slow.test: ")
	assert.Less(t, time.Since(start), wait/2)
}

// The name is queried for TXT exactly as configured, as Dynomite's res_query
// does: no search domain is appended first.
func TestDNSQueriesNameAsWritten(t *testing.T) {
	r, queries := dnsServer(t, testZone)
	env := map[string]string{EnvDNSName: "multi.test"}
	p, err := New(&config.Config{SeedProvider: DNSName}, func(k string) string { return env[k] })
	require.NoError(t, err)
	p.(*DNS).Resolver = r
	_, err = p.Fetch(fetchCtx(t))
	require.NoError(t, err)
	select {
	case q := <-queries:
		assert.Equal(t, fmt.Sprintf("multi.test. %d", typeTXT), q)
	case <-time.After(wait):
		t.Fatal("no query reached the server")
	}
}
