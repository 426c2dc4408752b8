package check

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func addOp(p int, elem, level, dc string, inv, done int, t Type) History {
	return History{
		{Process: p, Type: Invoke, F: "add", Key: "s", Value: elem, Level: level, DC: dc, Time: ms(inv)},
		{Process: p, Type: t, F: "add", Key: "s", Value: elem, Level: level, DC: dc, Time: ms(done)},
	}
}

func readOp(p int, level, dc string, inv, done int, vals ...string) History {
	return History{
		{Process: p, Type: Invoke, F: "read", Key: "s", Level: level, DC: dc, Time: ms(inv)},
		{Process: p, Type: OK, F: "read", Key: "s", Level: level, DC: dc, Time: ms(done), Values: vals},
	}
}

func cat(hs ...History) History {
	var out History
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}

func kinds(r Result) []string {
	var out []string
	for _, v := range r.Violations {
		out = append(out, v.Checker)
	}
	return out
}

func TestCheckSet(t *testing.T) {
	cases := []struct {
		name string
		h    History
		opts Options
		want []string
	}{
		{"valid", cat(addOp(1, "a", DCQuorum, "dc1", 0, 10, OK), readOp(2, DCSafeQuorum, "dc1", 20, 30, "a")), Options{}, nil},
		{"phantom", readOp(2, DCOne, "dc1", 20, 30, "zzz"), Options{}, []string{"no-phantoms"}},
		{"read before the add was invoked", cat(readOp(2, DCOne, "dc1", 0, 5, "a"), addOp(1, "a", DCOne, "dc1", 10, 20, OK)), Options{}, []string{"no-phantoms"}},
		{"concurrent read may see a pending add", cat(addOp(1, "a", DCOne, "dc1", 0, 50, Info), readOp(2, DCOne, "dc1", 10, 20, "a")), Options{}, nil},
		{"safe read misses a quorum write", cat(addOp(1, "a", DCQuorum, "dc1", 0, 10, OK), readOp(2, DCSafeQuorum, "dc1", 20, 30)), Options{}, []string{"safe-reads-see-quorum-writes"}},
		{"safe read in another DC is not bound", cat(addOp(1, "a", DCQuorum, "dc1", 0, 10, OK), readOp(2, DCSafeQuorum, "dc2", 20, 30)), Options{}, nil},
		{"each-safe read is bound by each-safe writes anywhere", cat(addOp(1, "a", DCEachSafeQuorum, "dc1", 0, 10, OK), readOp(2, DCEachSafeQuorum, "dc2", 20, 30)), Options{}, []string{"safe-reads-see-quorum-writes"}},
		{"a DC_ONE write promises nothing to a safe read", cat(addOp(1, "a", DCOne, "dc1", 0, 10, OK), readOp(2, DCSafeQuorum, "dc1", 20, 30)), Options{}, nil},
		{"concurrent safe read is not bound", cat(addOp(1, "a", DCQuorum, "dc1", 0, 25, OK), readOp(2, DCSafeQuorum, "dc1", 20, 30)), Options{}, nil},
		{"datastore loss lifts the promise", cat(addOp(1, "a", DCQuorum, "dc1", 0, 10, OK), readOp(2, DCSafeQuorum, "dc1", 20, 30)), Options{DatastoreLoss: true}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, kinds(CheckSet(c.h, c.opts)))
		})
	}
}

func TestCheckSetLivenessAndSettled(t *testing.T) {
	h := cat(addOp(1, "a", DCOne, "dc1", 0, 10, OK), readOp(2, DCOne, "dc1", 100, 110))
	h[2].Phase, h[3].Phase = "liveness", "liveness"
	require.Equal(t, []string{"settled-reads-complete"}, kinds(CheckSet(h, Options{Settled: true})))
	require.Empty(t, kinds(CheckSet(h, Options{})), "without settling, a DC_ONE read may miss")

	failing := History{
		{Process: 3, Type: Invoke, F: "add", Key: "k", Value: "x", Level: DCQuorum, Time: ms(1), Phase: "liveness"},
		{Process: 3, Type: Info, F: "add", Key: "k", Value: "x", Level: DCQuorum, Time: ms(2), Phase: "liveness", Error: "timeout"},
		{Process: 4, Type: Invoke, F: "read", Key: "k", Level: DCOne, Time: ms(3), Phase: "liveness"},
	}
	r := CheckSet(failing, Options{})
	require.Equal(t, []string{"liveness", "liveness"}, kinds(r), "a failed and an unanswered liveness op")
	require.False(t, r.Valid)
	require.Equal(t, 1, r.Stats["read:info"])
}
