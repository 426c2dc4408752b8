package store

import (
	"bytes"
	"math/big"
	"strconv"
	"strings"

	"github.com/dynonode/dynonode/actors/resp"
)

// The blocking pops: BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP,
// BLMOVE and BRPOPLPUSH. The engine never blocks: it runs them as Redis
// runs them where a client cannot block (inside MULTI): their non-blocking
// form, answering a null when there is nothing (a null array, or for
// BLMOVE and BRPOPLPUSH a null bulk). Waiting is the coordinator's
// (actors/coord/blocking.go), which parses them with BlockingForm too.

// BlockingForm parses blocking pop args as Redis 7.0 does, in its order of
// checks: the non-blocking form that tries the pop once (LMPOP, ZMPOP or
// LMOVE), the keys to wait on (for BLMOVE and BRPOPLPUSH the source only),
// the timeout in ms (0: forever), or Redis's error.
func BlockingForm(args [][]byte) (attempt, keys [][]byte, timeoutMs int64, bad string) {
	name := string(bytes.ToLower(args[0]))
	var timeout []byte
	switch name {
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
		if len(args) < 3 {
			return nil, nil, 0, "ERR wrong number of arguments for '" + name + "' command"
		}
		timeout, keys = args[len(args)-1], args[1:len(args)-1]
		form, end := "lmpop", "LEFT"
		switch name {
		case "brpop":
			end = "RIGHT"
		case "bzpopmin":
			form, end = "zmpop", "MIN"
		case "bzpopmax":
			form, end = "zmpop", "MAX"
		}
		attempt = append(append([][]byte{[]byte(form), []byte(strconv.Itoa(len(keys)))}, keys...), []byte(end))
	case "blmpop", "bzmpop":
		if len(args) < 5 {
			return nil, nil, 0, "ERR wrong number of arguments for '" + name + "' command"
		}
		ends, form := [2]string{"LEFT", "RIGHT"}, "lmpop"
		if name == "bzmpop" {
			ends, form = [2]string{"MIN", "MAX"}, "zmpop"
		}
		// args[1:] reads as the non-blocking form's, the timeout in the
		// name's place.
		if keys, _, _, bad = ParseMPop(args[1:], ends); bad != "" {
			return nil, nil, 0, bad
		}
		timeout, attempt = args[1], append([][]byte{[]byte(form)}, args[2:]...)
	case "blmove", "brpoplpush":
		if name == "blmove" {
			if len(args) != 6 {
				return nil, nil, 0, "ERR wrong number of arguments for 'blmove' command"
			}
			for _, where := range args[3:5] {
				if _, ok := parseWhere(where); !ok {
					return nil, nil, 0, errSyntax
				}
			}
			timeout, attempt = args[5], append([][]byte{[]byte("lmove")}, args[1:5]...)
		} else {
			if len(args) != 4 {
				return nil, nil, 0, "ERR wrong number of arguments for 'brpoplpush' command"
			}
			timeout, attempt = args[3], [][]byte{[]byte("lmove"), args[1], args[2], []byte("RIGHT"), []byte("LEFT")}
		}
		keys = args[1:2]
	default:
		return nil, nil, 0, "ERR unknown blocking command '" + name + "'"
	}
	timeoutMs, bad = parseTimeout(timeout)
	if bad != "" {
		return nil, nil, 0, bad
	}
	return attempt, keys, timeoutMs, ""
}

// parseTimeout is Redis 7.0.15's getTimeoutFromObjectOrReply in seconds:
// the timeout in ms, rounded up (0: forever), or Redis's error. Redis reads
// it with strtold, so the range is a long double's: past it (or below its
// smallest positive value) it is not a float; within it but past long
// long's milliseconds, Redis's conversion gives LLONG_MIN, a negative.
func parseTimeout(b []byte) (int64, string) {
	const notFloat = "ERR timeout is not a float or out of range"
	str := string(b)
	if len(b) == 0 || strings.ContainsRune(str, '_') { // Go's literals allow 1_0, strtold does not
		return 0, notFloat
	}
	unsigned := strings.ToLower(strings.TrimLeft(str, "+-"))
	if unsigned == "infinity" { // strtold's spelling; big.ParseFloat knows "inf"
		str, unsigned = str[:len(str)-len(unsigned)]+"inf", "inf"
	}
	if strings.HasPrefix(unsigned, "0x") && !strings.Contains(unsigned, "p") {
		str += "p0" // strtold takes a hex float without its exponent
	}
	f, _, err := big.ParseFloat(str, 0, 64, big.ToNearestEven)
	if err != nil || strings.HasPrefix(unsigned, "nan") {
		return 0, notFloat
	}
	if f.IsInf() {
		return 0, "ERR timeout is negative"
	}
	abs := new(big.Float).Abs(f)
	if abs.Cmp(ldblMax) > 0 || abs.Sign() != 0 && abs.Cmp(ldblTrueMin) < 0 {
		return 0, notFloat // strtold's ERANGE
	}
	ms, acc := new(big.Float).Mul(f, big.NewFloat(1000)).Int(nil) // toward zero
	if acc == big.Below {
		ms.Add(ms, big.NewInt(1)) // a positive fraction: up
	}
	if !ms.IsInt64() || ms.Sign() < 0 {
		return 0, "ERR timeout is negative"
	}
	return ms.Int64(), ""
}

// A long double's range (x86's 80-bit format, as Redis is built here).
var (
	ldblMax, _, _     = big.ParseFloat("1.18973149535723176502e4932", 10, 64, big.ToNearestEven)
	ldblTrueMin, _, _ = big.ParseFloat("3.64519953188247460253e-4951", 10, 64, big.ToNearestEven)
)

// BlockingReply is the blocking pop's reply made from its non-blocking
// form's, which found an element: LMPOP's [key, [element]] is BLPOP's
// [key, element], ZMPOP's [key, [[member, score]]] is BZPOPMIN's [key,
// member, score]; the others answer as their forms do.
func BlockingReply(name string, r []byte) []byte {
	switch name {
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
	default:
		return r
	}
	const arr2, arr1 = "*2\r\n", "*1\r\n"
	if !bytes.HasPrefix(r, []byte(arr2)) {
		return r
	}
	n, err := resp.ReplyLen(r[len(arr2):])
	if err != nil {
		return r
	}
	key, rest := r[len(arr2):len(arr2)+n], r[len(arr2)+n:]
	if !bytes.HasPrefix(rest, []byte(arr1)) {
		return r
	}
	rest = rest[len(arr1):]
	out := append([]byte(nil), arr2...)
	if name == "bzpopmin" || name == "bzpopmax" {
		rest = bytes.TrimPrefix(rest, []byte(arr2))
		out[1] = '3'
	}
	out = append(out, key...)
	return append(out, rest...)
}

// cmdBlocking runs a blocking pop once (see above).
func (e *Engine) cmdBlocking(args [][]byte, dst []byte) []byte {
	attempt, _, _, bad := BlockingForm(args)
	if bad != "" {
		return appendErr(dst, bad)
	}
	start := len(dst)
	dst = lookupCommand(attempt[0]).run(e, attempt, dst)
	// Nulls and errors pass BlockingReply unchanged.
	return append(dst[:start], BlockingReply(cmdName(args), dst[start:])...)
}
