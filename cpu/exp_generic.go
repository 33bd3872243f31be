//go:build !amd64 || purego

package cpu

// The pure-Go exponential kernels, for machines without exp_amd64.s and
// for builds with the purego tag.

// useAVX2 and useAVX512 are false: no vector kernel is built.
const (
	useAVX2   = false
	useAVX512 = false
)

func max32(x []float32) float32 { return max32Generic(x) }

func expSum32(x []float32, shift float32) float64 { return expSum32Generic(x, shift) }

func expStore32(x []float32, shift float32) float64 { return expStore32Generic(x, shift) }

func expScale32(x []float32, shift, scale float32) { expScale32Generic(x, shift, scale) }

func expScalePair32(x []float32, shift float32, columnShift []float32, scale float32) {
	expScalePair32Generic(x, shift, columnShift, scale)
}

func expSum64(x []float64, shift float64) float64 { return expSum64Generic(x, shift) }

func expStore64(x []float64, shift float64) float64 { return expStore64Generic(x, shift) }

func expScalePair64(x []float64, shift float64, columnShift []float64, scale float64) {
	expScalePair64Generic(x, shift, columnShift, scale)
}
