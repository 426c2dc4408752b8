package ring

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func mustNew(t *testing.T, cfg Config) *Ring {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestOwnerInRackBoundaries(t *testing.T) {
	const max = math.MaxUint32
	cases := []struct {
		name  string
		nodes []Node
		token uint32
		want  NodeID
	}{
		// a:100 b:200 c:300 — a owns (300, max] ∪ [0, 100].
		{"zero wraps to smallest", abc(100, 200, 300), 0, "a"},
		{"below smallest", abc(100, 200, 300), 99, "a"},
		{"equal to smallest", abc(100, 200, 300), 100, "a"},
		{"just above smallest", abc(100, 200, 300), 101, "b"},
		{"equal to middle", abc(100, 200, 300), 200, "b"},
		{"just above middle", abc(100, 200, 300), 201, "c"},
		{"equal to largest", abc(100, 200, 300), 300, "c"},
		{"just above largest wraps", abc(100, 200, 300), 301, "a"},
		{"max wraps", abc(100, 200, 300), max, "a"},
		// Tokens at the extremes of the range.
		{"token 0 owns 0", abc(0, 1<<31, max), 0, "a"},
		{"1 goes to the next token", abc(0, 1<<31, max), 1, "b"},
		{"equal to 2^31", abc(0, 1<<31, max), 1 << 31, "b"},
		{"above 2^31", abc(0, 1<<31, max), 1<<31 + 1, "c"},
		{"max owned by token max", abc(0, 1<<31, max), max, "c"},
		// A single node owns everything.
		{"single node low", []Node{{ID: "a", DC: "d", Rack: "r", Tokens: []uint32{500}}}, 0, "a"},
		{"single node high", []Node{{ID: "a", DC: "d", Rack: "r", Tokens: []uint32{500}}}, max, "a"},
		// Multi-token nodes interleave: a:{100,300} b:{200,400}.
		{"multi below all", multi(), 50, "a"},
		{"multi a's first range end", multi(), 100, "a"},
		{"multi b's first range", multi(), 150, "b"},
		{"multi a's second range", multi(), 250, "a"},
		{"multi b's second range end", multi(), 400, "b"},
		{"multi wrap", multi(), 401, "a"},
		// The wrap range belongs to whoever holds the smallest token, here b.
		{"wrap to second-listed holder", []Node{
			{ID: "a", DC: "d", Rack: "r", Tokens: []uint32{400, 200}},
			{ID: "b", DC: "d", Rack: "r", Tokens: []uint32{300, 100}},
		}, max, "b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustNew(t, Config{Nodes: c.nodes, Local: c.nodes[0].ID})
			got, ok := r.OwnerInRack("d", "r", c.token)
			if !ok || got != c.want {
				t.Errorf("OwnerInRack(%d) = %q, %v; want %q", c.token, got, ok, c.want)
			}
		})
	}
}

func abc(ta, tb, tc uint32) []Node {
	// Listed out of token order on purpose: the ring must sort.
	return []Node{
		{ID: "c", DC: "d", Rack: "r", Tokens: []uint32{tc}},
		{ID: "a", DC: "d", Rack: "r", Tokens: []uint32{ta}},
		{ID: "b", DC: "d", Rack: "r", Tokens: []uint32{tb}},
	}
}

func multi() []Node {
	return []Node{
		{ID: "a", DC: "d", Rack: "r", Tokens: []uint32{300, 100}},
		{ID: "b", DC: "d", Rack: "r", Tokens: []uint32{200, 400}},
	}
}

func TestOwnerInUnknownRack(t *testing.T) {
	r := mustNew(t, Config{Nodes: abc(1, 2, 3), Local: "a"})
	for _, dr := range [][2]string{{"d", "x"}, {"x", "r"}, {"", ""}} {
		if id, ok := r.OwnerInRack(dr[0], dr[1], 5); ok || id != "" {
			t.Errorf("OwnerInRack(%q, %q) = %q, %v; want not found", dr[0], dr[1], id, ok)
		}
		if id, ok := r.KeyOwnerInRack(dr[0], dr[1], []byte("k")); ok || id != "" {
			t.Errorf("KeyOwnerInRack(%q, %q) = %q, %v; want not found", dr[0], dr[1], id, ok)
		}
	}
}

// TestKeyToOwner composes hash and continuum: murmur("hello") is 0x521b0bff
// (see the Dynomite vectors), and tokens are placed around it.
func TestKeyToOwner(t *testing.T) {
	const h = 0x521b0bff
	nodes := []Node{
		{ID: "exact", DC: "d", Rack: "r1", Tokens: []uint32{h}},
		{ID: "after", DC: "d", Rack: "r1", Tokens: []uint32{h + 1}},
		{ID: "before", DC: "d", Rack: "r2", Tokens: []uint32{h - 1}},
		{ID: "next", DC: "d", Rack: "r2", Tokens: []uint32{h + 1}},
		{ID: "low", DC: "d", Rack: "r3", Tokens: []uint32{0x10}},
		{ID: "lower", DC: "d", Rack: "r3", Tokens: []uint32{0x20}},
	}
	r := mustNew(t, Config{Nodes: nodes, Local: "exact"})
	key := []byte("hello")
	if got := r.Token(key); got != h {
		t.Fatalf("Token(hello) = %#x, want %#x", got, h)
	}
	want := map[string]NodeID{"r1": "exact", "r2": "next", "r3": "low"}
	for rack, id := range want {
		if got, _ := r.KeyOwnerInRack("d", rack, key); got != id {
			t.Errorf("rack %s: owner %q, want %q", rack, got, id)
		}
	}
	if got := r.LocalOwner(key); got != "exact" {
		t.Errorf("LocalOwner = %q, want exact", got)
	}

	// With a hash tag, "x{hello}y" hashes like "hello".
	tag, _ := ParseHashTag("{}")
	rt := mustNew(t, Config{Nodes: nodes, Local: "exact", HashTag: tag})
	if got := rt.Token([]byte("x{hello}y")); got != h {
		t.Errorf("tagged Token = %#x, want %#x", got, h)
	}
	// Another hash changes the token, so the configured hash must be used.
	rc := mustNew(t, Config{Nodes: nodes, Local: "exact", Hash: CRC32a})
	if got := rc.Token(key); got != 0x3610a686 {
		t.Errorf("crc32a Token(hello) = %#x, want 0x3610a686", got)
	}
}

// TestEmptyHashedKey: Dynomite routes an empty hashed key to the local node
// in the local rack; elsewhere we use the owner of token 0.
func TestEmptyHashedKey(t *testing.T) {
	tag, _ := ParseHashTag("{}")
	nodes := []Node{
		{ID: "l1", DC: "d", Rack: "local", Tokens: []uint32{10}},
		{ID: "l2", DC: "d", Rack: "local", Tokens: []uint32{20}},
		{ID: "o1", DC: "d", Rack: "other", Tokens: []uint32{300}},
		{ID: "o2", DC: "d", Rack: "other", Tokens: []uint32{7}},
	}
	r := mustNew(t, Config{Nodes: nodes, Local: "l2", HashTag: tag})
	for _, key := range []string{"", "{}", "abc{}def", "{}{x}"} {
		if got := r.LocalOwner([]byte(key)); got != "l2" {
			t.Errorf("LocalOwner(%q) = %q, want the local node l2", key, got)
		}
		if got, _ := r.KeyOwnerInRack("d", "local", []byte(key)); got != "l2" {
			t.Errorf("KeyOwnerInRack(local, %q) = %q, want l2", key, got)
		}
		if got, _ := r.KeyOwnerInRack("d", "other", []byte(key)); got != "o2" {
			t.Errorf("KeyOwnerInRack(other, %q) = %q, want o2 (smallest token)", key, got)
		}
		reps := r.Replicas([]byte(key), nil)
		if len(reps) != 2 || reps[0].Node != "l2" || reps[1].Node != "o2" {
			t.Errorf("Replicas(%q) = %+v, want l2 then o2", key, reps)
		}
	}
	// l1 would own token 0 in the local rack: the rule really overrides it.
	if got, _ := r.OwnerInRack("d", "local", 0); got != "l1" {
		t.Errorf("OwnerInRack(local, 0) = %q, want l1", got)
	}
}

func TestReplicaOrder(t *testing.T) {
	var nodes []Node
	for _, dc := range []string{"us-west", "eu", "us-east"} {
		for _, rack := range []string{"c", "a", "b"} {
			nodes = append(nodes, Node{ID: dc + "/" + rack, DC: dc, Rack: rack, Tokens: []uint32{1}})
		}
	}
	r := mustNew(t, Config{Nodes: nodes, Local: "us-east/b"})
	got := r.Replicas([]byte("k"), nil)
	want := []Replica{
		{"us-east", "b", "us-east/b", true},
		{"us-east", "a", "us-east/a", true},
		{"us-east", "c", "us-east/c", true},
		{"eu", "a", "eu/a", false},
		{"eu", "b", "eu/b", false},
		{"eu", "c", "eu/c", false},
		{"us-west", "a", "us-west/a", false},
		{"us-west", "b", "us-west/b", false},
		{"us-west", "c", "us-west/c", false},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Replicas:\n got %+v\nwant %+v", got, want)
	}
	// Appends after existing entries.
	pre := []Replica{{DC: "keep"}}
	if got := r.Replicas([]byte("k"), pre); len(got) != 10 || got[0].DC != "keep" {
		t.Errorf("Replicas must append to dst, got %+v", got)
	}
}

func TestRemoteTargetRack(t *testing.T) {
	var nodes []Node
	add := func(dc string, racks ...string) {
		for _, rk := range racks {
			nodes = append(nodes, Node{ID: dc + rk, DC: dc, Rack: rk, Tokens: []uint32{1}})
		}
	}
	add("local", "rc", "ra", "rb")  // sorted: ra rb rc; local rack rc has index 2
	add("two", "y", "x")            // 2 % 2 = 0 -> x
	add("four", "s", "q", "r", "p") // 2 % 4 = 2 -> r
	add("one", "only")              // 2 % 1 = 0
	r := mustNew(t, Config{Nodes: nodes, Local: "localrc"})
	for dc, want := range map[string]string{"two": "x", "four": "r", "one": "only", "local": "rc"} {
		if got, ok := r.RemoteTargetRack(dc); !ok || got != want {
			t.Errorf("RemoteTargetRack(%q) = %q, %v; want %q", dc, got, ok, want)
		}
	}
	if got, ok := r.RemoteTargetRack("nowhere"); ok || got != "" {
		t.Errorf("RemoteTargetRack(nowhere) = %q, %v", got, ok)
	}
}

func TestNewRejects(t *testing.T) {
	n := func(id, dc, rack string, tokens ...uint32) Node {
		return Node{ID: id, DC: dc, Rack: rack, Tokens: tokens}
	}
	cases := []struct {
		name    string
		cfg     Config
		err     error
		mention string
	}{
		{"no nodes", Config{Local: "a"}, ErrUnknownLocal, `"a"`},
		{"local missing", Config{Nodes: []Node{n("a", "d", "r", 1)}, Local: "z"}, ErrUnknownLocal, `"z"`},
		{"empty id", Config{Nodes: []Node{n("", "d", "r", 1)}}, ErrInvalidNode, "empty ID"},
		{"empty dc", Config{Nodes: []Node{n("a", "", "r", 1)}, Local: "a"}, ErrInvalidNode, `"a": empty DC`},
		{"empty rack", Config{Nodes: []Node{n("a", "d", "", 1)}, Local: "a"}, ErrInvalidNode, `"a": empty rack`},
		{"no tokens", Config{Nodes: []Node{n("a", "d", "r")}, Local: "a"}, ErrInvalidNode, `"a": no tokens`},
		{"duplicate id", Config{Nodes: []Node{n("a", "d", "r", 1), n("a", "d", "r2", 2)}, Local: "a"}, ErrDuplicateNode, `"a"`},
		{"duplicate token", Config{Nodes: []Node{n("a", "d", "r", 1, 7), n("b", "d", "r", 7)}, Local: "a"}, ErrDuplicateToken, `token 7 in dc "d" rack "r": held by node "a" and node "b"`},
		{"token twice in one node", Config{Nodes: []Node{n("a", "d", "r", 7, 7)}, Local: "a"}, ErrDuplicateToken, `listed twice by node "a"`},
		{"invalid hash", Config{Nodes: []Node{n("a", "d", "r", 1)}, Local: "a", Hash: 99}, ErrUnknownHash, "Hash(99)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := New(c.cfg)
			if err == nil {
				t.Fatalf("New succeeded: %+v", r)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("error %q does not wrap %q", err, c.err)
			}
			if !strings.HasPrefix(err.Error(), "ring: ") || !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q should start with ring: and mention %s", err, c.mention)
			}
		})
	}
	// The same token in different racks (or DCs) is normal: each rack is a full copy.
	ok := Config{Nodes: []Node{n("a", "d", "r1", 7), n("b", "d", "r2", 7), n("c", "e", "r1", 7)}, Local: "a"}
	if _, err := New(ok); err != nil {
		t.Errorf("same token in different racks rejected: %v", err)
	}
}

func TestAccessors(t *testing.T) {
	tag, _ := ParseHashTag("{}")
	cfg := Config{
		Nodes: []Node{
			{ID: "n3", DC: "west", Rack: "r2", Tokens: []uint32{9, 3}},
			{ID: "n1", DC: "east", Rack: "r1", Tokens: []uint32{5}},
			{ID: "n2", DC: "west", Rack: "r1", Tokens: []uint32{5}},
			{ID: "n0", DC: "west", Rack: "r2", Tokens: []uint32{4}},
		},
		Local:   "n3",
		Hash:    Jenkins,
		HashTag: tag,
	}
	r := mustNew(t, cfg)
	// Mutating the input after New must not change the ring.
	cfg.Nodes[0].Tokens[0] = 1000
	cfg.Nodes[0].ID = "changed"

	if got := r.DCs(); !slices.Equal(got, []string{"east", "west"}) {
		t.Errorf("DCs = %v", got)
	}
	if got := r.Racks("west"); !slices.Equal(got, []string{"r1", "r2"}) {
		t.Errorf("Racks(west) = %v", got)
	}
	if got := r.Racks("nowhere"); got != nil {
		t.Errorf("Racks(nowhere) = %v", got)
	}
	if got := r.RackNodes("west", "r2"); !slices.Equal(got, []NodeID{"n0", "n3"}) {
		t.Errorf("RackNodes(west, r2) = %v", got)
	}
	if got := r.RackNodes("east", "r2"); got != nil {
		t.Errorf("RackNodes(east, r2) = %v", got)
	}
	var ids []NodeID
	for _, n := range r.Nodes() {
		ids = append(ids, n.ID)
	}
	if !slices.Equal(ids, []NodeID{"n0", "n1", "n2", "n3"}) {
		t.Errorf("Nodes order = %v", ids)
	}
	local := r.Local()
	if local.ID != "n3" || !slices.Equal(local.Tokens, []uint32{3, 9}) || r.LocalDC() != "west" || r.LocalRack() != "r2" {
		t.Errorf("Local = %+v in %s/%s", local, r.LocalDC(), r.LocalRack())
	}
	// Returned tokens are copies.
	local.Tokens[0] = 77
	if n, ok := r.Node("n3"); !ok || n.Tokens[0] != 3 {
		t.Errorf("Node(n3) = %+v, %v after mutating a copy", n, ok)
	}
	if _, ok := r.Node("changed"); ok {
		t.Error("Node(changed) found: the ring aliases its input")
	}
	if r.Hash() != Jenkins || r.HashTag() != tag || r.NumRacks() != 3 {
		t.Errorf("Hash=%v HashTag=%v NumRacks=%d", r.Hash(), r.HashTag(), r.NumRacks())
	}
}

func TestLookupsDoNotAllocate(t *testing.T) {
	r := benchRing(t)
	key := []byte("user:1000:profile")
	dst := make([]Replica, 0, r.NumRacks())
	checks := map[string]func(){
		"Token":          func() { r.Token(key) },
		"OwnerInRack":    func() { r.OwnerInRack("dc2", "rack3", 12345) },
		"KeyOwnerInRack": func() { r.KeyOwnerInRack("dc1", "rack2", key) },
		"LocalOwner":     func() { r.LocalOwner(key) },
		"Replicas":       func() { dst = r.Replicas(key, dst[:0]) },
		"RemoteTarget":   func() { r.RemoteTargetRack("dc2") },
	}
	for name, f := range checks {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}

// benchRing is 2 DCs x 3 racks x 3 nodes with evenly spread tokens, the
// shape of Dynomite's own test clusters.
func benchRing(tb testing.TB) *Ring {
	var nodes []Node
	for _, dc := range []string{"dc1", "dc2"} {
		for _, rack := range []string{"rack1", "rack2", "rack3"} {
			for i := range 3 {
				nodes = append(nodes, Node{
					ID: dc + "-" + rack + "-" + string(rune('a'+i)), DC: dc, Rack: rack,
					Tokens: []uint32{uint32(uint64(i) * (1 << 32) / 3)},
				})
			}
		}
	}
	r, err := New(Config{Nodes: nodes, Local: "dc1-rack2-b"})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
