package mcproto

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzLimits are small so that every limit is within the fuzzer's reach.
var fuzzLimits = Limits{MaxKeyLen: 8, MaxItemSize: 64, MaxLine: 48, MaxGetLine: 96}

// reencodedLimits parse a request re-encoded from one fuzzLimits took:
// the encoding ends lines with CRLF, so a line that ended with a bare LF
// at the limit is one byte longer (testdata e22f3ad60335e72b: a get line
// of exactly MaxGetLine bytes).
var reencodedLimits = Limits{MaxKeyLen: 8, MaxItemSize: 64, MaxLine: 49, MaxGetLine: 97}

// FuzzRequestParser checks that parsing never panics, never claims more
// bytes than it was given, that every request re-encodes to a line the
// parser reads back the same, and that the result does not depend on how
// the stream is split into reads.
func FuzzRequestParser(f *testing.F) {
	f.Add([]byte("get a b\r\nset k 0 0 3\r\nabc\r\n"), uint16(4), uint16(12))
	f.Add([]byte("set k 0 0 100 noreply\r\n"), uint16(3), uint16(0))
	f.Add([]byte("mg a2V5 b v k O1 q\r\nms k 2 T0 MZ\r\nab\r\nma k N0 J1\r\nmd k C1\r\nmn\r\n"), uint16(9), uint16(40))
	f.Fuzz(func(t *testing.T, data []byte, cut1, cut2 uint16) {
		reqs, n, err := NewParser(fuzzLimits).Parse(data)
		if n < 0 || n > len(data) {
			t.Fatalf("consumed %d of %d", n, len(data))
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || !e.Close) {
			t.Fatalf("fatal error %v is not a closing *Error", err)
		}
		for i := range reqs {
			r := &reqs[i]
			if r.Kind == KindError {
				if r.Err == nil || r.Err.Close {
					t.Fatalf("in-band error request %+v", r)
				}
				continue
			}
			enc := AppendRequest(nil, r)
			again, m, err := NewParser(reencodedLimits).Parse(enc)
			if err != nil || m != len(enc) || len(again) != 1 || !bytes.Equal(AppendRequest(nil, &again[0]), enc) {
				t.Fatalf("request %q re-encodes to %q which parses to %d requests, err %v", r.Raw, enc, len(again), err)
			}
		}
		whole := feed(NewParser(fuzzLimits), data)
		split := feed(NewParser(fuzzLimits), data, int(cut1)%(len(data)+1), int(cut2)%(len(data)+1))
		if !equalOutcome(whole, split) {
			t.Fatalf("split at %d,%d: %+v, whole: %+v", cut1, cut2, split, whole)
		}
	})
}

func equalOutcome(a, b outcome) bool {
	if a.Fatal != b.Fatal || a.Left != b.Left || len(a.Reqs) != len(b.Reqs) {
		return false
	}
	for i := range a.Reqs {
		if a.Reqs[i] != b.Reqs[i] {
			return false
		}
	}
	return true
}

var responseKinds = []Kind{KindGet, KindGets, KindSet, KindCas, KindDelete, KindIncr, KindTouch, KindVerbosity, KindVersion}

// FuzzResponseParser checks that ResponseLen and ParseResponse agree, never
// panic, and that a parsed get response re-encodes to exactly its bytes.
func FuzzResponseParser(f *testing.F) {
	f.Add(uint8(0), []byte("VALUE a 0 1\r\nx\r\nEND\r\n"))
	f.Add(uint8(5), []byte("42\r\n"))
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		kind := responseKinds[int(k)%len(responseKinds)]
		n, err := ResponseLen(kind, data)
		var r Response
		pn, perr := ParseResponse(kind, data, &r)
		if n != pn || (err == nil) != (perr == nil) {
			t.Fatalf("ResponseLen %d,%v; ParseResponse %d,%v", n, err, pn, perr)
		}
		var me *MalformedResponseError
		if err != nil && !errors.Is(err, ErrIncomplete) && !errors.As(err, &me) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if err != nil {
			return
		}
		if n <= 0 || n > len(data) {
			t.Fatalf("length %d of %d", n, len(data))
		}
		var enc []byte
		for _, it := range r.Items {
			if it.HasCas {
				enc = AppendValueCas(enc, it.Key, it.Flags, it.Data, it.Cas)
			} else {
				enc = AppendValue(enc, it.Key, it.Flags, it.Data)
			}
		}
		enc = AppendLine(enc, string(r.Line))
		if kind == KindGet || kind == KindGets {
			// Numbers in VALUE lines may carry leading zeros on the wire.
			if m, err := ResponseLen(kind, enc); err != nil || m != len(enc) {
				t.Fatalf("re-encoded %q: %d, %v", enc, m, err)
			}
		} else if !bytes.Equal(enc, data[:n]) {
			t.Fatalf("response %q re-encodes to %q", data[:n], enc)
		}
	})
}
