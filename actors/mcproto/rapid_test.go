package mcproto

import (
	"testing"

	"pgregory.net/rapid"
)

func genKey() *rapid.Generator[[]byte] {
	return rapid.SliceOfN(rapid.ByteRange(0x21, 0x7e), 1, 250)
}

func genRequest() *rapid.Generator[Request] {
	return rapid.Custom(func(t *rapid.T) Request {
		kinds := []Kind{KindGet, KindGets, KindSet, KindAdd, KindReplace, KindAppend, KindPrepend,
			KindCas, KindDelete, KindIncr, KindDecr, KindTouch, KindVerbosity, KindVersion, KindQuit}
		r := Request{Kind: rapid.SampledFrom(kinds).Draw(t, "kind")}
		switch r.Kind {
		case KindGet, KindGets:
			r.Keys = rapid.SliceOfN(genKey(), 1, 5).Draw(t, "keys")
		case KindVerbosity:
			r.Level = rapid.Uint32().Draw(t, "level")
		case KindVersion, KindQuit:
		default:
			r.Key = genKey().Draw(t, "key")
		}
		if r.Kind.IsStorage() {
			r.Flags = rapid.Uint32().Draw(t, "flags")
			r.Exptime = rapid.Int32().Draw(t, "exptime")
			r.Data = rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "data")
			if r.Kind == KindCas {
				r.Cas = rapid.Uint64().Draw(t, "cas")
			}
		}
		switch r.Kind {
		case KindIncr, KindDecr:
			r.Delta = rapid.Uint64().Draw(t, "delta")
		case KindTouch:
			r.Exptime = rapid.Int32().Draw(t, "exptime")
		}
		if r.Kind != KindGet && r.Kind != KindGets && r.Kind != KindVersion && r.Kind != KindQuit {
			r.NoReply = rapid.Bool().Draw(t, "noreply")
		}
		return r
	})
}

// Requests encoded with AppendRequest, pipelined and delivered in arbitrary
// reads, parse back to the same requests.
func TestRapidRequestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		reqs := rapid.SliceOfN(genRequest(), 1, 8).Draw(t, "requests")
		var stream []byte
		var want []string
		for i := range reqs {
			enc := AppendRequest(nil, &reqs[i])
			stream = append(stream, enc...)
			want = append(want, string(enc))
		}
		cuts := rapid.SliceOfN(rapid.IntRange(0, len(stream)), 0, 6).Draw(t, "cuts")
		got := feed(NewParser(Limits{}), stream, cuts...)
		if got.Fatal != "" || got.Left != 0 || len(got.Reqs) != len(want) {
			t.Fatalf("got %+v, want %d requests", got, len(want))
		}
		for i := range want {
			if got.Reqs[i] != want[i] {
				t.Fatalf("request %d: %q, want %q", i, got.Reqs[i], want[i])
			}
		}
	})
}

// Get responses built with the encoders frame and parse back to the items.
func TestRapidGetResponseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		withCas := rapid.Bool().Draw(t, "gets")
		items := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Item {
			it := Item{Key: genKey().Draw(t, "key"), Flags: rapid.Uint32().Draw(t, "flags"),
				Data: rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "data")}
			if withCas {
				it.Cas, it.HasCas = rapid.Uint64().Draw(t, "cas"), true
			}
			return it
		}), 0, 5).Draw(t, "items")
		var buf []byte
		for _, it := range items {
			if withCas {
				buf = AppendValueCas(buf, it.Key, it.Flags, it.Data, it.Cas)
			} else {
				buf = AppendValue(buf, it.Key, it.Flags, it.Data)
			}
		}
		buf = AppendLine(buf, End)
		kind := KindGet
		if withCas {
			kind = KindGets
		}
		for i := range len(buf) {
			if _, err := ResponseLen(kind, buf[:i]); err != ErrIncomplete {
				t.Fatalf("prefix %d: %v, want ErrIncomplete", i, err)
			}
		}
		var r Response
		n, err := ParseResponse(kind, buf, &r)
		if err != nil || n != len(buf) || len(r.Items) != len(items) {
			t.Fatalf("ParseResponse: n=%d of %d, %d items of %d, %v", n, len(buf), len(r.Items), len(items), err)
		}
		for i, it := range items {
			g := r.Items[i]
			if string(g.Key) != string(it.Key) || g.Flags != it.Flags || string(g.Data) != string(it.Data) || g.Cas != it.Cas || g.HasCas != it.HasCas {
				t.Fatalf("item %d: %+v, want %+v", i, g, it)
			}
		}
	})
}
