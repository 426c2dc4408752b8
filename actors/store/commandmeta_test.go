package store

import (
	"strings"
	"testing"

	router "github.com/dynonode/dynonode/actors/command"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// routerRefuses lists the commands the engine implements that the router
// (actors/command) refuses in a cluster, each with the router's reason.
var routerRefuses = map[string]bool{
	"sintercard": true, // "a cluster has no single answer for it"
	"config":     true, // in front of redis-server; on embedded nodes the coordinator serves it (actors/coord: Redis.config)
}

// TestCommandTablesAgree compares the engine's command table with the
// router's, command by command: every command the engine implements is
// known to the router, and where the router serves it, both declare the
// same arity (the one field both tables hold). A request the router lets
// through must not be refused by the engine with a different arity error,
// nor the other way round (they disagreed on KEYS: the router let
// "KEYS a b" through as -2, the engine and Redis take exactly 2).
func TestCommandTablesAgree(t *testing.T) {
	refused := map[string]bool{}
	for _, c := range commandTable {
		spec := router.Lookup([]byte(c.name))
		if strings.HasPrefix(c.name, "dyno.") {
			// Internal (read repair): the router must not know them, so a
			// client gets the unknown-command error.
			require.Nil(t, spec, "the router knows the internal command %s", c.name)
			continue
		}
		require.NotNil(t, spec, "the engine implements %s, which the router does not know", c.name)
		if spec.Class == router.Unsupported {
			refused[c.name] = true
			continue
		}
		assert.Equal(t, c.arity, spec.Arity, "arity of %s: engine (actors/store/table.go) vs router (actors/command/table.go)", c.name)
	}
	require.Equal(t, routerRefuses, refused, "engine commands the router refuses")
}
