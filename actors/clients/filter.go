package clients

import (
	"slices"
	"strings"

	"github.com/dynonode/dynonode/actors/resp"
)

// Filter selects connections: by id, kind, address, local address or
// user. Its zero value selects every connection.
type Filter struct {
	// IDs, when not nil, are the ids selected. CLIENT LIST ID shows them
	// in this order, an id given twice twice, as Redis does.
	IDs  []int64
	Type Type
	// Addr, LAddr and User select by equality when ByAddr, ByLAddr or
	// ByUser is set.
	Addr, LAddr, User       string
	ByAddr, ByLAddr, ByUser bool
}

// Match reports whether f selects e.
func (f *Filter) Match(e *Entry) bool {
	switch {
	case f.IDs != nil && !slices.Contains(f.IDs, e.ID),
		f.Type != AnyType && e.Type() != f.Type,
		f.ByAddr && e.Addr != f.Addr,
		f.ByLAddr && e.LAddr != f.LAddr,
		f.ByUser && e.User != f.User:
		return false
	}
	return true
}

// Kill is a parsed CLIENT KILL.
type Kill struct {
	Filter
	// Old is the old form, CLIENT KILL ip:port: it answers +OK, or the
	// error "No such client", rather than a count.
	Old bool
	// SkipMe spares the connection that sends it (the new form's
	// default; SKIPME no, and the old form, do not).
	SkipMe bool
}

const syntaxErr = "ERR syntax error"

// ParseType reads a client type as Redis 7.0 names them: normal, replica
// (or slave), pubsub, master, in any case.
func ParseType(b []byte) (Type, bool) {
	switch strings.ToLower(string(b)) {
	case "normal":
		return Normal, true
	case "replica", "slave":
		return Replica, true
	case "pubsub":
		return PubSub, true
	case "master":
		return Master, true
	}
	return AnyType, false
}

// ParseList reads CLIENT LIST's arguments (args[0] is CLIENT, args[1]
// LIST): CLIENT LIST, CLIENT LIST TYPE type, CLIENT LIST ID id [id...].
// It returns the filter, or redis-server 7.0.15's error for them.
func ParseList(args [][]byte) (Filter, string) {
	var f Filter
	switch {
	case len(args) == 4 && strings.EqualFold(string(args[2]), "type"):
		t, ok := ParseType(args[3])
		if !ok {
			return f, "ERR Unknown client type '" + string(args[3]) + "'"
		}
		f.Type = t
	case len(args) > 3 && strings.EqualFold(string(args[2]), "id"):
		f.IDs = make([]int64, 0, len(args)-3)
		for _, a := range args[3:] {
			id, ok := resp.ParseInt(a)
			if !ok {
				return f, "ERR Invalid client ID"
			}
			f.IDs = append(f.IDs, id)
		}
	case len(args) != 2:
		return f, syntaxErr
	}
	return f, ""
}

// ParseKill reads CLIENT KILL's arguments (args[0] is CLIENT, args[1]
// KILL): the old form CLIENT KILL ip:port, or the new one's pairs ID,
// TYPE, ADDR, LADDR, USER, SKIPME in any order and case (a later pair
// replaces an earlier one). userExists says whether a user of that name
// exists. It returns the kill, or redis-server 7.0.15's error for the
// first argument it refuses.
func ParseKill(args [][]byte, userExists func(string) bool) (Kill, string) {
	k := Kill{SkipMe: true}
	if len(args) == 3 {
		k.Old, k.SkipMe = true, false
		k.Addr, k.ByAddr = string(args[2]), true
		return k, ""
	}
	if len(args) < 4 {
		return k, syntaxErr
	}
	// Pairs read in order, as Redis's clientKillCommand: an option with
	// no value after it is a syntax error where it stands, after the
	// errors of the pairs before it (found by review).
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return k, syntaxErr
		}
		val := args[i+1]
		switch strings.ToLower(string(args[i])) {
		case "id":
			id, ok := resp.ParseInt(val)
			if !ok || id < 1 {
				return k, "ERR client-id should be greater than 0"
			}
			k.IDs = []int64{id}
		case "type":
			t, ok := ParseType(val)
			if !ok {
				return k, "ERR Unknown client type '" + string(val) + "'"
			}
			k.Type = t
		case "addr":
			k.Addr, k.ByAddr = string(val), true
		case "laddr":
			k.LAddr, k.ByLAddr = string(val), true
		case "user":
			if !userExists(string(val)) {
				return k, "ERR No such user '" + string(val) + "'"
			}
			k.User, k.ByUser = string(val), true
		case "skipme":
			switch strings.ToLower(string(val)) {
			case "yes":
				k.SkipMe = true
			case "no":
				k.SkipMe = false
			default:
				return k, syntaxErr
			}
		default:
			return k, syntaxErr
		}
	}
	return k, ""
}
