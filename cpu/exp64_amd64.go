//go:build !purego

package cpu

// The kernels of exp64_amd64.s. Each requires len(x) to be a multiple of
// eight for the AVX512 ones and of four for the AVX2 ones, and
// len(columnShift) ≥ len(x). An empty x returns at once.

//go:noescape
func expSum64AVX512(x []float64, shift float64) float64

//go:noescape
func expStore64AVX512(x []float64, shift float64) float64

//go:noescape
func expScalePair64AVX512(x []float64, shift float64, columnShift []float64, scale float64)

//go:noescape
func expSum64AVX2(x []float64, shift float64) float64

//go:noescape
func expStore64AVX2(x []float64, shift float64) float64

//go:noescape
func expScalePair64AVX2(x []float64, shift float64, columnShift []float64, scale float64)

// split64 splits x into the prefix that the AVX-512 kernels take, the
// next part, which the AVX2 kernels take, and the tail left to the pure-Go
// functions. A part whose instructions this CPU lacks is empty.
func split64(x []float64) (wide, vector, tail []float64) {
	n := 0
	if useAVX512 {
		n = len(x) &^ 7
	}
	wide, x = x[:n], x[n:]
	n = 0
	if useAVX2 {
		n = len(x) &^ 3
	}
	return wide, x[:n], x[n:]
}

// expSum64 returns Σ exp(x_i − shift).
func expSum64(x []float64, shift float64) float64 {
	wide, vector, tail := split64(x)
	return expSum64AVX512(wide, shift) + expSum64AVX2(vector, shift) + expSum64Generic(tail, shift)
}

// expStore64 overwrites each x_i with exp(x_i − shift) and returns their
// sum.
func expStore64(x []float64, shift float64) float64 {
	wide, vector, tail := split64(x)
	return expStore64AVX512(wide, shift) + expStore64AVX2(vector, shift) + expStore64Generic(tail, shift)
}

// expScalePair64 overwrites each x_i with
// scale·(exp(x_i − shift) + exp(x_i − columnShift_i)).
func expScalePair64(x []float64, shift float64, columnShift []float64, scale float64) {
	columnShift = columnShift[:len(x)]
	wide, vector, tail := split64(x)
	expScalePair64AVX512(wide, shift, columnShift, scale)
	expScalePair64AVX2(vector, shift, columnShift[len(wide):], scale)
	expScalePair64Generic(tail, shift, columnShift[len(wide)+len(vector):], scale)
}
