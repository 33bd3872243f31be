//go:build !purego

package cpu

import "golang.org/x/sys/cpu"

// useAVX2 reports whether the kernels of exp_amd64.s can run here, and
// useAVX512 whether its sixteen-lane kernels can too.
var (
	useAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useAVX512 = useAVX2 && cpu.X86.HasAVX512F
)

// The kernels of exp_amd64.s. Each requires len(x) to be a positive
// multiple of eight, sixteen for the AVX512 ones, and len(columnShift) ≥
// len(x).

//go:noescape
func max32AVX2(x []float32) float32

//go:noescape
func expSum32AVX2(x []float32, shift float32) float64

//go:noescape
func expStore32AVX2(x []float32, shift float32) float64

//go:noescape
func expSum32AVX512(x []float32, shift float32) float64

//go:noescape
func expStore32AVX512(x []float32, shift float32) float64

//go:noescape
func expScale32AVX2(x []float32, shift, scale float32)

//go:noescape
func expScalePair32AVX2(x []float32, shift float32, columnShift []float32, scale float32)

// vectorLen returns the length of the prefix of x that the kernels take.
func vectorLen(x []float32) int {
	if !useAVX2 {
		return 0
	}
	return len(x) &^ 7
}

// max32 returns the largest element of x, or −Inf for an empty x.
func max32(x []float32) float32 {
	n := vectorLen(x)
	if n == 0 {
		return max32Generic(x)
	}
	return max(max32AVX2(x[:n]), max32Generic(x[n:]))
}

// wideLen returns the length of the prefix of x that the AVX-512 kernels
// take.
func wideLen(x []float32) int {
	if !useAVX512 {
		return 0
	}
	return len(x) &^ 15
}

// expSum32 returns Σ exp(x_i − shift), accumulated in float64.
func expSum32(x []float32, shift float32) float64 {
	var sum float64
	if n := wideLen(x); n > 0 {
		sum = expSum32AVX512(x[:n], shift)
		x = x[n:]
	}
	if n := vectorLen(x); n > 0 {
		sum += expSum32AVX2(x[:n], shift)
		x = x[n:]
	}
	return sum + expSum32Generic(x, shift)
}

// expStore32 overwrites each x_i with exp(x_i − shift) and returns their
// sum, accumulated in float64.
func expStore32(x []float32, shift float32) float64 {
	var sum float64
	if n := wideLen(x); n > 0 {
		sum = expStore32AVX512(x[:n], shift)
		x = x[n:]
	}
	if n := vectorLen(x); n > 0 {
		sum += expStore32AVX2(x[:n], shift)
		x = x[n:]
	}
	return sum + expStore32Generic(x, shift)
}

// expScale32 overwrites each x_i with scale·exp(x_i − shift).
func expScale32(x []float32, shift, scale float32) {
	n := vectorLen(x)
	if n > 0 {
		expScale32AVX2(x[:n], shift, scale)
	}
	expScale32Generic(x[n:], shift, scale)
}

// expScalePair32 overwrites each x_i with
// scale·(exp(x_i − shift) + exp(x_i − columnShift_i)).
func expScalePair32(x []float32, shift float32, columnShift []float32, scale float32) {
	columnShift = columnShift[:len(x)]
	n := vectorLen(x)
	if n > 0 {
		expScalePair32AVX2(x[:n], shift, columnShift[:n], scale)
	}
	expScalePair32Generic(x[n:], shift, columnShift[n:], scale)
}
