package datastore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
)

// Versions on Redis. Values stay under their own key names; the version
// of each key and the tombstones of keys deleted under a version live in
// two companion hashes, updated atomically with the command by the Lua
// scripts of scripts.go, and anti-entropy's data marker in a third
// companion, a string:
//
//	__dyno:v  key -> version             (VersionHash)
//	__dyno:t  key -> deadline . version  (TombstoneHash)
//	__dyno:m  the data marker            (MarkKey)
//
// A version is 16 hex digits of HLC wall time (Unix ns), 8 of logical
// time, then the node id; a deadline 16 hex digits of Unix ms. A version
// counts only while its key exists, a tombstone only while its key does
// not and its deadline has not passed, so a key that expires takes its
// version with it, as in the embedded engine. What each family of
// commands does is the embedded engine's (actors/store/version.go):
//
//   - whole-value writes and deletes (scriptApply) apply only when newer
//     than the key's version or tombstone; a stale one changes nothing and
//     answers what it would have answered on the key as it is (computed by
//     running it and putting the key back with DUMP/RESTORE, or directly
//     for plain SET, MSET, DEL and UNLINK);
//   - read-modify-writes and multi-key writes (scriptBump) apply and leave
//     the newer version;
//   - single-key reads run in MULTI/EXEC with the key's version
//     (EXISTS, HGET, HGET, the read), so their reply is Redis's own bytes;
//   - DYNO.DUMP, DYNO.RESTORE and DYNO.DEL are read repair's (see below);
//   - DYNO.KEYS, DYNO.VERSIONS and DYNO.MARK are anti-entropy's.
//
// Anti-entropy's commands are one run of scriptAdmin each, which writes
// nothing but DYNO.MARK's marker; they answer no version, and what the
// embedded engine answers (actors/store/dyno.go):
//
//	DYNO.KEYS cursor count   [next cursor, [key, version, ...]]: a page of
//	                         the entries of __dyno:v whose key exists, then
//	                         of __dyno:t whose key does not and whose
//	                         deadline has not passed; "0" starts and ends;
//	                         a cursor is "v" or "t" and HSCAN's cursor in
//	                         that hash, count HSCAN's COUNT (1 to 2^20)
//	DYNO.VERSIONS key ...    [version, ...]: each key's as the scripts'
//	                         current sees it, "" for none
//	DYNO.MARK id             the marker __dyno:m held before the call, ""
//	                         for none; when it held none (and id is not
//	                         ""), __dyno:m becomes id, in the same script
//
// The first two give a version as the hash holds it, with its 'r' (written
// in place), a tombstone's without its deadline. HSCAN may list an entry
// twice, and one that comes or goes during a listing, or not. The marker
// lives as long as the keyspace: a redis-server restarted without
// persistence answers "" again, which tells anti-entropy that its data is
// gone. A client's FLUSHALL or FLUSHDB wipes it too (unlike the embedded
// engine's, which FLUSHALL keeps): anti-entropy then takes the datastore
// for emptied, which it is.
//
// With Options.Versions the adapter also hides the companions: KEYS and
// SCAN drop them from their replies (a SCAN page may come back shorter,
// cursors are Redis's), DBSIZE does not count them, RANDOMKEY never picks
// them, and a command that names one as a key is answered errReserved.
// Tombstones past their deadline and versions of keys gone without a
// version (expired, or deleted unversioned) are purged by a bounded HSCAN
// of each hash every purgeEvery, and dropped lazily by the scripts.
const (
	// VersionHash is the companion hash of key versions.
	VersionHash = "__dyno:v"
	// TombstoneHash is the companion hash of tombstones.
	TombstoneHash = "__dyno:t"
	// MarkKey is the companion string holding anti-entropy's data marker
	// (DYNO.MARK). Set once, it goes only with the whole keyspace: a
	// restart without persistence, or a client's FLUSHALL or FLUSHDB
	// (with Options.Versions, no other client command may name it).
	MarkKey = "__dyno:m"
)

// DefaultTombstoneTTL is the default Options.TombstoneTTL.
const DefaultTombstoneTTL = store.DefaultTombstoneTTL

// The purge: every purgeEvery, one HSCAN step of purgeCount in each hash.
var (
	purgeEvery = time.Second
	purgeCount = 256
)

// dumpMagic starts a Redis payload of DYNO.DUMP: then the remaining TTL in
// ms (8 bytes big-endian, -1 for none), then Redis's DUMP serialization.
// The embedded engine's payloads start with 1, so neither engine takes
// the other's: replicas exchange payloads only within one data_store.
const dumpMagic = "dynoR1"

const arityFromScript = "-ERR Wrong number of args calling Redis command from script\r\n"

// vmode is how a request's reply is made from what Redis answers.
type vmode uint8

const (
	vScript vmode = iota + 1 // one EVALSHA answering {version, fix, reply}
	vSet                     // EVALSHA of scriptSet answering the version: the reply is +OK
	vStamp                   // a SET known to be newer (vcache.go): sent in a vGroup
	vGroup                   // MULTI MSET HSET EXEC: consecutive vStamps sent as one (conn.submit)
	vRead                    // MULTI EXISTS HGET HGET <read> EXEC
	vGet                     // MULTI HGET HGET GET EXEC: GET's reply says whether the key exists
	vDump                    // MULTI EXISTS HGET HGET PTTL DUMP EXEC
	vList                    // KEYS or SCAN: drop the companions
	vOK                      // DYNO.* without a version: +OK unless an error
	vEval                    // MULTI bump-p <client's script> bump-a EXEC (planEval)
	vTx                      // MULTI [bump-p] <a transaction's commands> [bump-a] EXEC (planTx)
)

// vreq is what a versioned (or filtered) request needs beyond pending.
type vreq struct {
	mode    vmode
	frames  int          // replies Redis sends for cmds
	cmds    [][][]byte   // the commands sent
	name    string       // the client's command, lower case
	ok      bool         // answer +OK for any reply that is not an error
	retried bool         // sent again as EVAL after NOSCRIPT
	done    func([]byte) // internal request (the purge): gets the reply, or nil on failure
	members []pending    // a vGroup's stamps, in the order they were submitted

	// A SET's, with the version cache (vcache.go): its version, key, and
	// for a vSet the cache to teach and the request's number there.
	ver     hlc.Version
	hash    vkey
	vc      *verCache
	seq     uint64
	applied bool // a vSet's script applied the SET (set on its answer)

	txn    int  // a vTx's commands
	bumped bool // a vTx's commands are between the bump's steps
}

// encodeVersion is v as the scripts compare it (zero: "").
func encodeVersion(v hlc.Version) string { return string(appendVersion(nil, v)) }

// appendVersion appends encodeVersion(v) to b.
func appendVersion(b []byte, v hlc.Version) []byte {
	if v.IsZero() {
		return b
	}
	b = appendHex(b, uint64(v.TS.Wall), 16)
	b = appendHex(b, uint64(v.TS.Logical), 8)
	return append(b, v.Node...)
}

// appendHex appends x as n lower-case hex digits (its low 4n bits).
func appendHex(b []byte, x uint64, n int) []byte {
	const digits = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- {
		b = append(b, digits[(x>>(4*uint(i)))&0xf])
	}
	return b
}

// decodeVersion parses encodeVersion's output.
func decodeVersion(b []byte) (hlc.Version, bool) {
	if len(b) == 0 {
		return hlc.Version{}, true
	}
	if len(b) < 24 {
		return hlc.Version{}, false
	}
	w, err1 := strconv.ParseUint(string(b[:16]), 16, 64)
	l, err2 := strconv.ParseUint(string(b[16:24]), 16, 32)
	if err1 != nil || err2 != nil {
		return hlc.Version{}, false
	}
	return hlc.Version{TS: hlc.Timestamp{Wall: int64(w), Logical: uint32(l)}, Node: string(b[24:])}, true
}

func hexMs(t time.Time) string { return string(appendHex(nil, uint64(t.UnixMilli()), 16)) }

func lower(b []byte) string { return strings.ToLower(string(b)) }

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// evalArgs is EVALSHA s with the prelude's keys (the three companions)
// and arguments, and then rest.
func evalArgs(s *script, ver hlc.Version, now time.Time, tombTTL time.Duration, rest ...[]byte) [][]byte {
	args := make([][]byte, 0, 9+len(rest))
	args = append(args, bEvalsha, []byte(s.sha), bThree, bVersionHash, bTombstoneHash, bMarkKey,
		[]byte(encodeVersion(ver)), []byte(hexMs(now)), []byte(hexMs(now.Add(tombTTL))))
	return append(args, rest...)
}

// planSet plans a versioned SET key value: stamped without a comparison
// when the cache knows it is newer, else by scriptSet.
func planSet(args [][]byte, ver hlc.Version, now time.Time, vc *verCache) *vreq {
	key := args[1]
	if vc != nil && vc.newer(key, ver) {
		// One allocation for the request and what it sends (in a vGroup).
		r := &stampReq{vreq: vreq{mode: vStamp, name: "set", ver: ver}}
		r.verArg[0] = appendVersion(r.verBuf[:0], ver)
		r.cmds = [2][][]byte{args, r.verArg[:]}
		r.vreq.cmds = r.cmds[:]
		return &r.vreq
	}
	vx := &vreq{mode: vSet, frames: 1, name: "set", ver: ver, cmds: [][][]byte{setArgs(ver, now, key, args[2])}}
	if vc != nil {
		vx.vc = vc
		vx.hash, vx.seq = vc.pending(key)
	}
	return vx
}

// stampReq is a vStamp's vreq with what it sends: cmds[0] is the SET,
// cmds[1] the version alone.
type stampReq struct {
	vreq
	cmds   [2][][]byte
	verArg [1][]byte
	verBuf [48]byte
}

// setArgs is EVALSHA of scriptSet for SET key value.
func setArgs(ver hlc.Version, now time.Time, key, value []byte) [][]byte {
	b := appendVersion(make([]byte, 0, 40+len(ver.Node)), ver)
	n := len(b)
	b = appendHex(b, uint64(now.UnixMilli()), 16)
	return [][]byte{bEvalsha, []byte(scriptSet.sha), bTwo, bVersionHash, bTombstoneHash, b[:n:n], b[n:], key, value}
}

// Arguments the adapter sends again and again (never written to).
var (
	bEvalsha       = []byte("EVALSHA")
	bTwo           = []byte("2")
	bThree         = []byte("3")
	bVersionHash   = []byte(VersionHash)
	bTombstoneHash = []byte(TombstoneHash)
	bMarkKey       = []byte(MarkKey)
	bMulti         = []byte("MULTI")
	bExec          = []byte("EXEC")
	bHset          = []byte("HSET")
	bHget          = []byte("HGET")
	bSet           = []byte("SET")
	bGet           = []byte("GET")
	bDynoExec      = []byte("DYNO.EXEC")
)

// errReply is a reply the adapter answers itself.
type errReply string

// planVersions returns what a Redis request needs beyond sending args as
// they are: nil for nothing (always for an unversioned request to an
// adapter without Options.Versions: exactly as without versions); an
// errReply to answer at once. DYNO.* commands are handled only by an
// adapter with Options.Versions or when versioned; otherwise Redis
// answers them its unknown-command error, as before versions.
// vc is the version cache (nil: none).
func planVersions(args [][]byte, ver hlc.Version, versions bool, tombTTL time.Duration, now time.Time, vc *verCache) (*vreq, errReply) {
	if len(args) > 0 && bytes.EqualFold(args[0], bDynoExec) {
		return planTx(args, ver, versions, tombTTL, now, vc)
	}
	if !versions && ver.IsZero() {
		return nil, "" // exactly as without versions
	}
	// The two commands most sent, without a lower-cased name or a family.
	if len(args) == 3 && !ver.IsZero() && bytes.EqualFold(args[0], bSet) && !isCompanion(args[1]) {
		return planSet(args, ver, now, vc), ""
	}
	if len(args) == 2 && !ver.IsZero() && bytes.EqualFold(args[0], bGet) && !isCompanion(args[1]) {
		return &vreq{mode: vGet, frames: 5, name: "get", cmds: getCmds(args)}, ""
	}
	name := lower(args[0])
	if vc != nil && (name != "set" || len(args) != 3 || ver.IsZero()) {
		vc.touch(name, args)
	}
	if strings.HasPrefix(name, "dyno.") {
		return planDyno(name, args, ver, tombTTL, now)
	}
	if versions {
		if k := reservedKey(name, args); k != nil {
			return nil, errReply(fmt.Sprintf("-ERR key name %s is reserved by dynonode for versions\r\n", k))
		}
		switch name {
		case "keys", "scan":
			return &vreq{mode: vList, frames: 1, cmds: [][][]byte{args}, name: name}, ""
		case "dbsize", "randomkey":
			if len(args) != 1 {
				return nil, ""
			}
			return script1(name, evalArgs(scriptAdmin, hlc.Version{}, now, tombTTL, []byte(name))), ""
		}
	}
	if ver.IsZero() || len(args) < 2 {
		return nil, ""
	}
	fam, single, written := store.CommandFamily(args)
	switch name {
	case "eval", "evalsha":
		return planEval(name, args, written, ver, now, tombTTL), ""
	}
	switch fam {
	case store.FamilyRead:
		if !single {
			return nil, ""
		}
		if name == "get" && len(args) == 2 {
			return &vreq{mode: vGet, frames: 5, name: name, cmds: getCmds(args)}, ""
		}
		return &vreq{mode: vRead, frames: 6, name: name, cmds: readCmds(args[1], args)}, ""
	case store.FamilyWhole, store.FamilyDelete:
		if name == "set" && len(args) == 3 {
			return planSet(args, ver, now, vc), ""
		}
		f := "w"
		if fam == store.FamilyDelete {
			f = "d"
		}
		return script1(name, evalArgs(scriptApply, ver, now, tombTTL, append([][]byte{[]byte(f)}, args...)...)), ""
	case store.FamilyRMW:
		return script1(name, evalArgs(scriptBump, ver, now, tombTTL, append([][]byte{[]byte("r")}, args...)...)), ""
	case store.FamilyMulti:
		if len(written) == 0 {
			return nil, ""
		}
		rest := append([][]byte{[]byte("m"), []byte(strconv.Itoa(len(written)))}, written...)
		return script1(name, evalArgs(scriptBump, ver, now, tombTTL, append(rest, args...)...)), ""
	}
	return nil, ""
}

func script1(name string, args [][]byte) *vreq {
	return &vreq{mode: vScript, frames: 1, name: name, cmds: [][][]byte{args}}
}

// planEval plans a client's script under a version: a script cannot run
// inside the scripts that keep versions (Redis refuses EVAL from a
// script), so it runs in a MULTI between scriptBump's 'p' and 'a' steps
// over the keys it declares (bumpSteps). A script that declares no key
// is sent as it is.
func planEval(name string, args, written [][]byte, ver hlc.Version, now time.Time, tombTTL time.Duration) *vreq {
	if len(written) == 0 {
		return nil
	}
	pre, after := bumpSteps(written, ver, now, tombTTL)
	return &vreq{mode: vEval, frames: 5, name: name, cmds: [][][]byte{{bMulti}, pre, args, after, {bExec}}}
}

// bumpSteps are scriptBump's 'p' and 'a' steps over keys, which a client's
// script or a transaction runs between in one MULTI (lua/bump.lua), each
// sent as EVAL with the body: a NOSCRIPT retry would run what is between
// them twice.
func bumpSteps(keys [][]byte, ver hlc.Version, now time.Time, tombTTL time.Duration) (pre, after [][]byte) {
	step := func(mode string) [][]byte {
		rest := append([][]byte{[]byte(mode), []byte(strconv.Itoa(len(keys)))}, keys...)
		b := evalArgs(scriptBump, ver, now, tombTTL, rest...)
		b[0], b[1] = []byte("EVAL"), []byte(scriptBump.body)
		return b
	}
	return step("p"), step("a")
}

// evalReply answers a vEval from MULTI's five replies: the client's
// script's reply (EXEC's second element), or the error that refused it
// when queued.
func evalReply(raw []byte) []byte {
	var frames [5][]byte
	rest := raw
	for i := range frames {
		n, err := resp.ReplyLen(rest)
		if err != nil {
			return raw
		}
		frames[i], rest = rest[:n], rest[n:]
	}
	if frames[2][0] == '-' {
		return frames[2] // refused when queued: EXEC answered EXECABORT
	}
	exec := frames[4]
	if !bytes.HasPrefix(exec, []byte("*3\r\n")) {
		return exec
	}
	pre, err := resp.ReplyLen(exec[4:])
	if err != nil {
		return exec
	}
	n, err := resp.ReplyLen(exec[4+pre:])
	if err != nil {
		return exec
	}
	return exec[4+pre : 4+pre+n]
}

// planTx plans a transaction (DYNO.EXEC, see actors/coord/tx.go): its
// commands in a MULTI on this connection, exactly as a client's; with a
// version, between scriptBump's 'p' and 'a' steps over the keys its
// writes name (bumpSteps, as for a script), whose replies EXEC's reply
// then leaves out.
func planTx(args [][]byte, ver hlc.Version, versions bool, tombTTL time.Duration, now time.Time, vc *verCache) (*vreq, errReply) {
	written := store.DynoExecKeys(args)
	cmds, ok := store.ParseDynoExec(args)
	if !ok {
		return nil, "-ERR dynonode: malformed DYNO.EXEC\r\n"
	}
	out := make([][][]byte, 0, len(cmds)+4)
	out = append(out, [][]byte{bMulti})
	vx := &vreq{mode: vTx, name: "exec", txn: len(cmds)}
	var after [][]byte
	if !ver.IsZero() && len(written) > 0 {
		var pre [][]byte
		pre, after = bumpSteps(written, ver, now, tombTTL)
		out = append(out, pre)
		vx.bumped = true
	}
	for _, c := range cmds {
		if vc != nil {
			vc.touch(lower(c[0]), c) // sent without the version scripts
		}
		if versions {
			if k := reservedKey(lower(c[0]), c); k != nil {
				return nil, errReply(fmt.Sprintf("-ERR key name %s is reserved by dynonode for versions\r\n", k))
			}
		}
		out = append(out, c)
	}
	if after != nil {
		out = append(out, after)
	}
	vx.cmds = append(out, [][]byte{bExec})
	vx.frames = len(vx.cmds)
	return vx, ""
}

// txReply answers a vTx from its replies: EXEC's, without the bump's
// element when there is one.
func (vx *vreq) txReply(raw []byte) []byte {
	rest := raw
	var exec []byte
	for range vx.frames {
		n, err := resp.ReplyLen(rest)
		if err != nil {
			return raw
		}
		exec, rest = rest[:n], rest[n:]
	}
	if !vx.bumped || !bytes.HasPrefix(exec, []byte("*")) {
		return exec // EXECABORT, or no bump steps
	}
	body := exec[bytes.IndexByte(exec, '\n')+1:]
	start, err := resp.ReplyLen(body) // the 'p' step's
	if err != nil {
		return exec
	}
	end := start
	for range vx.txn {
		n, err := resp.ReplyLen(body[end:])
		if err != nil {
			return exec
		}
		end += n
	}
	return append(resp.AppendArrayHeader(nil, vx.txn), body[start:end]...)
}

// readCmds fills a vRead's or vDump's MULTI around key.
func readCmds(key []byte, reads ...[][]byte) [][][]byte {
	cmds := [][][]byte{bs("MULTI"),
		{[]byte("EXISTS"), key},
		{[]byte("HGET"), []byte(VersionHash), key},
		{[]byte("HGET"), []byte(TombstoneHash), key}}
	cmds = append(cmds, reads...)
	return append(cmds, bs("EXEC"))
}

// getCmds is a vGet's MULTI for GET key.
func getCmds(get [][]byte) [][][]byte {
	key := get[1]
	return [][][]byte{{bMulti}, {bHget, bVersionHash, key}, {bHget, bTombstoneHash, key}, get, {bExec}}
}

// planDyno plans read repair's and anti-entropy's commands.
func planDyno(name string, args [][]byte, ver hlc.Version, tombTTL time.Duration, now time.Time) (*vreq, errReply) {
	// The number of arguments; -n: at least n.
	arity := map[string]int{"dyno.dump": 2, "dyno.restore": 3, "dyno.del": 2, "dyno.keys": 3, "dyno.versions": -2, "dyno.mark": 2}[name]
	if arity == 0 {
		return nil, "" // Redis answers its unknown-command error
	}
	if len(args) != arity && (arity > 0 || len(args) < -arity) {
		return nil, errReply("-ERR wrong number of arguments for '" + name + "' command\r\n")
	}
	key := args[1]
	switch name {
	case "dyno.keys":
		phase, cursor, ok := parseKeysCursor(args[1])
		if !ok {
			return nil, "-ERR invalid cursor\r\n"
		}
		n, err := strconv.ParseUint(string(args[2]), 10, 64)
		if err != nil || n == 0 || n > maxKeysCount {
			return nil, "-ERR value is not an integer or out of range\r\n"
		}
		count := []byte(strconv.FormatUint(n, 10)) // as Redis reads it: "010" is not
		return script1(name, evalArgs(scriptAdmin, hlc.Version{}, now, tombTTL, []byte("keys"), phase, cursor, count)), ""
	case "dyno.versions":
		return script1(name, evalArgs(scriptAdmin, hlc.Version{}, now, tombTTL, append([][]byte{[]byte("versions")}, args[1:]...)...)), ""
	case "dyno.mark":
		return script1(name, evalArgs(scriptAdmin, hlc.Version{}, now, tombTTL, []byte("mark"), args[1])), ""
	case "dyno.dump":
		return &vreq{mode: vDump, frames: 7, name: name, cmds: readCmds(key,
			[][]byte{[]byte("PTTL"), key}, [][]byte{[]byte("DUMP"), key})}, ""
	case "dyno.restore":
		p := args[2]
		if len(p) < len(dumpMagic)+8+1 || string(p[:len(dumpMagic)]) != dumpMagic {
			return nil, errReply("-ERR DYNO.RESTORE payload is not valid\r\n")
		}
		ttl := int64(binary.BigEndian.Uint64(p[len(dumpMagic):]))
		switch {
		case ttl < -1:
			return nil, errReply("-ERR DYNO.RESTORE payload is not valid\r\n")
		case ttl == -1:
			ttl = 0 // RESTORE's "no expiry"
		case ttl == 0:
			ttl = 1 // due now: gone at the next millisecond
		}
		restore := [][]byte{[]byte("RESTORE"), key, []byte(strconv.FormatInt(ttl, 10)), p[len(dumpMagic)+8:], []byte("REPLACE")}
		if ver.IsZero() {
			return &vreq{mode: vOK, frames: 1, name: name, cmds: [][][]byte{restore}}, ""
		}
		vx := script1(name, evalArgs(scriptApply, ver, now, tombTTL, append([][]byte{[]byte("R")}, restore...)...))
		vx.ok = true
		return vx, ""
	default: // dyno.del
		del := [][]byte{[]byte("DEL"), key}
		if ver.IsZero() {
			return &vreq{mode: vOK, frames: 1, name: name, cmds: [][][]byte{del}}, ""
		}
		vx := script1(name, evalArgs(scriptApply, ver, now, tombTTL, append([][]byte{[]byte("d")}, del...)...))
		vx.ok = true
		return vx, ""
	}
}

// maxKeysCount bounds DYNO.KEYS's count, as the embedded engine's: one
// page is one script, and Redis serves nothing else while it runs.
const maxKeysCount = 1 << 20

// parseKeysCursor splits a DYNO.KEYS cursor into the hash it scans ("v"
// or "t") and HSCAN's cursor there; "0" is "v" from 0.
func parseKeysCursor(c []byte) (phase, cursor []byte, ok bool) {
	if string(c) == "0" {
		return []byte("v"), c, true
	}
	if len(c) < 2 || (c[0] != 'v' && c[0] != 't') {
		return nil, nil, false
	}
	n, err := strconv.ParseUint(string(c[1:]), 10, 64)
	if err != nil {
		return nil, nil, false
	}
	return c[:1], []byte(strconv.FormatUint(n, 10)), true
}

// isCompanion reports whether k names one of the companions.
func isCompanion(k []byte) bool {
	return string(k) == VersionHash || string(k) == TombstoneHash || string(k) == MarkKey
}

// reservedKey returns the first companion name args use as a key, or nil.
// The keys are args[1], or every argument for the commands of several
// keys (every other one for MSET and MSETNX, two for SMOVE and LMOVE).
func reservedKey(name string, args [][]byte) []byte {
	if len(args) < 2 {
		return nil
	}
	keys := args[1:2]
	step := 1
	switch name {
	case "del", "unlink", "exists", "touch", "mget", "watch", "rename", "renamenx", "copy",
		"rpoplpush", "sinter", "sunion", "sdiff", "sinterstore", "sunionstore", "sdiffstore",
		"sintercard", "zunionstore", "zinterstore", "zdiffstore", "zunion", "zinter", "zdiff",
		"pfcount", "pfmerge", "object", "memory", "type", "dump", "restore",
		"blpop", "brpop", "bzpopmin", "bzpopmax", "brpoplpush":
		keys = args[1:]
	case "mset", "msetnx":
		keys, step = args[1:], 2
	case "smove", "lmove", "blmove":
		keys = args[1:min(3, len(args))]
	case "lmpop", "zmpop", "bitop":
		keys = args[2:] // the keys (for BITOP after its operation; LMPOP's after numkeys, then what follows them: a companion there is no key)
	case "blmpop", "bzmpop":
		keys = args[min(3, len(args)):]
	}
	for i := 0; i < len(keys); i += step {
		if isCompanion(keys[i]) {
			return keys[i]
		}
	}
	return nil
}

// answer makes the client's reply and the key's version from raw, the
// replies Redis sent for vx.cmds. retry says the scripts were not loaded
// (NOSCRIPT): send vx again, as EVAL.
func (vx *vreq) answer(raw []byte, now time.Time) (reply []byte, ver hlc.Version, retry bool) {
	switch vx.mode {
	case vScript:
		reply, ver, retry = vx.scriptReply(raw)
	case vSet:
		reply, ver, retry = vx.setReply(raw)
	case vRead, vDump, vGet:
		reply, ver = vx.multiReply(raw, now)
	case vList:
		reply = filterList(vx.name, raw)
	case vOK:
		reply = raw
	case vEval:
		reply = evalReply(raw)
	case vTx:
		reply = vx.txReply(raw)
	}
	if vx.ok && len(reply) > 0 && reply[0] != '-' {
		reply = []byte("+OK\r\n")
	}
	return reply, ver, retry
}

func (vx *vreq) scriptReply(raw []byte) ([]byte, hlc.Version, bool) {
	if bytes.HasPrefix(raw, []byte("-NOSCRIPT")) && !vx.retried {
		return nil, hlc.Version{}, true
	}
	// *3 $ver :fix reply
	if !bytes.HasPrefix(raw, []byte("*3\r\n")) {
		return raw, hlc.Version{}, false // an error of the script itself
	}
	rest := raw[4:]
	v, n, err := resp.ParseReply(rest)
	if err != nil || v.Type != resp.BulkString {
		return raw, hlc.Version{}, false
	}
	ver, _ := decodeVersion(v.Str)
	rest = rest[n:]
	fix, n, err := resp.ParseReply(rest)
	if err != nil || fix.Type != resp.Integer {
		return raw, ver, false
	}
	rest = rest[n:]
	switch fix.Int {
	case 1:
		return []byte("*-1\r\n"), ver, false
	case 2:
		s, _, err := resp.ParseReply(rest)
		if err == nil && s.Type == resp.BulkString {
			return append(append([]byte(":"), s.Str...), "\r\n"...), ver, false
		}
	}
	if string(rest) == arityFromScript {
		return []byte("-ERR wrong number of arguments for '" + vx.name + "' command\r\n"), ver, false
	}
	return rest, ver, false
}

// setReply answers a vSet: +OK and the version, from the version alone.
func (vx *vreq) setReply(raw []byte) ([]byte, hlc.Version, bool) {
	if bytes.HasPrefix(raw, []byte("-NOSCRIPT")) && !vx.retried {
		return nil, hlc.Version{}, true
	}
	v, _, err := resp.ParseReply(raw)
	if err != nil || v.Type != resp.BulkString || v.Null {
		return raw, hlc.Version{}, false // an error (OOM, the script's own)
	}
	// A stale SET's answer is '=' and the version the key holds.
	s, stale := bytes.CutPrefix(v.Str, []byte("="))
	ver, _ := decodeVersion(s)
	vx.applied = !stale && ver == vx.ver
	return []byte("+OK\r\n"), ver, false
}

// maxGroup bounds the stamps one vGroup carries.
const maxGroup = 64

// appendGroup encodes a vGroup: MULTI, one MSET of its members' keys and
// values, one HSET of their versions, EXEC. A key written twice in one
// group keeps its last value and version in both, in submission order
// (the cache let the later stamp in only if its version was newer).
// Redis spends about 1.4 plain SETs on each stamp sent this way against
// 1.7 as its own MULTI SET HSET EXEC (BenchmarkRedisVersionAlternatives:
// stamp-grouped-mset and stamp-multi).
func appendGroup(dst []byte, g *vreq) []byte {
	dst = append(dst, "*1\r\n$5\r\nMULTI\r\n"...)
	dst = resp.AppendArrayHeader(dst, 1+2*len(g.members))
	dst = append(dst, "$4\r\nMSET\r\n"...)
	for _, m := range g.members {
		set := m.vx.cmds[0] // SET key value
		dst = resp.AppendBulk(resp.AppendBulk(dst, set[1]), set[2])
	}
	dst = resp.AppendArrayHeader(dst, 2+2*len(g.members))
	dst = resp.AppendBulk(append(dst, "$4\r\nHSET\r\n"...), bVersionHash)
	for _, m := range g.members {
		dst = resp.AppendBulk(resp.AppendBulk(dst, m.vx.cmds[0][1]), m.vx.cmds[1][0])
	}
	return append(dst, "*1\r\n$4\r\nEXEC\r\n"...)
}

// groupOK starts the replies to a vGroup that applied its MSET.
var groupOK = []byte("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:")

// groupReply answers a vGroup: the reply each member's SET gets, and
// whether the versions were written (then each member's key holds its
// own version). Anything but an EXEC that ran both commands (an OOM when
// queued, an EXECABORT) is every member's error.
func groupReply(raw []byte) ([]byte, bool) {
	if bytes.HasPrefix(raw, groupOK) {
		return []byte("+OK\r\n"), true // HSET answered how many fields were new
	}
	var frames [4][]byte
	for i := range frames {
		n, err := resp.ReplyLen(raw)
		if err != nil {
			return raw, false
		}
		frames[i], raw = raw[:n], raw[n:]
	}
	for _, f := range frames[1:3] {
		if f[0] == '-' {
			return f, false // refused when queued (OOM): EXEC aborted
		}
	}
	exec := frames[3]
	if exec[0] != '*' {
		return exec, false
	}
	body := exec[bytes.IndexByte(exec, '\n')+1:]
	n, err := resp.ReplyLen(body)
	if err != nil {
		return exec, false
	}
	if body[0] == '-' {
		return body[:n], false // MSET's own error
	}
	rest := body[n:]
	if m, err := resp.ReplyLen(rest); err == nil && rest[0] == '-' {
		return rest[:m], false // HSET's: the values were written, not the versions
	}
	return body[:n], true
}

// multiReply answers a vRead or vDump from MULTI's replies.
func (vx *vreq) multiReply(raw []byte, now time.Time) ([]byte, hlc.Version) {
	frames := make([][]byte, 0, vx.frames)
	for len(raw) > 0 {
		n, err := resp.ReplyLen(raw)
		if err != nil {
			return raw, hlc.Version{}
		}
		frames = append(frames, raw[:n])
		raw = raw[n:]
	}
	if len(frames) != vx.frames {
		return raw, hlc.Version{}
	}
	heads := 3 // EXISTS HGET HGET
	if vx.mode == vGet {
		heads = 2 // HGET HGET
	}
	for _, f := range frames[1+heads : vx.frames-1] {
		if f[0] == '-' {
			return f, hlc.Version{} // refused when queued (arity): EXEC aborted
		}
	}
	exec := frames[vx.frames-1]
	if exec[0] != '*' {
		return exec, hlc.Version{}
	}
	body := exec[bytes.IndexByte(exec, '\n')+1:]
	var head [3]resp.Value
	for i := range heads {
		v, n, err := resp.ParseReply(body)
		if err != nil {
			return exec, hlc.Version{}
		}
		head[i], body = v, body[n:]
	}
	switch vx.mode {
	case vGet:
		// A value or an error (WRONGTYPE) says the key exists.
		return body, keyVersion(len(body) > 0 && !bytes.HasPrefix(body, []byte("$-1\r\n")), head[0], head[1], now)
	case vRead:
		return body, keyVersion(head[0].Int == 1, head[1], head[2], now)
	}
	ver := keyVersion(head[0].Int == 1, head[1], head[2], now)
	pttl, n, err1 := resp.ParseReply(body)
	dump, _, err2 := resp.ParseReply(body[n:])
	if err1 != nil || err2 != nil || dump.Type != resp.BulkString {
		return exec, ver
	}
	if dump.Null {
		return []byte("$-1\r\n"), ver
	}
	ttl := pttl.Int
	if ttl < 0 {
		ttl = -1
	}
	p := append([]byte(dumpMagic), make([]byte, 8)...)
	binary.BigEndian.PutUint64(p[len(dumpMagic):], uint64(ttl))
	p = append(p, dump.Str...)
	return resp.AppendBulk(nil, p), ver
}

// keyVersion is the version a key holds: its own while it exists, else
// its tombstone's until the deadline.
func keyVersion(exists bool, v, t resp.Value, now time.Time) hlc.Version {
	if exists {
		ver, _ := decodeVersion(v.Str)
		return ver
	}
	if t.Null || len(t.Str) < 16 {
		return hlc.Version{}
	}
	deadline, err := strconv.ParseUint(string(t.Str[:16]), 16, 64)
	if err != nil || int64(deadline) < now.UnixMilli() {
		return hlc.Version{}
	}
	ver, _ := decodeVersion(t.Str[16:])
	return ver
}

// filterList drops the companions from a KEYS or SCAN reply; a reply
// without them is returned as it came.
func filterList(name string, raw []byte) []byte {
	if !bytes.Contains(raw, []byte("__dyno:")) {
		return raw
	}
	v, _, err := resp.ParseReply(raw)
	if err != nil || v.Type != resp.Array || v.Null {
		return raw
	}
	list := &v
	if name == "scan" {
		if len(v.Elems) != 2 {
			return raw
		}
		list = &v.Elems[1]
	}
	kept := list.Elems[:0]
	for _, e := range list.Elems {
		if !isCompanion(e.Str) {
			kept = append(kept, e)
		}
	}
	list.Elems = kept
	return resp.AppendValue(nil, v)
}

// framesLen is the length of the n complete replies at the start of buf.
func framesLen(buf []byte, n int) (int, error) {
	used := 0
	for range n {
		m, err := resp.ReplyLen(buf[used:])
		if errors.Is(err, resp.ErrIncomplete) {
			return 0, errIncomplete
		}
		if err != nil {
			return 0, err
		}
		used += m
	}
	return used, nil
}

// deliverVersioned is deliver for replies among which some answer
// versioned requests: one Result each, with its version; a NOSCRIPT is
// sent again as EVAL, once.
func (c *conn) deliverVersioned(r *replies, data []byte) {
	p := c.p
	p.success()
	now := time.Now()
	var acks ackRun
	defer acks.flush(p)
	from := 0
	for i, pd := range r.pds {
		to := r.ends[i]
		in := data[from:to]
		from = to
		if pd.vx != nil && pd.vx.mode == vGroup {
			c.deliverGroup(pd.vx, in, &acks)
			continue
		}
		p.stats.inFlight.Add(-1)
		if pd.vx == nil {
			p.stats.responses.Add(1)
			if pd.acked(in) {
				acks.add(p, &pd)
			} else {
				p.reply(pd, bytes.Clone(in))
			}
			continue
		}
		raw := bytes.Clone(in)
		reply, ver, retry := pd.vx.answer(raw, now)
		if retry {
			c.resend(pd)
			if p.vc != nil {
				// The resent request now runs after requests sent after
				// it: what they teach the cache could be older than what
				// it writes. Forget everything, once it is queued.
				p.vc.forgetAll()
			}
			continue
		}
		if vx := pd.vx; vx.vc != nil && vx.applied {
			vx.vc.learn(vx.hash, vx.seq, ver) // the script applied the SET
		}
		if pd.vx.done != nil {
			pd.vx.done(reply)
			continue
		}
		p.stats.responses.Add(1)
		switch {
		case pd.acked(reply):
			acks.add(p, &pd)
		case !pd.quiet:
			p.opts.Deliver(p.self, pd.to, store.Result{ID: pd.id, Reply: reply, Version: ver})
		}
	}
}

// deliverGroup answers the members of a vGroup from its replies in: one
// store.Results per run of members for one requester (a pipeline's, or a
// peer's burst of replica writes), nothing for quiet members, the IDs of
// acknowledged ones (pending.acked) to acks.
func (c *conn) deliverGroup(g *vreq, in []byte, acks *ackRun) {
	p := c.p
	p.stats.inFlight.Add(-int64(len(g.members)))
	reply, ok := groupReply(in)
	if !ok {
		reply = bytes.Clone(reply)
	}
	reply = reply[:len(reply):len(reply)] // shared: an append copies
	ms := g.members
	answered := func(m *pending) bool {
		if m.acked(reply) {
			acks.add(p, m)
			return true
		}
		return m.quiet
	}
	for i := 0; i < len(ms); {
		p.stats.responses.Add(1)
		if answered(&ms[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(ms) && ms[j].to == ms[i].to && !ms[j].quiet && !ms[j].acked(reply) {
			p.stats.responses.Add(1)
			j++
		}
		result := func(m pending) store.Result {
			r := store.Result{ID: m.id, Reply: reply}
			if ok {
				r.Version = m.vx.ver
			}
			return r
		}
		if j == i+1 {
			p.opts.Deliver(p.self, ms[i].to, result(ms[i]))
		} else {
			rs := make([]store.Result, 0, j-i)
			for _, m := range ms[i:j] {
				rs = append(rs, result(m))
			}
			p.opts.Deliver(p.self, ms[i].to, store.Results{Results: rs})
		}
		i = j
	}
}

// resend sends pd again as EVAL with the script's body, which loads it.
func (c *conn) resend(pd pending) {
	vx := *pd.vx
	vx.retried = true
	vx.cmds = [][][]byte{append([][]byte(nil), vx.cmds[0]...)}
	vx.cmds[0][0] = []byte("EVAL")
	for _, s := range allScripts {
		if string(vx.cmds[0][1]) == s.sha {
			vx.cmds[0][1] = []byte(s.body)
		}
	}
	pd.vx = &vx
	c.p.log.Info("datastore answered NOSCRIPT: sending the script again", "script_request", vx.name)
	if f := c.submit(pd, nil, time.Now()); f != "" {
		c.p.stats.inFlight.Add(1) // failAs takes it off again
		c.p.fail([]pending{pd}, f)
	}
}

// answerNow answers pd with a reply the adapter makes itself.
func (a *adapter) answerNow(ctx actors.Context, pd pending, reply []byte) {
	a.opts.Counters.responses.Add(1)
	switch {
	case pd.acked(reply):
		ctx.Send(pd.to, store.Acks{IDs: []uint64{pd.id}})
	case !pd.quiet:
		ctx.Send(pd.to, store.Result{ID: pd.id, Reply: reply})
	}
}

// purge runs the purge of the companions every purgeEvery on the first
// connection, one step at a time, until the pool closes.
func (p *pool) purge() {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	cursors := [2]string{"0", "0"}
	busy := make(chan struct{}, 1)
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		select {
		case busy <- struct{}{}:
		default:
			continue // the last step has not come back yet
		}
		now := time.Now()
		args := evalArgs(scriptAdmin, hlc.Version{}, now, p.opts.TombstoneTTL,
			[]byte("purge"), []byte(cursors[0]), []byte(cursors[1]), []byte(strconv.Itoa(purgeCount)))
		vx := script1("purge", args)
		vx.done = func(reply []byte) {
			defer func() { <-busy }()
			v, _, err := resp.ParseReply(reply)
			if err != nil || v.Type != resp.Array || len(v.Elems) != 4 {
				if reply != nil {
					p.log.Warn("datastore purge of version companions failed", "reply", string(reply))
				}
				return
			}
			cursors = [2]string{string(v.Elems[0].Str), string(v.Elems[1].Str)}
			if v.Elems[2].Int+v.Elems[3].Int > 0 {
				p.log.Debug("purged version companions", "tombstones", v.Elems[2].Int, "versions", v.Elems[3].Int)
			}
		}
		c := p.conns[0]
		if f := c.submit(pending{quiet: true, deadline: now.Add(p.opts.Timeout), vx: vx}, nil, now); f != "" {
			<-busy
			continue
		}
		c.kick()
	}
}
