//go:build !purego

package cpu

// The kernels of exp64_amd64.s. Each requires len(x) to be a positive
// multiple of eight for the AVX512 ones and of four for the AVX2 ones, and
// len(columnShift) ≥ len(x).

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

// wideLen64 and vectorLen64 return the length of the prefix of x that the
// AVX-512 and the AVX2 kernels take.
func wideLen64(x []float64) int {
	if !useAVX512 {
		return 0
	}
	return len(x) &^ 7
}

func vectorLen64(x []float64) int {
	if !useAVX2 {
		return 0
	}
	return len(x) &^ 3
}

// expSum64 returns Σ exp(x_i − shift).
func expSum64(x []float64, shift float64) float64 {
	var sum float64
	if n := wideLen64(x); n > 0 {
		sum = expSum64AVX512(x[:n], shift)
		x = x[n:]
	}
	if n := vectorLen64(x); n > 0 {
		sum += expSum64AVX2(x[:n], shift)
		x = x[n:]
	}
	return sum + expSum64Generic(x, shift)
}

// expStore64 overwrites each x_i with exp(x_i − shift) and returns their
// sum.
func expStore64(x []float64, shift float64) float64 {
	var sum float64
	if n := wideLen64(x); n > 0 {
		sum = expStore64AVX512(x[:n], shift)
		x = x[n:]
	}
	if n := vectorLen64(x); n > 0 {
		sum += expStore64AVX2(x[:n], shift)
		x = x[n:]
	}
	return sum + expStore64Generic(x, shift)
}

// expScalePair64 overwrites each x_i with
// scale·(exp(x_i − shift) + exp(x_i − columnShift_i)).
func expScalePair64(x []float64, shift float64, columnShift []float64, scale float64) {
	columnShift = columnShift[:len(x)]
	if n := wideLen64(x); n > 0 {
		expScalePair64AVX512(x[:n], shift, columnShift[:n], scale)
		x, columnShift = x[n:], columnShift[n:]
	}
	if n := vectorLen64(x); n > 0 {
		expScalePair64AVX2(x[:n], shift, columnShift[:n], scale)
		x, columnShift = x[n:], columnShift[n:]
	}
	expScalePair64Generic(x, shift, columnShift, scale)
}
