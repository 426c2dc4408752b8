package coord

import (
	"strconv"
	"strings"
	"time"
)

// With versions on, the coordinator turns relative expiry into an absolute
// deadline in Unix milliseconds, taken from its node's wall clock, before
// it sends a write to the replicas (as Redis does when it propagates to
// its replicas and AOF): every replica then expires the key at the same
// instant, and a write that reaches a replica late does not live longer
// there.
//
//	SET k v ... EX s | PX ms     → SET k v ... PXAT now+ms
//	SETEX k s v, PSETEX k ms v   → SET k v PXAT now+ms
//	EXPIRE k s, PEXPIRE k ms     → PEXPIREAT k now+ms (NX|XX|GT|LT kept)
//	GETEX k EX s | PX ms         → GETEX k PXAT now+ms
//	RESTORE k ttl v ...          → RESTORE k now+ttl v ABSTTL ... (ttl > 0)
//
// The client's reply is the same. A command whose options or numbers Redis
// would refuse (a syntax error, two expiry options, KEEPTTL with EX, a
// value that is not a positive integer in range) is sent unchanged, so the
// replica answers the same error as before.

// maxRelativeMS bounds the relative expiry rewritten (about 31,700
// years): past it, the command goes unchanged and Redis judges it.
const maxRelativeMS = 1_000_000_000_000_000

// absoluteExpiry returns args with relative expiry made absolute at now,
// and true, or false when the command has none to rewrite (or one Redis
// refuses). args are not modified.
func absoluteExpiry(name string, args [][]byte, now time.Time) ([][]byte, bool) {
	nowMS := now.UnixMilli()
	switch name {
	case "set":
		// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]
		at, unit := -1, int64(0)
		for i := 3; i < len(args); i++ {
			switch strings.ToLower(string(args[i])) {
			case "nx", "xx", "get":
			case "ex", "px":
				if at >= 0 || i+1 >= len(args) {
					return nil, false
				}
				at, unit = i, 1000
				if strings.EqualFold(string(args[i]), "px") {
					unit = 1
				}
				i++
			default: // EXAT, PXAT, KEEPTTL, or anything Redis refuses
				return nil, false
			}
		}
		if at < 0 {
			return nil, false
		}
		deadline, ok := deadlineMS(args[at+1], unit, nowMS, false)
		if !ok {
			return nil, false
		}
		out := append([][]byte(nil), args...)
		out[at], out[at+1] = []byte("PXAT"), deadline
		return out, true
	case "setex", "psetex":
		// SETEX key seconds value
		unit := int64(1000)
		if name == "psetex" {
			unit = 1
		}
		deadline, ok := deadlineMS(args[2], unit, nowMS, false)
		if !ok {
			return nil, false
		}
		return [][]byte{[]byte("set"), args[1], args[3], []byte("PXAT"), deadline}, true
	case "expire", "pexpire":
		// EXPIRE key seconds [NX|XX|GT|LT]: a time in the past deletes the
		// key, as it does once absolute.
		unit := int64(1000)
		if name == "pexpire" {
			unit = 1
		}
		deadline, ok := deadlineMS(args[2], unit, nowMS, true)
		if !ok {
			return nil, false
		}
		out := append([][]byte{[]byte("pexpireat"), args[1], deadline}, args[3:]...)
		return out, true
	case "getex":
		// GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST]: one option at most.
		if len(args) != 4 {
			return nil, false
		}
		var unit int64
		switch strings.ToLower(string(args[2])) {
		case "ex":
			unit = 1000
		case "px":
			unit = 1
		default:
			return nil, false
		}
		deadline, ok := deadlineMS(args[3], unit, nowMS, false)
		if !ok {
			return nil, false
		}
		return [][]byte{args[0], args[1], []byte("PXAT"), deadline}, true
	case "restore":
		// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f];
		// ttl 0: no expiry.
		for _, a := range args[4:] {
			if strings.EqualFold(string(a), "absttl") {
				return nil, false
			}
		}
		deadline, ok := deadlineMS(args[2], 1, nowMS, false)
		if !ok {
			return nil, false
		}
		// ABSTTL goes right after the payload: appended last, it would
		// give a trailing IDLETIME or FREQ without its value one (Redis
		// answers that with a syntax error; found by review).
		out := append(append(append([][]byte(nil), args[:4]...), []byte("ABSTTL")), args[4:]...)
		out[2] = deadline
		return out, true
	}
	return nil, false
}

// deadlineMS parses a relative time in units of unit milliseconds, strictly
// (what Redis's string2ll accepts and more is refused), and returns
// now+it in milliseconds as decimal text. Only positive times are taken
// unless negative is set (EXPIRE deletes the key at once).
func deadlineMS(b []byte, unit, nowMS int64, negative bool) ([]byte, bool) {
	n, ok := strictInt(b)
	if !ok || (n <= 0 && !negative) || n > maxRelativeMS/unit || n < -maxRelativeMS/unit {
		return nil, false
	}
	return strconv.AppendInt(nil, nowMS+n*unit, 10), true
}

// strictInt parses a decimal integer with an optional minus sign and no
// leading zeros, spaces or plus sign.
func strictInt(b []byte) (int64, bool) {
	s := string(b)
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) || (digits == "0" && s != "0") {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
