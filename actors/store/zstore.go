package store

import (
	"math"
	"sort"

	"github.com/dynonode/dynonode/actors/resp"
)

// zsource is one input of ZUNIONSTORE/ZINTERSTORE: a sorted set or a set
// (whose members score 1), or nothing.
type zsource struct {
	z      *zset
	s      *set
	weight float64
}

func (src zsource) len() int {
	switch {
	case src.z != nil:
		return src.z.len()
	case src.s != nil:
		return src.s.len()
	}
	return 0
}

// each visits the members in the source's own order.
func (src zsource) each(fn func(m string, score float64)) {
	switch {
	case src.z != nil:
		for _, it := range src.z.items {
			fn(it.member, it.score)
		}
	case src.s != nil:
		src.s.each(func(m string, _ struct{}) bool { fn(m, 1); return true })
	}
}

func (src zsource) find(m string) (float64, bool) {
	switch {
	case src.z != nil:
		s, ok := src.z.scores[m]
		return s, ok
	case src.s != nil:
		return 1, src.s.has([]byte(m))
	}
	return 0, false
}

func aggregate(target *float64, val float64, how string) {
	switch how {
	case "sum":
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case "min":
		if val < *target {
			*target = val
		}
	case "max":
		if val > *target {
			*target = val
		}
	}
}

// ZUNIONSTORE and ZINTERSTORE destination numkeys key [key ...]
// [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]. Inputs are combined
// smallest first, as Redis orders them, so float sums round the same way.
func (e *Engine) cmdZStore(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	numkeys, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	if numkeys < 1 {
		return appendErr(dst, "ERR at least 1 input key is needed for '"+name+"' command")
	}
	if numkeys > int64(len(args)-3) {
		return appendErr(dst, errSyntax)
	}
	srcs := make([]zsource, numkeys)
	for i := range srcs {
		v := e.lookup(args[3+i])
		srcs[i].weight = 1
		switch {
		case v == nil:
		case v.kind == kZSet:
			srcs[i].z = v.zset()
		case v.kind == kSet:
			srcs[i].s = v.set()
		default:
			return appendErr(dst, errWrongType)
		}
	}
	how := "sum"
	for j := 3 + int(numkeys); j < len(args); {
		left := len(args) - j
		switch {
		case left >= int(numkeys)+1 && is(args[j], "weights"):
			j++
			for i := range srcs {
				w, ok := parseDouble(args[j])
				if !ok {
					return appendErr(dst, "ERR weight value is not a float")
				}
				srcs[i].weight = w
				j++
			}
		case left >= 2 && is(args[j], "aggregate"):
			switch a := args[j+1]; {
			case is(a, "sum"):
				how = "sum"
			case is(a, "min"):
				how = "min"
			case is(a, "max"):
				how = "max"
			default:
				return appendErr(dst, errSyntax)
			}
			j += 2
		default:
			return appendErr(dst, errSyntax)
		}
	}
	sort.SliceStable(srcs, func(a, b int) bool { return srcs[a].len() < srcs[b].len() })
	out := newZSet()
	if name == "zinterstore" {
		if srcs[0].len() > 0 {
			srcs[0].each(func(m string, s float64) {
				score := srcs[0].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				for _, o := range srcs[1:] {
					v, ok := o.find(m)
					if !ok {
						return
					}
					aggregate(&score, v*o.weight, how)
				}
				out.put(m, score)
			})
		}
	} else {
		acc := map[string]float64{}
		var order []string
		for _, src := range srcs {
			src.each(func(m string, s float64) {
				score := src.weight * s
				if math.IsNaN(score) {
					score = 0
				}
				if cur, ok := acc[m]; ok {
					aggregate(&cur, score, how)
					acc[m] = cur
					return
				}
				acc[m] = score
				order = append(order, m)
			})
		}
		for _, m := range order {
			out.put(m, acc[m])
		}
	}
	e.del(args[1])
	if out.len() == 0 {
		return resp.AppendInt(dst, 0)
	}
	e.zsetFromContent(out)
	e.add(args[1], &value{kind: kZSet, coll: out})
	return resp.AppendInt(dst, int64(out.len()))
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]: member, score pairs.
func (e *Engine) cmdZScan(args [][]byte, dst []byte) []byte {
	cursor, ok := parseCursor(args[2])
	if !ok {
		return appendErr(dst, errCursor)
	}
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return append(dst, replyEmptyScan...)
	}
	o, bad := parseScanOpts(args[3:], false)
	if bad != "" {
		return appendErr(dst, bad)
	}
	// The cursor is a rank: stable while the set is not modified.
	start := int(min(cursor, uint64(z.len())))
	end := min(z.len(), start+scanCount(z.len(), o.count))
	var out []string
	dst = resp.AppendArrayHeader(dst, 2)
	for _, it := range z.items[start:end] {
		if o.pattern == nil || matchGlob(o.pattern, []byte(it.member)) {
			out = append(out, it.member, string(appendScoreText(nil, it.score)))
		}
	}
	next := uint64(end)
	if end == z.len() {
		next = 0
	}
	dst = resp.AppendBulkString(dst, formatUint(next))
	return appendStrings(dst, out)
}
