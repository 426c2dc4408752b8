package checker

import (
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/check"
	"github.com/stretchr/testify/require"
)

// op builds an invoke/completion pair at times (ms) for process p.
func op(p int, f, key, level, value string, inv, done int, typ check.Type) check.History {
	i := check.Op{Process: p, Type: check.Invoke, F: f, Key: key, Level: level, DC: "dc1", Node: "n1", Time: time.Duration(inv) * time.Millisecond}
	if f != "read" {
		i.Value = value
	}
	d := i
	d.Type, d.Time = typ, time.Duration(done)*time.Millisecond
	if f == "read" {
		d.Value = value
	}
	return check.History{i, d}
}

func cat(hs ...check.History) check.History {
	var out check.History
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}

func TestRegister(t *testing.T) {
	cases := []struct {
		name    string
		h       check.History
		checker string // "" when valid
	}{
		{"fresh read after quorum write", cat(
			op(1, "write", "r", check.DCQuorum, "1", 0, 10, check.OK),
			op(2, "read", "r", check.DCSafeQuorum, "1", 20, 30, check.OK)), ""},
		{"later value is fine", cat(
			op(1, "write", "r", check.DCQuorum, "1", 0, 10, check.OK),
			op(1, "write", "r", check.DCQuorum, "2", 11, 40, check.Info),
			op(2, "read", "r", check.DCSafeQuorum, "2", 20, 30, check.OK)), ""},
		{"stale safe read", cat(
			op(1, "write", "r", check.DCQuorum, "1", 0, 10, check.OK),
			op(1, "write", "r", check.DCQuorum, "2", 11, 15, check.OK),
			op(2, "read", "r", check.DCSafeQuorum, "1", 20, 30, check.OK)), "safe-reads-not-stale"},
		{"stale DC_ONE read is allowed", cat(
			op(1, "write", "r", check.DCQuorum, "1", 0, 10, check.OK),
			op(2, "read", "r", check.DCOne, "", 20, 30, check.OK)), ""},
		{"safe read after a DC_ONE write may be stale", cat(
			op(1, "write", "r", check.DCOne, "1", 0, 10, check.OK),
			op(2, "read", "r", check.DCSafeQuorum, "", 20, 30, check.OK)), ""},
		{"phantom", cat(
			op(2, "read", "r", check.DCOne, "7", 20, 30, check.OK)), "no-phantoms"},
		{"value of a write invoked after the read", cat(
			op(2, "read", "r", check.DCOne, "1", 20, 30, check.OK),
			op(1, "write", "r", check.DCOne, "1", 40, 50, check.OK)), "no-phantoms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Register(c.h, check.Options{})
			require.Equal(t, c.checker == "", res.Valid, res.String())
			if c.checker != "" {
				require.Equal(t, c.checker, res.Violations[0].Checker)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	incrs := cat(
		op(1, "incr", "c", check.DCOne, "", 0, 10, check.OK),
		op(1, "incr", "c", check.DCOne, "", 11, 20, check.Info))
	cases := []struct {
		name    string
		h       check.History
		opts    check.Options
		checker string
	}{
		{"within bounds", cat(incrs, op(2, "read", "c", check.DCOne, "2", 25, 30, check.OK)), check.Options{}, ""},
		{"unknown increment may be missing", cat(incrs, op(2, "read", "c", check.DCOne, "1", 25, 30, check.OK)), check.Options{}, ""},
		{"more than invoked", cat(incrs, op(2, "read", "c", check.DCOne, "3", 25, 30, check.OK)), check.Options{}, "no-phantom-increments"},
		{"below acked with faults is measured only", cat(incrs, op(2, "read", "c", check.DCOne, "", 25, 30, check.OK)), check.Options{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Counter(c.h, c.opts)
			require.Equal(t, c.checker == "", res.Valid, res.String())
			if c.checker != "" {
				require.Equal(t, c.checker, res.Violations[0].Checker)
			}
		})
	}
	settled := cat(incrs, op(2, "read", "c", check.DCOne, "0", 25, 30, check.OK))
	settled[len(settled)-2].Phase = "liveness"
	res := Counter(settled, check.Options{Settled: true})
	require.False(t, res.Valid)
	require.Equal(t, "settled-reads-complete", res.Violations[0].Checker)
}
