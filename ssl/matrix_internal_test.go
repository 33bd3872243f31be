package ssl

import (
	"math"
	"testing"
)

// TestFirstNonFinite checks the exponent test against math.IsNaN and
// math.IsInf at the edges of both precisions.
func TestFirstNonFinite(t *testing.T) {
	values := []float64{
		0, math.Copysign(0, -1), 1, -1,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32,
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.NaN(), math.Float64frombits(0x7ff8000000000001), math.Float64frombits(0xfff0000000000001),
		math.Inf(1), math.Inf(-1),
	}
	for _, v := range values {
		for _, at := range []int{0, 1, 6} {
			x64 := make([]float64, 7)
			x64[at] = v
			want64 := -1
			if math.IsNaN(v) || math.IsInf(v, 0) {
				want64 = at
			}
			if got := firstNonFinite(x64); got != want64 {
				t.Errorf("float64 %v at %d: index %d, want %d", v, at, got, want64)
			}

			x32 := make([]float32, 7)
			x32[at] = float32(v)
			want32 := -1
			if f := float64(x32[at]); math.IsNaN(f) || math.IsInf(f, 0) {
				want32 = at
			}
			if got := firstNonFinite(x32); got != want32 {
				t.Errorf("float32 %v at %d: index %d, want %d", x32[at], at, got, want32)
			}
		}
	}
	if got := firstNonFinite([]float32{math.Float32frombits(0x7fc00000), float32(math.Inf(1))}); got != 0 {
		t.Errorf("two non-finite values: index %d, want the first, 0", got)
	}
}
