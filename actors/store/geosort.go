package store

// Redis sorts GEO results with the C library's qsort, or, when COUNT keeps
// fewer than all of them, with its own partial quicksort (pqsort.c, a
// Bentley-McIlroy quicksort that skips the partitions outside the range
// kept). Distances tie (points at the same place, or placed
// symmetrically), and which of two equal points comes first is part of
// the reply: both sorts are written here step for step as the C runs them,
// so ties come out in Redis's order.

// glibcQsort is glibc 2.36's qsort (Debian 12's), a top-down merge sort
// (msort): the halves n/2 and n-n/2, merged taking from the left on
// ties.
func glibcQsort(a []geoPoint, cmp func(a, b *geoPoint) int) {
	if len(a) < 2 {
		return
	}
	tmp := make([]geoPoint, len(a))
	msort(a, tmp, cmp)
}

func msort(a, tmp []geoPoint, cmp func(a, b *geoPoint) int) {
	n := len(a)
	if n <= 1 {
		return
	}
	n1 := n / 2
	b1, b2 := a[:n1], a[n1:]
	msort(b1, tmp, cmp)
	msort(b2, tmp, cmp)
	i, j, k := 0, 0, 0
	for i < len(b1) && j < len(b2) {
		if cmp(&b1[i], &b2[j]) <= 0 {
			tmp[k] = b1[i]
			i++
		} else {
			tmp[k] = b2[j]
			j++
		}
		k++
	}
	k += copy(tmp[k:], b1[i:])
	copy(a, tmp[:k]) // what is left of b2 is in place already
}

// pqsort sorts a so that positions lrange..rrange hold what a full sort
// would put there (Redis's pqsort). Redis 7.0's has no switch to an
// insertion sort after a partition that swapped nothing (NetBSD's
// qsort has one): equal distances come out as its partitions leave them
// (TestGeoCasesLikeRedis has such a case).
func pqsort(a []geoPoint, cmp func(a, b *geoPoint) int, lrange, rrange int) {
	pqsortRange(a, 0, len(a), cmp, lrange, rrange)
}

// pqsortRange sorts a[lo:lo+n]; lrange and rrange are positions in a.
func pqsortRange(a []geoPoint, lo, n int, cmp func(a, b *geoPoint) int, lrange, rrange int) {
	swap := func(i, j int) { a[i], a[j] = a[j], a[i] }
	vecswap := func(i, j, n int) {
		for k := 0; k < n; k++ {
			swap(i+k, j+k)
		}
	}
	med3 := func(x, y, z int) int {
		if cmp(&a[x], &a[y]) < 0 {
			if cmp(&a[y], &a[z]) < 0 {
				return y
			}
			if cmp(&a[x], &a[z]) < 0 {
				return z
			}
			return x
		}
		if cmp(&a[y], &a[z]) > 0 {
			return y
		}
		if cmp(&a[x], &a[z]) < 0 {
			return x
		}
		return z
	}
	insertion := func(lo, n int) {
		for pm := lo + 1; pm < lo+n; pm++ {
			for pl := pm; pl > lo && cmp(&a[pl-1], &a[pl]) > 0; pl-- {
				swap(pl, pl-1)
			}
		}
	}
	// outside reports whether the range kept misses a[s:s+m] entirely.
	outside := func(s, m int) bool {
		return (lrange < s && rrange < s) || (lrange > s+m-1 && rrange > s+m-1)
	}
	for {
		if n < 7 {
			insertion(lo, n)
			return
		}
		pm := lo + n/2
		if n > 7 {
			pl, pn := lo, lo+n-1
			if n > 40 {
				d := n / 8
				pl = med3(pl, pl+d, pl+2*d)
				pm = med3(pm-d, pm, pm+d)
				pn = med3(pn-2*d, pn-d, pn)
			}
			pm = med3(pl, pm, pn)
		}
		swap(lo, pm)
		pa, pb := lo+1, lo+1
		pc, pd := lo+n-1, lo+n-1
		for {
			for pb <= pc {
				r := cmp(&a[pb], &a[lo])
				if r > 0 {
					break
				}
				if r == 0 {
					swap(pa, pb)
					pa++
				}
				pb++
			}
			for pb <= pc {
				r := cmp(&a[pc], &a[lo])
				if r < 0 {
					break
				}
				if r == 0 {
					swap(pc, pd)
					pd--
				}
				pc--
			}
			if pb > pc {
				break
			}
			swap(pb, pc)
			pb++
			pc--
		}
		pn := lo + n
		r := min(pa-lo, pb-pa)
		vecswap(lo, pb-r, r)
		r = min(pd-pc, pn-pd-1)
		vecswap(pb, pn-r, r)
		if r = pb - pa; r > 1 && !outside(lo, r) {
			pqsortRange(a, lo, r, cmp, lrange, rrange)
		}
		r = pd - pc
		if r <= 1 {
			return
		}
		lo, n = pn-r, r
		if outside(lo, n) {
			return
		}
	}
}
