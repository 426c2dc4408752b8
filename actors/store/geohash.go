package store

import "math"

// Geohashes as Redis 7.0 computes them (geohash.c, geohash_helper.c): a
// point is a 52-bit score, its latitude and longitude each cut into 2^26
// steps and their bits interleaved, longitude in the odd bits. A radius or
// box search looks at the box of the geohash around its center at a
// precision its size picks, and at that box's 8 neighbours.
//
// Every floating-point step is written to round where C rounds: products
// that feed a sum are converted to float64 so no compiler fuses them into
// an FMA, and sin, cos and asin are libm's (geomath.go).

const (
	geoLongMin     = -180.0
	geoLongMax     = 180.0
	geoLatMin      = -85.05112878
	geoLatMax      = 85.05112878
	geoStepMax     = 26
	geoEarthRadius = 6372797.560856 // meters
	geoMercatorMax = 20037726.37
)

// geoDR is C's M_PI / 180.0, rounded as a double division.
var (
	geoPi = math.Pi
	geoDR = geoPi / 180.0
)

func degRad(ang float64) float64 { return ang * geoDR }
func radDeg(ang float64) float64 { return ang / geoDR }

type geoRange struct{ min, max float64 }

var (
	geoLongRange = geoRange{geoLongMin, geoLongMax}
	geoLatRange  = geoRange{geoLatMin, geoLatMax}
	// GEOHASH re-encodes on the standard ranges.
	geoStdLatRange = geoRange{-90, 90}
)

// geoBits is a geohash of step*2 bits.
type geoBits struct {
	bits uint64
	step uint8
}

func (h geoBits) isZero() bool { return h.bits == 0 && h.step == 0 }

type geoArea struct{ lon, lat geoRange }

// interleave64 puts x's 32 bits in the even bit positions and y's in the
// odd ones.
func interleave64(x, y uint32) uint64 {
	spread := func(v uint64) uint64 {
		v = (v | v<<16) & 0x0000FFFF0000FFFF
		v = (v | v<<8) & 0x00FF00FF00FF00FF
		v = (v | v<<4) & 0x0F0F0F0F0F0F0F0F
		v = (v | v<<2) & 0x3333333333333333
		v = (v | v<<1) & 0x5555555555555555
		return v
	}
	return spread(uint64(x)) | spread(uint64(y))<<1
}

// deinterleave64 undoes interleave64: the even bits in the low 32, the
// odd ones in the high 32.
func deinterleave64(v uint64) uint64 {
	gather := func(v uint64) uint64 {
		v &= 0x5555555555555555
		v = (v | v>>1) & 0x3333333333333333
		v = (v | v>>2) & 0x0F0F0F0F0F0F0F0F
		v = (v | v>>4) & 0x00FF00FF00FF00FF
		v = (v | v>>8) & 0x0000FFFF0000FFFF
		v = (v | v>>16) & 0x00000000FFFFFFFF
		return v
	}
	return gather(v) | gather(v>>1)<<32
}

// geohashEncode encodes a point at step (1..32) on the given ranges.
// Points outside Redis's limits (latitude beyond ±85.05112878) or outside
// the ranges are refused. At the top of a range the offset is 2^step,
// which carries into the bit above the hash, as in Redis (GEOADD at
// longitude 180 stores a score above 2^52).
func geohashEncode(lonR, latR geoRange, lon, lat float64, step uint8) (geoBits, bool) {
	if lon > geoLongMax || lon < geoLongMin || lat > geoLatMax || lat < geoLatMin {
		return geoBits{}, false
	}
	if lat < latR.min || lat > latR.max || lon < lonR.min || lon > lonR.max {
		return geoBits{step: step}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min)
	lonOff := (lon - lonR.min) / (lonR.max - lonR.min)
	scale := float64(uint64(1) << step)
	latOff *= scale
	lonOff *= scale
	return geoBits{interleave64(cUint32(latOff), cUint32(lonOff)), step}, true
}

// cUint32 is C's (uint32_t) conversion of a double as gcc compiles it on
// x86-64: through a 64-bit signed conversion, keeping the low 32 bits.
func cUint32(f float64) uint32 { return uint32(cInt64(f)) }

// cInt64 is C's (long long) conversion of a double on x86-64
// (cvttsd2si): truncation, and the "integer indefinite" 1<<63 for NaN
// and values out of range.
func cInt64(f float64) int64 {
	if !(f > -9223372036854775809.0 && f < 9223372036854775808.0) {
		return math.MinInt64
	}
	return int64(f)
}

// cUint64 is C's (uint64_t) conversion of a double as gcc compiles it on
// x86-64: values below 2^63 (and NaN) through the signed conversion, the
// others shifted down by 2^63 first and the top bit flipped back; so -5
// gives 2^64-5, and -inf, NaN and 2^64 or more give 1<<63 or 0.
func cUint64(f float64) uint64 {
	const two63 = 9223372036854775808.0
	if f >= two63 {
		return uint64(cInt64(f-two63)) ^ (1 << 63)
	}
	return uint64(cInt64(f))
}

// geohashDecode returns the area a geohash covers.
func geohashDecode(lonR, latR geoRange, h geoBits) (geoArea, bool) {
	if h.isZero() {
		return geoArea{}, false
	}
	sep := deinterleave64(h.bits)
	latScale := latR.max - latR.min
	lonScale := lonR.max - lonR.min
	ilato := uint32(sep)
	ilono := uint32(sep >> 32)
	div := float64(uint64(1) << h.step)
	var a geoArea
	a.lat.min = latR.min + float64(float64(ilato)*1.0/div*latScale)
	a.lat.max = latR.min + float64(float64(ilato+1)*1.0/div*latScale)
	a.lon.min = lonR.min + float64(float64(ilono)*1.0/div*lonScale)
	a.lon.max = lonR.min + float64(float64(ilono+1)*1.0/div*lonScale)
	return a, true
}

// geoDecodeScore is Redis's decodeGeohash: a sorted set score (any
// double: GEO commands read any sorted set) to the center of its step-26
// area, clamped to the valid ranges.
func geoDecodeScore(score float64) (lon, lat float64) {
	a, _ := geohashDecode(geoLongRange, geoLatRange, geoBits{cUint64(score), geoStepMax})
	lon = (a.lon.min + a.lon.max) / 2
	lon = min(max(lon, geoLongMin), geoLongMax)
	lat = (a.lat.min + a.lat.max) / 2
	lat = min(max(lat, geoLatMin), geoLatMax)
	return lon, lat
}

// geoAlign52 shifts a geohash to the 52-bit score scale.
func geoAlign52(h geoBits) uint64 { return h.bits << (52 - uint(h.step)*2) }

// geoMove moves h one box along the axis whose bits are moving (the
// interleaved x bits 0xaa..., or the y bits 0x55...): east or north for
// d > 0, west or south for d < 0.
func geoMove(h *geoBits, d int, moving uint64) {
	if d == 0 {
		return
	}
	other := ^moving
	v, keep := h.bits&moving, h.bits&other
	zz := other >> (64 - uint(h.step)*2)
	if d > 0 {
		v += zz + 1
	} else {
		v |= zz
		v -= zz + 1
	}
	v &= moving >> (64 - uint(h.step)*2)
	h.bits = v | keep
}

// The search visits the center box, then its neighbours in this order
// (membersOfAllNeighbors).
const (
	geoCenter = iota
	geoNorth
	geoSouth
	geoEast
	geoWest
	geoNorthEast
	geoNorthWest
	geoSouthEast
	geoSouthWest
)

// geoNeighbors returns the box and its 8 neighbours, in search order.
func geoNeighbors(h geoBits) [9]geoBits {
	var n [9]geoBits
	for i := range n {
		n[i] = h
	}
	move := func(i, dx, dy int) {
		geoMove(&n[i], dx, 0xaaaaaaaaaaaaaaaa)
		geoMove(&n[i], dy, 0x5555555555555555)
	}
	move(geoEast, 1, 0)
	move(geoWest, -1, 0)
	move(geoSouth, 0, -1)
	move(geoNorth, 0, 1)
	move(geoNorthWest, -1, 1)
	move(geoNorthEast, 1, 1)
	move(geoSouthEast, 1, -1)
	move(geoSouthWest, -1, -1)
	return n
}

// geoDistance is the haversine distance in meters (Redis 7.0's
// geohashGetDistance).
func geoDistance(lon1d, lat1d, lon2d, lat2d float64) float64 {
	lat1r := degRad(lat1d)
	lon1r := degRad(lon1d)
	lat2r := degRad(lat2d)
	lon2r := degRad(lon2d)
	u := libmSin((lat2r - lat1r) / 2)
	v := libmSin((lon2r - lon1r) / 2)
	a := float64(u*u) + float64(float64(float64(libmCos(lat1r)*libmCos(lat2r))*v)*v)
	return 2.0 * geoEarthRadius * libmAsin(math.Sqrt(a))
}

// geoShape is what a search looks in: a circle of radius, or a box of
// width by height, in the unit whose meters are conversion.
type geoShape struct {
	box           bool
	lon, lat      float64
	radius        float64
	width, height float64
	conversion    float64
}

// within reports whether a point is in the shape, and its distance from
// the center in meters (geohashGetDistanceIfInRadius and, as Redis 7.0
// has it, geohashGetDistanceIfInRectangle).
func (s *geoShape) within(lon, lat float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.lon, s.lat, lon, lat)
		return d, !(d > s.radius*s.conversion)
	}
	lonDist := geoDistance(lon, lat, s.lon, lat)
	latDist := geoDistance(lon, lat, lon, s.lat)
	if lonDist > s.width*s.conversion/2 || latDist > s.height*s.conversion/2 {
		return 0, false
	}
	return geoDistance(s.lon, s.lat, lon, lat), true
}

// geoEstimateSteps is the precision whose boxes about cover a search of
// rangeMeters at latitude lat.
func geoEstimateSteps(rangeMeters, lat float64) int {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < geoMercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return min(max(step, 1), 26)
}

// boundingBox is the shape's extent: min longitude, min latitude, max
// longitude, max latitude.
func (s *geoShape) boundingBox() [4]float64 {
	var height, width float64
	if s.box {
		height = s.conversion * (s.height / 2)
		width = s.conversion * (s.width / 2)
	} else {
		height = s.conversion * s.radius
		width = s.conversion * s.radius
	}
	latDelta := radDeg(height / geoEarthRadius)
	lonDeltaTop := radDeg(width / geoEarthRadius / libmCos(degRad(s.lat+latDelta)))
	lonDeltaBottom := radDeg(width / geoEarthRadius / libmCos(degRad(s.lat-latDelta)))
	var b [4]float64
	if s.lat < 0 {
		b[0], b[2] = s.lon-lonDeltaBottom, s.lon+lonDeltaBottom
	} else {
		b[0], b[2] = s.lon-lonDeltaTop, s.lon+lonDeltaTop
	}
	b[1], b[3] = s.lat-latDelta, s.lat+latDelta
	return b
}

// geoSearchBoxes is geohashCalculateAreasByShapeWGS84: the 9 boxes to
// search, in search order, the useless ones zeroed.
func (s *geoShape) searchBoxes() [9]geoBits {
	b := s.boundingBox()
	minLon, minLat, maxLon, maxLat := b[0], b[1], b[2], b[3]
	radiusMeters := s.radius
	if s.box {
		radiusMeters = math.Sqrt(float64(s.width/2*(s.width/2)) + float64(s.height/2*(s.height/2)))
	}
	radiusMeters *= s.conversion
	steps := geoEstimateSteps(radiusMeters, s.lat)
	hash, _ := geohashEncode(geoLongRange, geoLatRange, s.lon, s.lat, uint8(steps))
	n := geoNeighbors(hash)
	area, _ := geohashDecode(geoLongRange, geoLatRange, hash)
	decrease := false
	{
		north, _ := geohashDecode(geoLongRange, geoLatRange, n[geoNorth])
		south, _ := geohashDecode(geoLongRange, geoLatRange, n[geoSouth])
		east, _ := geohashDecode(geoLongRange, geoLatRange, n[geoEast])
		west, _ := geohashDecode(geoLongRange, geoLatRange, n[geoWest])
		if north.lat.max < maxLat {
			decrease = true
		}
		if south.lat.min > minLat {
			decrease = true
		}
		if east.lon.max < maxLon {
			decrease = true
		}
		if west.lon.min > minLon {
			decrease = true
		}
	}
	if steps > 1 && decrease {
		steps--
		hash, _ = geohashEncode(geoLongRange, geoLatRange, s.lon, s.lat, uint8(steps))
		n = geoNeighbors(hash)
		area, _ = geohashDecode(geoLongRange, geoLatRange, hash)
	}
	if steps >= 2 {
		zero := func(is ...int) {
			for _, i := range is {
				n[i] = geoBits{}
			}
		}
		if area.lat.min < minLat {
			zero(geoSouth, geoSouthWest, geoSouthEast)
		}
		if area.lat.max > maxLat {
			zero(geoNorth, geoNorthEast, geoNorthWest)
		}
		if area.lon.min < minLon {
			zero(geoWest, geoSouthWest, geoNorthWest)
		}
		if area.lon.max > maxLon {
			zero(geoEast, geoSouthEast, geoNorthEast)
		}
	}
	return n
}

// geohashString is GEOHASH's 11 characters for a score: the point decoded,
// re-encoded on the standard latitude range [-90, 90], 52 bits in base 32
// and a last character always '0'.
func geohashString(score float64) string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	lon, lat := geoDecodeScore(score)
	h, _ := geohashEncode(geoLongRange, geoStdLatRange, lon, lat, 26)
	var buf [11]byte
	for i := range buf {
		idx := uint64(0)
		if i < 10 {
			idx = (h.bits >> (52 - (uint(i)+1)*5)) & 0x1f
		}
		buf[i] = alphabet[idx]
	}
	return string(buf[:])
}
