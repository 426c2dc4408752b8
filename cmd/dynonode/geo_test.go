package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/internal/testproc"
)

// TestEmbeddedClusterGeo: GEO sets on 3 racks of embedded nodes (versions
// on). Points added through one node reach every replica; GEOSEARCH,
// GEORADIUS (and its _RO forms), GEODIST, GEOPOS and GEOHASH through every
// node (DC_ONE: its own rack's replica) answer what a single redis-server
// answers for the same commands, ties among equal distances in Redis's
// order. GEOSEARCHSTORE and GEORADIUS ... STORE write their destination,
// which shares the source's hash tag, on every replica.
func TestEmbeddedClusterGeo(t *testing.T) {
	nodes := startVersionedCluster(t, 175, "  hash_tag: \"{}\"\n")
	cs := make([]*testproc.RESPClient, len(nodes))
	for i, n := range nodes {
		cs[i] = testproc.DialRESP(t, n.listen)
	}
	redis := testproc.DialRESP(t, testproc.Redis(t).Addr)
	do := func(via *testproc.RESPClient, cmd string) {
		t.Helper()
		args := strings.Fields(cmd)
		require.Equal(t, redis.Do(args...), via.Do(args...), cmd)
	}
	for _, add := range []string{
		"GEOADD {g}:pts 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.583333 37.316667 Agrigento",
		"GEOADD {g}:pts 0 0 o 1 0 e -1 0 w 0 1 n 0 -1 s 0.5 0.5 x1 0.5 0.5 x2 0.5 0.5 x3",
		"GEOADD {g}:pts CH XX 13.361390 38.115557 Palermo 2 2 nosuch",
		"GEOADD {g}:pts 180 0 edge -180 85.05112878 corner",
	} {
		do(cs[0], add)
	}
	reads := []string{
		"GEOSEARCH {g}:pts FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST WITHCOORD",
		"GEOSEARCH {g}:pts FROMMEMBER Palermo BYBOX 400 400 km DESC WITHHASH",
		"GEOSEARCH {g}:pts FROMLONLAT 0 0 BYRADIUS 200 km",
		"GEOSEARCH {g}:pts FROMLONLAT 0 0 BYRADIUS 200 km WITHDIST COUNT 4",
		"GEOSEARCH {g}:pts FROMLONLAT 0.5 0.5 BYRADIUS 100 km COUNT 2 ANY",
		"GEORADIUS {g}:pts 0 0 120 km WITHDIST ASC",
		"GEORADIUS_RO {g}:pts 13 38 100 mi WITHCOORD",
		"GEORADIUSBYMEMBER {g}:pts x1 100 km COUNT 3",
		"GEORADIUSBYMEMBER_RO {g}:pts Catania 1 ft",
		"GEODIST {g}:pts Palermo Catania km",
		"GEODIST {g}:pts o e",
		"GEOPOS {g}:pts Palermo edge corner nosuch",
		"GEOHASH {g}:pts Palermo Catania edge corner nosuch",
		"GEOSEARCH {g}:pts FROMMEMBER nosuch BYRADIUS 1 km",
		"GEOSEARCH {g}:pts FROMLONLAT 0 0 BYRADIUS 1 km STORE x",
	}
	for _, q := range reads {
		args := strings.Fields(q)
		want := redis.Do(args...)
		for i, n := range nodes {
			eventuallyEqual(t, want, func() string { return cs[i].Do(args...) }, q+" through "+n.name)
		}
	}
	// Stores: the destination, on every replica, is Redis's sorted set.
	do(cs[1], "GEOSEARCHSTORE {g}:near {g}:pts FROMMEMBER Palermo BYRADIUS 200 km STOREDIST")
	do(cs[2], "GEORADIUS {g}:pts 0 0 200 km COUNT 4 STORE {g}:four")
	do(cs[0], "GEOSEARCHSTORE {g}:none {g}:pts FROMLONLAT -100 40 BYRADIUS 1 km")
	for _, key := range []string{"{g}:near", "{g}:four", "{g}:none"} {
		want := redis.Do("ZRANGE", key, "0", "-1", "WITHSCORES")
		for i, n := range nodes {
			eventuallyEqual(t, want, func() string { return cs[i].Do("ZRANGE", key, "0", "-1", "WITHSCORES") }, key+" on "+n.name)
		}
	}
	// Another type: Redis's error.
	do(cs[0], "SET plain hello")
	// A DC_ONE SET is acknowledged by its own rack: wait until node3's
	// rack has it before the GEOADD through node3 meets it.
	eventuallyEqual(t, bulkOf("hello"), func() string { return cs[2].Do("GET", "plain") }, "the SET on node3's rack")
	do(cs[2], "GEOADD plain 1 1 m")
}
