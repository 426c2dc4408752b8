package store

import (
	"bytes"

	"github.com/dynonode/dynonode/actors/resp"
)

// lcsMaxTable is Redis's proto-max-bulk-len default: LCS refuses a
// dynamic-programming table larger than that (4 bytes a cell).
const lcsMaxTable = 512 << 20

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest
// common subsequence of two strings, as Redis 7.0's lcsCommand computes
// it (the same table walk, so the same subsequence and ranges among the
// longest ones): the string, its length (LEN), or with IDX the matching
// ranges, last first, and the length.
func (e *Engine) cmdLCS(args [][]byte, dst []byte) []byte {
	va, wrongA := e.lookupString(args[1])
	vb, wrongB := e.lookupString(args[2])
	if wrongA || wrongB {
		return appendErr(dst, "ERR The specified keys must contain string values")
	}
	var a, b []byte
	if va != nil {
		a = va.str()
	}
	if vb != nil {
		b = vb.str()
	}
	var getLen, getIdx, withLen bool
	var minLen int64
	for j := 3; j < len(args); j++ {
		switch opt, more := args[j], len(args)-1-j; {
		case bytes.EqualFold(opt, []byte("idx")):
			getIdx = true
		case bytes.EqualFold(opt, []byte("len")):
			getLen = true
		case bytes.EqualFold(opt, []byte("withmatchlen")):
			withLen = true
		case bytes.EqualFold(opt, []byte("minmatchlen")) && more > 0:
			n, ok := resp.ParseInt(args[j+1])
			if !ok {
				return appendErr(dst, errNotInt)
			}
			minLen = max(n, 0)
			j++
		default:
			return appendErr(dst, errSyntax)
		}
	}
	if getIdx && getLen {
		return appendErr(dst, "ERR If you want both the length and indexes, please just use IDX.")
	}
	alen, blen := len(a), len(b)
	if uint64(alen+1)*uint64(blen+1)*4 > lcsMaxTable {
		return appendErr(dst, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
	}
	w := blen + 1
	lcs := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			switch {
			case a[i-1] == b[j-1]:
				lcs[i*w+j] = lcs[(i-1)*w+j-1] + 1
			default:
				lcs[i*w+j] = max(lcs[(i-1)*w+j], lcs[i*w+j-1])
			}
		}
	}
	total := lcs[alen*w+blen]
	if getLen {
		return resp.AppendInt(dst, int64(total))
	}
	// Walk back from the end, as Redis does, building the subsequence and
	// the ranges of contiguous matches.
	result := make([]byte, total)
	idx := total
	type rng struct{ a0, a1, b0, b1 int }
	var ranges []rng
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no range open
	for i, j := alen, blen; i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			switch {
			case aStart == alen:
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			case aStart == i && bStart == j:
				aStart--
				bStart--
			default:
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[(i-1)*w+j] > lcs[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if n := aEnd - aStart + 1; minLen == 0 || int64(n) >= minLen {
				ranges = append(ranges, rng{aStart, aEnd, bStart, bEnd})
			}
			aStart = alen
		}
	}
	if !getIdx {
		return resp.AppendBulk(dst, result)
	}
	dst = resp.AppendArrayHeader(dst, 4)
	dst = resp.AppendBulkString(dst, "matches")
	dst = resp.AppendArrayHeader(dst, len(ranges))
	for _, r := range ranges {
		dst = resp.AppendArrayHeader(dst, 2+btoi(withLen))
		dst = resp.AppendArrayHeader(dst, 2)
		dst = resp.AppendInt(dst, int64(r.a0))
		dst = resp.AppendInt(dst, int64(r.a1))
		dst = resp.AppendArrayHeader(dst, 2)
		dst = resp.AppendInt(dst, int64(r.b0))
		dst = resp.AppendInt(dst, int64(r.b1))
		if withLen {
			dst = resp.AppendInt(dst, int64(r.a1-r.a0+1))
		}
	}
	dst = resp.AppendBulkString(dst, "len")
	return resp.AppendInt(dst, int64(total))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
