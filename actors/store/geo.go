package store

import (
	"math"
	"strconv"

	"github.com/dynonode/dynonode/actors/resp"
)

// GEO commands, as Redis 7.0 runs them (geo.c): a GEO set is a sorted set
// whose scores are 52-bit geohashes (geohash.go), and every GEO command
// reads any sorted set, whatever its scores.

// geoParseLonLat is extractLongLatOrReply: both numbers first, then the
// range check, whose message prints them with %f.
func geoParseLonLat(lonArg, latArg []byte) (lon, lat float64, bad string) {
	lon, ok := parseDouble(lonArg)
	if !ok {
		return 0, 0, errNotFloat
	}
	lat, ok = parseDouble(latArg)
	if !ok {
		return 0, 0, errNotFloat
	}
	if lon < geoLongMin || lon > geoLongMax || lat < geoLatMin || lat > geoLatMax {
		return 0, 0, "ERR invalid longitude,latitude pair " + cFormatF(lon, 6) + "," + cFormatF(lat, 6)
	}
	return lon, lat, ""
}

// cFormatF is C's %.<prec>f of a double: inf, -inf, nan and -nan as glibc
// writes them.
func cFormatF(f float64, prec int) string {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', prec, 64)
}

// geoUnit is extractUnitOrReply: the meters in one unit, or 0.
func geoUnit(b []byte) float64 {
	switch {
	case is(b, "m"):
		return 1
	case is(b, "km"):
		return 1000
	case is(b, "ft"):
		return 0.3048
	case is(b, "mi"):
		return 1609.34
	}
	return 0
}

const errGeoUnit = "ERR unsupported unit provided. please use M, KM, FT, MI"

// geoParseRadius is extractDistanceOrReply: radius unit.
func geoParseRadius(radiusArg, unitArg []byte) (radius, conversion float64, bad string) {
	radius, ok := parseDouble(radiusArg)
	if !ok {
		return 0, 0, "ERR need numeric radius"
	}
	if radius < 0 {
		return 0, 0, "ERR radius cannot be negative"
	}
	if conversion = geoUnit(unitArg); conversion == 0 {
		return 0, 0, errGeoUnit
	}
	return radius, conversion, ""
}

// geoParseBox is extractBoxOrReply: width height unit.
func geoParseBox(wArg, hArg, unitArg []byte) (w, h, conversion float64, bad string) {
	w, ok := parseDouble(wArg)
	if !ok {
		return 0, 0, 0, "ERR need numeric width"
	}
	h, ok = parseDouble(hArg)
	if !ok {
		return 0, 0, 0, "ERR need numeric height"
	}
	if h < 0 || w < 0 {
		return 0, 0, 0, "ERR height or width cannot be negative"
	}
	if conversion = geoUnit(unitArg); conversion == 0 {
		return 0, 0, 0, errGeoUnit
	}
	return w, h, conversion, ""
}

// appendGeoDistance is addReplyDoubleDistance: %.4f as a bulk string.
func appendGeoDistance(dst []byte, d float64) []byte {
	return resp.AppendBulkString(dst, cFormatF(d, 4))
}

// appendGeoCoord is addReplyHumanLongDouble: the double as a long double
// in ld2string's human mode (%.17Lf, trailing zeros cut).
func appendGeoCoord(dst []byte, f float64) []byte {
	return resp.AppendBulkString(dst, formatLongDouble(newLD().SetFloat64(f)))
}

// GEOADD key [NX|XX] [CH] longitude latitude member [...]: a ZADD of the
// points' geohashes, options passed on.
func (e *Engine) cmdGeoAdd(args [][]byte, dst []byte) []byte {
	var nx, xx bool
	i := 2
	for ; i < len(args); i++ {
		switch {
		case is(args[i], "nx"):
			nx = true
		case is(args[i], "xx"):
			xx = true
		case is(args[i], "ch"):
		default:
			goto parsed
		}
	}
parsed:
	if (len(args)-i)%3 != 0 || (nx && xx) {
		return appendErr(dst, errSyntax)
	}
	zargs := make([][]byte, 0, i+(len(args)-i)/3*2)
	zargs = append(zargs, []byte("zadd"))
	zargs = append(zargs, args[1:i]...)
	for j := i; j < len(args); j += 3 {
		lon, lat, bad := geoParseLonLat(args[j], args[j+1])
		if bad != "" {
			return appendErr(dst, bad)
		}
		h, _ := geohashEncode(geoLongRange, geoLatRange, lon, lat, geoStepMax)
		zargs = append(zargs, strconv.AppendUint(nil, geoAlign52(h), 10), args[j+2])
	}
	return e.zadd(zargs, false, dst)
}

// GEOPOS key member [member ...]
func (e *Engine) cmdGeoPos(args [][]byte, dst []byte) []byte {
	return e.geoEachMember(args, dst, "*-1\r\n", func(dst []byte, score float64) []byte {
		lon, lat := geoDecodeScore(score)
		dst = resp.AppendArrayHeader(dst, 2)
		dst = appendGeoCoord(dst, lon)
		return appendGeoCoord(dst, lat)
	})
}

// GEOHASH key member [member ...]
func (e *Engine) cmdGeoHash(args [][]byte, dst []byte) []byte {
	return e.geoEachMember(args, dst, "$-1\r\n", func(dst []byte, score float64) []byte {
		return resp.AppendBulkString(dst, geohashString(score))
	})
}

// geoEachMember answers GEOPOS and GEOHASH: an array with, for each
// member named after the key, what each appends from its score, or
// missing (a null) for a member or key that does not exist.
func (e *Engine) geoEachMember(args [][]byte, dst []byte, missing string, each func([]byte, float64) []byte) []byte {
	z, wrong := e.lookupZSet(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	dst = resp.AppendArrayHeader(dst, len(args)-2)
	for _, m := range args[2:] {
		score, ok := 0.0, false
		if z != nil {
			score, ok = z.scores[string(m)]
		}
		if !ok {
			dst = append(dst, missing...)
			continue
		}
		dst = each(dst, score)
	}
	return dst
}

// GEODIST key member1 member2 [unit]
func (e *Engine) cmdGeoDist(args [][]byte, dst []byte) []byte {
	toMeters := 1.0
	switch {
	case len(args) == 5:
		if toMeters = geoUnit(args[4]); toMeters == 0 {
			return appendErr(dst, errGeoUnit)
		}
	case len(args) > 5:
		return appendErr(dst, errSyntax)
	}
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return resp.AppendNullBulk(dst)
	}
	s1, ok1 := z.scores[string(args[2])]
	s2, ok2 := z.scores[string(args[3])]
	if !ok1 || !ok2 {
		return resp.AppendNullBulk(dst)
	}
	lon1, lat1 := geoDecodeScore(s1)
	lon2, lat2 := geoDecodeScore(s2)
	return appendGeoDistance(dst, geoDistance(lon1, lat1, lon2, lat2)/toMeters)
}

// What georadiusGeneric is asked to do.
const (
	geoFromCoords  = 1 << iota // GEORADIUS[_RO]: key longitude latitude radius unit
	geoFromMember              // GEORADIUSBYMEMBER[_RO]: key member radius unit
	geoNoStore                 // the _RO variants: no STORE or STOREDIST
	geoSearchCmd               // GEOSEARCH[STORE]: FROM... and BY... options
	geoSearchStore             // GEOSEARCHSTORE destination source ...
)

// geoPoint is one search result.
type geoPoint struct {
	lon, lat, dist, score float64
	member                string
}

func (e *Engine) cmdGeoRadius(args [][]byte, dst []byte) []byte {
	flags := geoFromCoords
	switch cmdName(args) {
	case "georadius_ro":
		flags |= geoNoStore
	case "georadiusbymember":
		flags = geoFromMember
	case "georadiusbymember_ro":
		flags = geoFromMember | geoNoStore
	}
	return e.geoSearch(args, 1, flags, dst)
}

func (e *Engine) cmdGeoSearch(args [][]byte, dst []byte) []byte {
	if cmdName(args) == "geosearchstore" {
		return e.geoSearch(args, 2, geoSearchCmd|geoSearchStore, dst)
	}
	return e.geoSearch(args, 1, geoSearchCmd, dst)
}

// geoSearch is georadiusGeneric: the options parsed in Redis's order and
// with its errors, the boxes walked, the points sorted and replied or
// stored.
func (e *Engine) geoSearch(args [][]byte, srcIdx, flags int, dst []byte) []byte {
	var storeKey []byte
	storeDist := false
	z, wrong := e.lookupZSet(args[srcIdx])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	var shape geoShape
	var base int
	var bad string
	switch {
	case flags&geoFromCoords != 0:
		base = 6
		if shape.lon, shape.lat, bad = geoParseLonLat(args[2], args[3]); bad != "" {
			return appendErr(dst, bad)
		}
		if shape.radius, shape.conversion, bad = geoParseRadius(args[4], args[5]); bad != "" {
			return appendErr(dst, bad)
		}
	case flags&geoFromMember != 0 && z == nil:
		// No key: the options are still parsed, for the reply's kind.
		base = 5
	case flags&geoFromMember != 0:
		base = 5
		score, ok := z.scores[string(args[2])]
		if !ok {
			return appendErr(dst, "ERR could not decode requested zset member")
		}
		shape.lon, shape.lat = geoDecodeScore(score)
		if shape.radius, shape.conversion, bad = geoParseRadius(args[3], args[4]); bad != "" {
			return appendErr(dst, bad)
		}
	default: // GEOSEARCH, GEOSEARCHSTORE
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
			storeKey = args[1]
		}
	}

	var withDist, withHash, withCoord, fromMember, fromLoc, byRadius, byBox, any bool
	sortDir := 0 // 0 none, 1 ascending, -1 descending
	count := int64(0)
	search := flags&geoSearchCmd != 0
	canStore := flags&geoNoStore == 0 && !search
	remaining := len(args) - base
	for i := 0; i < remaining; i++ {
		arg := args[base+i]
		switch {
		case is(arg, "withdist"):
			withDist = true
		case is(arg, "withhash"):
			withHash = true
		case is(arg, "withcoord"):
			withCoord = true
		case is(arg, "any"):
			any = true
		case is(arg, "asc"):
			sortDir = 1
		case is(arg, "desc"):
			sortDir = -1
		case is(arg, "count") && i+1 < remaining:
			n, ok := resp.ParseInt(args[base+i+1])
			if !ok {
				return appendErr(dst, errNotInt)
			}
			if n <= 0 {
				return appendErr(dst, "ERR COUNT must be > 0")
			}
			count = n
			i++
		case is(arg, "store") && i+1 < remaining && canStore:
			storeKey, storeDist = args[base+i+1], false
			i++
		case is(arg, "storedist") && i+1 < remaining && canStore:
			storeKey, storeDist = args[base+i+1], true
			i++
		case is(arg, "storedist") && flags&geoSearchStore != 0:
			storeDist = true
		case is(arg, "frommember") && i+1 < remaining && search && !fromLoc:
			if z != nil {
				score, ok := z.scores[string(args[base+i+1])]
				if !ok {
					return appendErr(dst, "ERR could not decode requested zset member")
				}
				shape.lon, shape.lat = geoDecodeScore(score)
			}
			fromMember = true
			i++
		case is(arg, "fromlonlat") && i+2 < remaining && search && !fromMember:
			if shape.lon, shape.lat, bad = geoParseLonLat(args[base+i+1], args[base+i+2]); bad != "" {
				return appendErr(dst, bad)
			}
			fromLoc = true
			i += 2
		case is(arg, "byradius") && i+2 < remaining && search && !byBox:
			if shape.radius, shape.conversion, bad = geoParseRadius(args[base+i+1], args[base+i+2]); bad != "" {
				return appendErr(dst, bad)
			}
			shape.box = false
			byRadius = true
			i += 2
		case is(arg, "bybox") && i+3 < remaining && search && !byRadius:
			if shape.width, shape.height, shape.conversion, bad = geoParseBox(args[base+i+1], args[base+i+2], args[base+i+3]); bad != "" {
				return appendErr(dst, bad)
			}
			shape.box = true
			byBox = true
			i += 3
		default:
			return appendErr(dst, errSyntax)
		}
	}

	name := string(cstr(args[0]))
	switch {
	case storeKey != nil && (withDist || withHash || withCoord):
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		return appendErr(dst, "ERR "+what+" is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
	case search && !fromMember && !fromLoc:
		return appendErr(dst, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for "+name)
	case search && !byRadius && !byBox:
		return appendErr(dst, "ERR exactly one of BYRADIUS and BYBOX can be specified for "+name)
	case any && count == 0:
		return appendErr(dst, "ERR the ANY argument requires COUNT argument")
	}
	if z == nil {
		if storeKey != nil {
			e.del(storeKey)
			return resp.AppendInt(dst, 0)
		}
		return append(dst, replyEmptyArr...)
	}
	if count != 0 && sortDir == 0 && !any {
		sortDir = 1 // the N closest: COUNT sorts
	}
	limit := 0
	if any {
		limit = int(count)
	}
	points := geoCollect(z, &shape, limit)
	if len(points) == 0 && storeKey == nil {
		return append(dst, replyEmptyArr...)
	}
	returned := len(points)
	if count != 0 && int64(returned) > count {
		returned = int(count)
	}
	if sortDir != 0 {
		cmp := geoCmpAsc
		if sortDir < 0 {
			cmp = geoCmpDesc
		}
		if returned == len(points) {
			glibcQsort(points, cmp)
		} else {
			pqsort(points, cmp, 0, returned-1)
		}
	}
	points = points[:returned]
	for i := range points {
		points[i].dist /= shape.conversion
	}
	if storeKey == nil {
		opts := btoi(withDist) + btoi(withHash) + btoi(withCoord)
		dst = resp.AppendArrayHeader(dst, len(points))
		for _, p := range points {
			if opts > 0 {
				dst = resp.AppendArrayHeader(dst, opts+1)
			}
			dst = resp.AppendBulkString(dst, p.member)
			if withDist {
				dst = appendGeoDistance(dst, p.dist)
			}
			if withHash {
				dst = resp.AppendInt(dst, cInt64(p.score))
			}
			if withCoord {
				dst = resp.AppendArrayHeader(dst, 2)
				dst = appendGeoCoord(dst, p.lon)
				dst = appendGeoCoord(dst, p.lat)
			}
		}
		return dst
	}
	e.del(storeKey)
	if len(points) == 0 {
		return resp.AppendInt(dst, 0)
	}
	out := newZSet()
	for _, p := range points {
		if storeDist {
			out.put(p.member, p.dist)
		} else {
			out.put(p.member, p.score)
		}
	}
	e.zsetFromContent(out) // Redis converts a stored result by its content
	e.add(storeKey, &value{kind: kZSet, coll: out})
	return resp.AppendInt(dst, int64(len(points)))
}

// geoCollect is membersOfAllNeighbors: the points of z in the shape, box
// by box in search order (a box equal to the one searched last skipped),
// each box in score order; with limit (COUNT n ANY) the walk stops once
// limit points are found.
func geoCollect(z *zset, shape *geoShape, limit int) []geoPoint {
	boxes := shape.searchBoxes()
	var points []geoPoint
	last := 0
	for i, h := range boxes {
		if h.isZero() {
			continue
		}
		if last != 0 && h == boxes[last] {
			continue
		}
		if len(points) > 0 && limit > 0 && len(points) >= limit {
			break
		}
		lo := float64(geoAlign52(h))
		h.bits++
		hi := float64(geoAlign52(h))
		from, to := z.scoreBounds(scoreRange{min: lo, max: hi, maxex: true})
		for _, it := range z.items[from:to] {
			lon, lat := geoDecodeScore(it.score)
			if d, ok := shape.within(lon, lat); ok {
				points = append(points, geoPoint{lon: lon, lat: lat, dist: d, score: it.score, member: it.member})
			}
			if len(points) > 0 && limit > 0 && len(points) >= limit {
				break
			}
		}
		last = i
	}
	return points
}

// The comparators of Redis's sorts: by distance, NaN never less.
func geoCmpAsc(a, b *geoPoint) int {
	switch {
	case a.dist > b.dist:
		return 1
	case a.dist == b.dist:
		return 0
	}
	return -1
}

func geoCmpDesc(a, b *geoPoint) int { return -geoCmpAsc(a, b) }

// geoStoreArg is where the key a GEORADIUS or GEORADIUSBYMEMBER stores to
// is in args, or 0: the last STORE or STOREDIST followed by an argument,
// option names compared as C strings, as Redis's georadiusGetKeys finds
// it. Where the command succeeds it is the key written (its parser
// consumes arguments only after COUNT, an integer, and STORE and
// STOREDIST). The router's Spec.StoreIndex reads it the same way
// (TestGeoStoreKeyAgrees).
func geoStoreArg(args [][]byte) int {
	from := 6
	if cmdName(args) == "georadiusbymember" {
		from = 5
	}
	at := 0
	for i := from; i+1 < len(args); i++ {
		if is(args[i], "store") || is(args[i], "storedist") {
			at = i + 1
			i++
		}
	}
	return at
}
