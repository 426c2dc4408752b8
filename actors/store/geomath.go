package store

import (
	"math"
	"math/big"
)

// The GEO commands' distances go through sin, cos and asin, and Redis
// prints them to 4 decimals, sorts by them and compares them with the
// radius: the closer these are to the doubles glibc's libm returns, the
// fewer replies differ. Go's math package is off by an ulp for a sixth to
// a third of the inputs the distances use; glibc's results are nearly
// always the correctly rounded ones (measured on Debian 12's glibc 2.36:
// all but about 0.15% of sin, cos and asin results). So the engine
// computes them in double-double arithmetic (about 106 bits) and rounds
// once, to the correctly rounded double (TestGeoMathCorrectlyRounded
// checks it against 256-bit references). Where glibc itself misrounds, a
// distance differs from Redis's in its last bit, which shows only when
// two distances tie within an ulp, or one sits within about 1e-12 of a
// 4th-decimal boundary or of the radius.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return s, e
}

func fastTwoSum(a, b float64) (s, e float64) {
	s = a + b
	e = b - (s - a)
	return s, e
}

func twoProd(a, b float64) (p, e float64) {
	p = a * b
	return p, math.FMA(a, b, -p)
}

func ddAdd(a, b dd) dd {
	s, e := twoSum(a.hi, b.hi)
	t, f := twoSum(a.lo, b.lo)
	e += t
	s, e = fastTwoSum(s, e)
	e += f
	s, e = fastTwoSum(s, e)
	return dd{s, e}
}

func ddNeg(a dd) dd { return dd{-a.hi, -a.lo} }

func ddSub(a, b dd) dd { return ddAdd(a, ddNeg(b)) }

func ddMul(a, b dd) dd {
	p, e := twoProd(a.hi, b.hi)
	e += float64(a.hi*b.lo) + float64(a.lo*b.hi)
	p, e = fastTwoSum(p, e)
	return dd{p, e}
}

func ddMulF(a dd, b float64) dd {
	p, e := twoProd(a.hi, b)
	e += float64(a.lo * b)
	p, e = fastTwoSum(p, e)
	return dd{p, e}
}

func ddDiv(a, b dd) dd {
	q1 := a.hi / b.hi
	r := ddSub(a, ddMulF(b, q1))
	q2 := r.hi / b.hi
	r = ddSub(r, ddMulF(b, q2))
	q3 := r.hi / b.hi
	s, e := fastTwoSum(q1, q2)
	return ddAdd(dd{s, e}, dd{q3, 0})
}

// ddSqrt is sqrt(t) to double-double precision, t >= 0.
func ddSqrt(t float64) dd {
	s := math.Sqrt(t)
	if s == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return dd{s, 0}
	}
	p, pe := twoProd(s, s)
	r := ((t - p) - pe) / (2 * s)
	hi, lo := fastTwoSum(s, r)
	return dd{hi, lo}
}

// round is the double nearest hi+lo.
func (a dd) round() float64 { return a.hi + a.lo }

// Constants split into double-doubles from 200-bit values.
var (
	ddPiO2             dd         // pi/2
	piO2Parts          [3]float64 // pi/2 as three doubles, for argument reduction
	sinCoef, cosCoef   []dd       // (-1)^i/(2i+1)!, (-1)^i/(2i)!
	twoOverPi          = 2 / math.Pi
	ddReduceLimit      = 1e5 // beyond it, sin and cos fall back to package math
	bigPiText          = "3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803482534211706798"
	sinTerms, cosTerms = 15, 15
)

func init() {
	const prec = 256
	pi, _, err := new(big.Float).SetPrec(prec).Parse(bigPiText, 10)
	if err != nil {
		panic(err)
	}
	half := new(big.Float).SetPrec(prec).Quo(pi, big.NewFloat(2))
	ddPiO2 = splitDD(half)
	// piO2Parts[0]*k must be exact for the k the reduction meets: keep
	// 30 bits of it and carry the rest into the other parts.
	p0 := math.Float64frombits(math.Float64bits(ddPiO2.hi) &^ (1<<23 - 1))
	rest := new(big.Float).SetPrec(prec).Sub(half, new(big.Float).SetPrec(prec).SetFloat64(p0))
	piO2Parts[0] = p0
	for i := 1; i < 3; i++ {
		f, _ := rest.Float64()
		piO2Parts[i] = f
		rest.Sub(rest, new(big.Float).SetPrec(prec).SetFloat64(f))
	}
	fact := new(big.Float).SetPrec(prec).SetInt64(1)
	for n := 0; n <= 2*max(sinTerms, cosTerms)+1; n++ {
		if n > 0 {
			fact.Mul(fact, new(big.Float).SetPrec(prec).SetInt64(int64(n)))
		}
		c := new(big.Float).SetPrec(prec).Quo(big.NewFloat(1), fact)
		if (n/2)%2 == 1 {
			c.Neg(c)
		}
		if n%2 == 0 && len(cosCoef) < cosTerms {
			cosCoef = append(cosCoef, splitDD(c))
		} else if n%2 == 1 && len(sinCoef) < sinTerms {
			sinCoef = append(sinCoef, splitDD(c))
		}
	}
}

func splitDD(x *big.Float) dd {
	hi, _ := x.Float64()
	r := new(big.Float).SetPrec(x.Prec()).Sub(x, new(big.Float).SetFloat64(hi))
	lo, _ := r.Float64()
	return dd{hi, lo}
}

// poly evaluates sum c[i]*x^i by Horner's rule.
func poly(c []dd, x dd) dd {
	p := c[len(c)-1]
	for i := len(c) - 2; i >= 0; i-- {
		p = ddAdd(ddMul(p, x), c[i])
	}
	return p
}

// reduce returns r and k with x = r + k*pi/2, |r| <= about pi/4, for
// |x.hi| <= ddReduceLimit.
func reduce(x dd) (dd, int64) {
	if math.Abs(x.hi) <= math.Pi/4 {
		return x, 0
	}
	k := math.Round(x.hi * twoOverPi)
	p, e := twoProd(k, piO2Parts[0]) // exact: e is 0
	r := ddSub(x, dd{p, e})
	p, e = twoProd(k, piO2Parts[1])
	r = ddSub(r, dd{p, e})
	r = ddSub(r, dd{k * piO2Parts[2], 0})
	return r, int64(k)
}

// sinKernel and cosKernel are the series for |r| <= pi/4.
func sinKernel(r, r2 dd) dd { return ddMul(poly(sinCoef, r2), r) }
func cosKernel(r2 dd) dd    { return poly(cosCoef, r2) }

// sinDD is sin(x) for |x.hi| <= ddReduceLimit.
func sinDD(x dd) dd {
	r, k := reduce(x)
	r2 := ddMul(r, r)
	switch k & 3 {
	case 0:
		return sinKernel(r, r2)
	case 1:
		return cosKernel(r2)
	case 2:
		return ddNeg(sinKernel(r, r2))
	}
	return ddNeg(cosKernel(r2))
}

// cosDD is cos(x) for |x.hi| <= ddReduceLimit.
func cosDD(x dd) dd {
	r, k := reduce(x)
	r2 := ddMul(r, r)
	switch k & 3 {
	case 0:
		return cosKernel(r2)
	case 1:
		return ddNeg(sinKernel(r, r2))
	case 2:
		return ddNeg(cosKernel(r2))
	}
	return sinKernel(r, r2)
}

// negNaN is the NaN x86's invalid operations produce (sign bit set), the
// one libm returns for sin(inf) or asin(2), which printf writes "-nan".
var negNaN = math.Float64frombits(0xfff8000000000000)

// libmSin is glibc's sin.
func libmSin(x float64) float64 {
	switch {
	case x == 0 || math.IsNaN(x):
		return x
	case math.IsInf(x, 0):
		return negNaN
	case math.Abs(x) > ddReduceLimit:
		return math.Sin(x)
	}
	return sinDD(dd{x, 0}).round()
}

// libmCos is glibc's cos.
func libmCos(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return x
	case math.IsInf(x, 0):
		return negNaN
	case math.Abs(x) > ddReduceLimit:
		return math.Cos(x)
	}
	return cosDD(dd{x, 0}).round()
}

// asinNewton refines asin(s) for 0 <= s <= 0.5, where the iteration is
// well conditioned: one Newton step from package math's estimate (good to
// a few ulps) squares its error, to about 2^-100. z is below pi/6, so its
// sine and cosine need no reduction.
func asinNewton(s dd) dd {
	z := dd{math.Asin(s.hi), 0}
	z2 := ddMul(z, z)
	sn, cs := sinKernel(z, z2), cosKernel(z2)
	return ddAdd(z, ddDiv(ddSub(s, sn), cs))
}

// libmAsin is glibc's asin.
func libmAsin(x float64) float64 {
	switch {
	case x == 0 || math.IsNaN(x):
		return x
	case x > 1 || x < -1:
		return negNaN
	case x < 0:
		return -libmAsin(-x)
	case x <= 0.5:
		return asinNewton(dd{x, 0}).round()
	}
	// asin(x) = pi/2 - 2 asin(sqrt((1-x)/2)); 1-x is exact for x >= 0.5.
	s := ddSqrt((1 - x) / 2)
	z := asinNewton(s)
	return ddSub(ddPiO2, ddMulF(z, 2)).round()
}
