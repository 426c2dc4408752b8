package transport

import (
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/dynonode/dynonode/actors/store"
)

// frame encodes m from "evil" to actor name on node id, framed.
func frame(t testing.TB, id actors.NodeID, name string, m any) []byte {
	b, err := msg.NewCodec().Append(nil, actors.Addr{Node: "evil", Name: "x"}, actors.Addr{Node: id, Name: name}, m)
	if err != nil {
		t.Fatal(err)
	}
	return msg.AppendFrame(nil, b)
}

// FuzzPeerFrames feeds arbitrary bytes, as an unauthenticated peer would
// send them, to the inbound frame decoder of a running node: it never
// panics, never reports more bytes used than it was given, asks for more
// only up to the frame limit, and delivers only to actors that exist on
// the node. (The envelope and store messages have fuzz targets of their
// own: msg.FuzzDecode, store.FuzzMsgsDecode.)
func FuzzPeerFrames(f *testing.F) {
	f.Add(frame(f, "n", "store", store.Exec{ID: 1, Args: [][]byte{[]byte("get"), []byte("k")}}))
	f.Add(frame(f, "n", "nobody", store.Exec{ID: 2}))
	f.Add(frame(f, "other", "store", store.Exec{ID: 3}))
	f.Add(append(frame(f, "n", "store", store.Batch{Execs: []store.Exec{{ID: 4}}}), 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'}) // a TLS record to a plain peer port
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	n, err := Start(Options{ID: "n", Seed: 1, Log: quietLog(), MaxFrame: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close(5 * time.Second) })
	inbox := make(chan got, 1<<16)
	n.Spawn("store", func() actors.Behaviour { return &recorder{out: inbox} })
	codec := msg.NewCodec()
	f.Fuzz(func(t *testing.T, b []byte) {
		var out []posted
		used, need, err := n.frames(codec, b, &out, map[string]*cell{})
		if used < 0 || used > len(b) {
			t.Fatalf("used %d of %d bytes", used, len(b))
		}
		if need > msg.FrameHeader+n.opts.MaxFrame {
			t.Fatalf("asks for %d bytes, over the frame limit", need)
		}
		if err != nil && need != 0 {
			t.Fatalf("an error and a need: %v, %d", err, need)
		}
		for _, p := range out {
			if p.to == nil || n.lookup(p.to.addr.Name) != p.to {
				t.Fatalf("delivered to an actor that is not on the node: %+v", p)
			}
		}
	})
}
