package check

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func writeOp(p int, key, val, level, dc string, inv, done int, t Type) History {
	return History{
		{Process: p, Type: Invoke, F: "write", Key: key, Value: val, Level: level, DC: dc, Time: ms(inv)},
		{Process: p, Type: t, F: "write", Key: key, Value: val, Level: level, DC: dc, Time: ms(done)},
	}
}

// regRead is a successful read of key returning val ("": a miss).
func regRead(p int, key, level, dc string, inv, done int, val string) History {
	return History{
		{Process: p, Type: Invoke, F: "read", Key: key, Level: level, DC: dc, Time: ms(inv)},
		{Process: p, Type: OK, F: "read", Key: key, Level: level, DC: dc, Time: ms(done), Value: val},
	}
}

func TestCheckRegister(t *testing.T) {
	w1 := writeOp(1, "k", "1", DCQuorum, "dc1", 0, 10, OK)
	w2 := writeOp(1, "k", "2", DCQuorum, "dc1", 20, 30, OK)
	cases := []struct {
		name string
		h    History
		opts RegisterOptions
		want []string
	}{
		{"valid", cat(w1, w2, regRead(2, "k", DCSafeQuorum, "dc1", 40, 50, "2")), RegisterOptions{}, nil},
		{"a miss before any write", cat(regRead(2, "k", DCSafeQuorum, "dc1", 0, 5, ""), w1), RegisterOptions{}, nil},
		{"phantom", cat(w1, regRead(2, "k", DCOne, "dc1", 20, 30, "7")), RegisterOptions{}, []string{"no-phantoms"}},
		{"another key's value", cat(w1, regRead(2, "j", DCOne, "dc1", 20, 30, "1")), RegisterOptions{}, []string{"no-phantoms"}},
		{"read before the write was invoked", cat(regRead(2, "k", DCOne, "dc1", 0, 5, "1"), writeOp(1, "k", "1", DCOne, "dc1", 10, 20, OK)), RegisterOptions{}, []string{"no-phantoms"}},
		{"two values", cat(w1, w2, History{
			{Process: 2, Type: Invoke, F: "read", Key: "k", Level: DCOne, DC: "dc1", Time: ms(40)},
			{Process: 2, Type: OK, F: "read", Key: "k", Level: DCOne, DC: "dc1", Time: ms(50), Values: []string{"1", "2"}},
		}), RegisterOptions{}, []string{"no-phantoms"}},
		{"phantoms count whatever the faults", cat(w1, regRead(2, "k", DCOne, "dc1", 20, 30, "9")),
			RegisterOptions{Options: Options{DatastoreLoss: true}, Reordering: true}, []string{"no-phantoms"}},
		{"an unacknowledged write may be read", cat(writeOp(1, "k", "1", DCOne, "dc1", 0, 50, Info), regRead(2, "k", DCSafeQuorum, "dc1", 60, 70, "1")), RegisterOptions{}, nil},
		{"safe read returns an older value", cat(w1, w2, regRead(2, "k", DCSafeQuorum, "dc1", 40, 50, "1")), RegisterOptions{}, []string{"safe-reads-not-stale"}},
		{"safe read misses a quorum write", cat(w1, regRead(2, "k", DCEachSafeQuorum, "dc1", 40, 50, "")), RegisterOptions{}, []string{"safe-reads-not-stale"}},
		{"safe read of a newer unacknowledged value", cat(w1, writeOp(1, "k", "2", DCQuorum, "dc1", 20, 90, Info), regRead(2, "k", DCSafeQuorum, "dc1", 40, 50, "2")), RegisterOptions{}, nil},
		{"concurrent safe read may be old", cat(w1, writeOp(1, "k", "2", DCQuorum, "dc1", 20, 45, OK), regRead(2, "k", DCSafeQuorum, "dc1", 40, 50, "1")), RegisterOptions{}, nil},
		{"a DC_QUORUM read may be stale", cat(w1, w2, regRead(2, "k", DCQuorum, "dc1", 40, 50, "1")), RegisterOptions{}, nil},
		{"a DC_ONE write binds no read", cat(writeOp(1, "k", "1", DCOne, "dc1", 0, 10, OK), regRead(2, "k", DCSafeQuorum, "dc1", 40, 50, "")), RegisterOptions{}, nil},
		{"safe read in another DC is not bound", cat(w1, w2, regRead(2, "k", DCSafeQuorum, "dc2", 40, 50, "1")), RegisterOptions{}, nil},
		{"each-safe writes bind safe reads anywhere", cat(writeOp(1, "k", "1", DCEachSafeQuorum, "dc1", 0, 10, OK), regRead(2, "k", DCSafeQuorum, "dc2", 40, 50, "")), RegisterOptions{}, []string{"safe-reads-not-stale"}},
		{"reordering lifts the promise", cat(w1, w2, regRead(2, "k", DCSafeQuorum, "dc1", 40, 50, "1")), RegisterOptions{Reordering: true}, nil},
		{"datastore loss lifts the promise", cat(w1, w2, regRead(2, "k", DCSafeQuorum, "dc1", 40, 50, "")), RegisterOptions{Options: Options{DatastoreLoss: true}}, nil},
		{"two writers", cat(w1, writeOp(3, "k", "5", DCOne, "dc1", 20, 30, OK)), RegisterOptions{}, []string{"history"}},
		{"values must increase", cat(w2, writeOp(1, "k", "1", DCOne, "dc1", 40, 50, OK)), RegisterOptions{}, []string{"history"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, kinds(CheckRegister(c.h, c.opts)))
		})
	}
}

func TestCheckRegisterLivenessAndSettled(t *testing.T) {
	h := cat(writeOp(1, "k", "1", DCOne, "dc1", 0, 10, OK), writeOp(1, "k", "2", DCOne, "dc1", 20, 30, OK),
		regRead(2, "k", DCOne, "dc1", 100, 110, "1"), regRead(3, "k", DCQuorum, "dc1", 100, 110, "2"))
	for i := 4; i < len(h); i++ {
		h[i].Phase = "liveness"
	}
	r := CheckRegister(h, RegisterOptions{Options: Options{Settled: true}})
	require.Equal(t, []string{"settled-reads-latest"}, kinds(r), "the DC_ONE read is stale, the DC_QUORUM one is not")
	require.Contains(t, r.Violations[0].What, "returned 1, older than 2")
	require.Empty(t, kinds(CheckRegister(h, RegisterOptions{})), "without settling, a DC_ONE read may be stale")

	failing := History{
		{Process: 3, Type: Invoke, F: "write", Key: "k", Value: "1", Level: DCQuorum, Time: ms(1), Phase: "liveness"},
		{Process: 3, Type: Info, F: "write", Key: "k", Value: "1", Level: DCQuorum, Time: ms(2), Phase: "liveness", Error: "timeout"},
		{Process: 4, Type: Invoke, F: "read", Key: "k", Level: DCOne, Time: ms(3), Phase: "liveness"},
	}
	r = CheckRegister(failing, RegisterOptions{})
	require.Equal(t, []string{"liveness", "liveness"}, kinds(r), "a failed and an unanswered liveness op")
	require.Equal(t, 1, r.Stats["read:info"])
	require.Equal(t, 1, r.Stats["write:info"])
}
