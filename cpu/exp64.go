package cpu

import "math"

// The float64 exponential used by the float64 InfoNCE path. It takes the
// steps of the float32 one in exp.go with float64 constants: x = n·ln2 + r
// with |r| ≤ ln2/2, exp(r) by its Taylor polynomial of degree 13, and 2ⁿ
// applied in two factors (in one step by VSCALEFPD in the AVX-512 kernel),
// so that a subnormal result is rounded once. On |r| ≤ ln2/2 the polynomial's
// truncation error is below 4.2e-18 relative, 0.04 units in the last place.
// Every step is a single rounding or a fused multiply-add in the vector
// kernels and in exp64 alike, so they agree to the bit.
//
// Accuracy was measured by TestExp64Accuracy against math.Exp, at 4 million
// arguments spread over [−746, 1]: see that test for the bound it holds.

// Clamps on the argument: below exp64Min the result rounds to 0, above
// exp64Max it overflows to +Inf, and the clamped n keeps both factors of 2ⁿ
// normal.
const (
	exp64Min = -746
	exp64Max = 710
)

// ln 2 split as ln2Hi64 + ln2Lo64, where ln2Hi64 has 32 significant bits,
// so that n·ln2Hi64 is exact for every |n| < 2²¹.
const (
	ln2Hi64 = 0x1.62e42fee00000p-1
	ln2Lo64 = math.Ln2 - ln2Hi64
)

// exp64Constants holds the constants of the vector kernels in the order
// exp64_amd64.s reads them: the clamps, log₂e, ln 2 in two parts, the
// coefficients 1/k! of the polynomial from k = 13 down to k = 0, and the
// exponent bias.
var exp64Constants = [...]float64{
	exp64Min,
	exp64Max,
	math.Log2E,
	ln2Hi64,
	ln2Lo64,
	1.0 / 6227020800,
	1.0 / 479001600,
	1.0 / 39916800,
	1.0 / 3628800,
	1.0 / 362880,
	1.0 / 40320,
	1.0 / 5040,
	1.0 / 720,
	1.0 / 120,
	1.0 / 24,
	1.0 / 6,
	1.0 / 2,
	1,
	1,
	math.Float64frombits(1023), // the float64 exponent bias, as an int64
}

// exp64 returns e^x by the steps of the vector kernel.
func exp64(x float64) float64 {
	if x != x { // NaN
		return x
	}
	x = min(max(x, exp64Min), exp64Max)
	n := math.RoundToEven(x * math.Log2E)
	r := math.FMA(-n, ln2Hi64, x)
	r = math.FMA(-n, ln2Lo64, r)
	coefficients := exp64Constants[5:19] // 1/13! down to 1/0!
	p := coefficients[0]
	for _, c := range coefficients[1:] {
		p = math.FMA(p, r, c)
	}
	half := int64(n) >> 1
	rest := int64(n) - half
	p *= math.Float64frombits(uint64(half+1023) << 52)
	return p * math.Float64frombits(uint64(rest+1023)<<52)
}

func expSum64Generic(x []float64, shift float64) float64 {
	var sum float64
	for _, v := range x {
		sum += exp64(v - shift)
	}
	return sum
}

func expStore64Generic(x []float64, shift float64) float64 {
	var sum float64
	for i, v := range x {
		e := exp64(v - shift)
		x[i] = e
		sum += e
	}
	return sum
}

func expScalePair64Generic(x []float64, shift float64, columnShift []float64, scale float64) {
	columnShift = columnShift[:len(x)]
	for i, v := range x {
		x[i] = scale * (exp64(v-shift) + exp64(v-columnShift[i]))
	}
}
