package coord

import (
	"strconv"
	"strings"

	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/resp"
)

// failureReply turns a failure's text into the client's error reply, with
// Dynomite's "-ERR <source> <message>" shape. Peers and the coordinator
// name their source; a datastore adapter's own failures do not, so they get
// "Storage:" ("-ERR Storage: Datastore refused connection").
func failureReply(dst []byte, failure string) []byte {
	for _, src := range []string{"Storage: ", "Peer: ", "Dynomite: ", "unknown: "} {
		if strings.HasPrefix(failure, src) {
			return resp.AppendError(dst, "ERR "+failure)
		}
	}
	return resp.AppendError(dst, "ERR Storage: "+failure)
}

// mergeFirst answers with the one part's reply.
func mergeFirst(parts []part, dst []byte) []byte {
	if f := parts[0].failure; f.failed() {
		return failureReply(dst, f.text)
	}
	return append(dst, parts[0].reply...)
}

func mergerFor(m command.Merge) func([]part, []byte) []byte {
	switch m {
	case command.MergeArray:
		return mergeArray
	case command.MergeOK:
		return mergeOK
	default:
		return mergeSum
	}
}

// firstFailure returns the error reply of the first failed part (a store
// failure or an error reply), or nil.
func firstFailure(parts []part, dst []byte) ([]byte, bool) {
	for _, p := range parts {
		if p.failure.failed() {
			return failureReply(dst, p.failure.text), true
		}
		if len(p.reply) > 0 && p.reply[0] == '-' {
			return append(dst, p.reply...), true
		}
	}
	return dst, false
}

// mergeArray builds MGET's array from one GET reply per key. A GET error
// (a key of another type) is nil in MGET, as Redis answers.
func mergeArray(parts []part, dst []byte) []byte {
	for _, p := range parts {
		if p.failure.failed() {
			return failureReply(dst, p.failure.text)
		}
	}
	dst = resp.AppendArrayHeader(dst, len(parts))
	for _, p := range parts {
		if len(p.reply) > 0 && p.reply[0] == '$' {
			dst = append(dst, p.reply...)
		} else {
			dst = resp.AppendNullBulk(dst)
		}
	}
	return dst
}

// mergeSum adds the integer replies of DEL/EXISTS/UNLINK/TOUCH.
func mergeSum(parts []part, dst []byte) []byte {
	if out, failed := firstFailure(parts, dst); failed {
		return out
	}
	var sum int64
	for _, p := range parts {
		if len(p.reply) < 3 || p.reply[0] != ':' {
			return failureReply(dst, "dynonode: unexpected reply from datastore: "+strconv.Quote(string(p.reply)))
		}
		n, err := strconv.ParseInt(string(p.reply[1:len(p.reply)-2]), 10, 64)
		if err != nil {
			return failureReply(dst, "dynonode: unexpected reply from datastore: "+strconv.Quote(string(p.reply)))
		}
		sum += n
	}
	return resp.AppendInt(dst, sum)
}

// mergeOK answers MSET: OK when every SET said OK.
func mergeOK(parts []part, dst []byte) []byte {
	if out, failed := firstFailure(parts, dst); failed {
		return out
	}
	return resp.AppendSimpleString(dst, "OK")
}
