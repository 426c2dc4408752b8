package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFaultEndpointsOnlyWithTheFlag: the clock-skew endpoint exists only
// when the node runs with --fault-injection.
func TestFaultEndpointsOnlyWithTheFlag(t *testing.T) {
	conf := "  datacenter: dc1\n  rack: r1\n  tokens: '0'\n"
	plain := startOpNode(t, conf)
	code, _ := plain.get(t, "/fault/clock_offset/5000")
	require.Equal(t, 404, code, "no fault endpoints without --fault-injection")
	code, _ = plain.get(t, "/ping")
	require.Equal(t, 200, code)

	faulty := startOpNode(t, conf, "--fault-injection")
	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/fault/clock_offset", 200, "0\n"},
		{"/fault/clock_offset/-300000", 200, "OK\n"},
		{"/fault/clock_offset", 200, "-300000\n"},
		{"/fault/clock_offset/soon", 400, "not milliseconds"},
		{"/fault/clock_offset/999999999999", 400, "within ±1 day"},
		{"/fault/clock_offset/0", 200, "OK\n"},
		{"/fault/clock_offset", 200, "0\n"},
		{"/ping", 200, "OK"},
	} {
		code, body := faulty.get(t, c.path)
		require.Equal(t, c.code, code, c.path)
		require.Contains(t, body, c.body, c.path)
	}
}
