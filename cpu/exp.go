package cpu

import "math"

// The float32 exponential used by the float32 InfoNCE path. The argument is
// reduced as x = n·ln2 + r with |r| ≤ ln2/2, exp(r) is a degree-6
// polynomial, and 2ⁿ is applied as two factors 2^⌊n/2⌋ and 2^(n−⌊n/2⌋), so
// that results below the smallest normal float32 become subnormal numbers
// instead of zero. exp_amd64.s computes the same steps eight lanes at a
// time with AVX2 and FMA, and sixteen with AVX-512, where VSCALEFPS applies
// 2ⁿ in one step. The pure-Go functions below are its twins on other
// machines and for slice tails.
//
// Accuracy was measured by TestExp32Accuracy against math.Exp at 11.5
// million arguments spread over x ∈ [−104, 0], the range InfoNCE uses.
// Where exp(x) is a normal float32, the relative error is at most 1.1e-7,
// about one unit in the last place. Where it is subnormal, the absolute
// error is below 2⁻¹⁴⁹, the spacing of subnormal float32 values. Below
// −104 the result is 0, exp(−Inf) = 0, and a NaN argument gives NaN.

// Clamps on the argument: below expMin the result rounds to 0, above
// expMax it overflows to +Inf, and the clamped n keeps both factors of 2ⁿ
// normal.
const (
	expMin = -110
	expMax = 89
)

// Coefficients of the polynomial p(r) ≈ exp(r) on [−ln2/2, ln2/2]: a
// least-squares fit at 2000 Chebyshev nodes, rounded to float32. In exact
// arithmetic its relative error is below 2e-8.
const (
	expC0 = 1.0
	expC1 = 1.0
	expC2 = 0.5
	expC3 = 0.16666415333747864
	expC4 = 0.041666217148303986
	expC5 = 0.008375128731131554
	expC6 = 0.001394858118146658
)

// ln 2 split as ln2Hi + ln2Lo, where ln2Hi = 355/512 has 9 significant
// bits, so that n·ln2Hi is exact for every |n| < 2¹⁵ and x − n·ln2Hi loses
// nothing to rounding.
const (
	log2E = float32(math.Log2E)
	ln2Hi = 0.693359375
	ln2Lo = float32(math.Ln2 - ln2Hi)
)

// expConstants holds the constants of the vector exponential, each
// repeated in eight lanes, in the order exp_amd64.s reads them.
var expConstants = [...][8]float32{
	broadcast(expMin),
	broadcast(expMax),
	broadcast(log2E),
	broadcast(ln2Hi),
	broadcast(ln2Lo),
	broadcast(expC6),
	broadcast(expC5),
	broadcast(expC4),
	broadcast(expC3),
	broadcast(expC2),
	broadcast(expC1),
	broadcast(expC0),
	broadcast(math.Float32frombits(127)), // the float32 exponent bias, as an int32
}

func broadcast(x float32) [8]float32 {
	return [8]float32{x, x, x, x, x, x, x, x}
}

// exp32 returns e^x in float32 by the steps of the vector kernels.
func exp32(x float32) float32 {
	if x != x { // NaN
		return x
	}
	x = min(max(x, expMin), expMax)
	n := float32(math.RoundToEven(float64(x * log2E)))
	r := x - n*ln2Hi
	r -= n * ln2Lo
	p := float32(expC6)
	p = p*r + expC5
	p = p*r + expC4
	p = p*r + expC3
	p = p*r + expC2
	p = p*r + expC1
	p = p*r + expC0
	half := int32(n) >> 1
	rest := int32(n) - half
	p *= math.Float32frombits(uint32(half+127) << 23)
	return p * math.Float32frombits(uint32(rest+127)<<23)
}

// The generic implementations, used when the CPU lacks AVX2 and FMA and
// for the elements past the last multiple of eight.

func max32Generic(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

func expSum32Generic(x []float32, shift float32) float64 {
	var sum float64
	for _, v := range x {
		sum += float64(exp32(v - shift))
	}
	return sum
}

func expStore32Generic(x []float32, shift float32) float64 {
	var sum float64
	for i, v := range x {
		e := exp32(v - shift)
		x[i] = e
		sum += float64(e)
	}
	return sum
}

func expScale32Generic(x []float32, shift, scale float32) {
	for i, v := range x {
		x[i] = scale * exp32(v-shift)
	}
}

func expScalePair32Generic(x []float32, shift float32, columnShift []float32, scale float32) {
	columnShift = columnShift[:len(x)]
	for i, v := range x {
		x[i] = scale * (exp32(v-shift) + exp32(v-columnShift[i]))
	}
}
