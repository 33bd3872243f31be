package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// smallestNormal32 is the smallest positive normal float32, 2⁻¹²⁶.
const smallestNormal32 = 0x1p-126

// expArguments returns float32 values spread evenly, by bit pattern, over
// [lo, 0], with lo < 0: every step-th float32 from 0 down to lo, and lo.
func expArguments(lo float32, step uint32) []float32 {
	var xs []float32
	last := math.Float32bits(lo)
	for bits := math.Float32bits(float32(math.Copysign(0, -1))); bits < last; bits += step {
		xs = append(xs, math.Float32frombits(bits))
	}
	return append(xs, lo)
}

// expError returns the relative error of got as exp(x) where the exact
// value is a normal float32, and the absolute error otherwise.
func expError(x, got float32) (relative, absolute float64) {
	want := math.Exp(float64(x))
	if want >= smallestNormal32 {
		return math.Abs(float64(got)-want) / want, 0
	}
	return 0, math.Abs(float64(got) - want)
}

// TestExp32Accuracy measures the scalar exponential and the vector kernel
// against math.Exp over [−104, 0], the range of logits minus their maximum
// down to where exp rounds to zero in float32.
func TestExp32Accuracy(t *testing.T) {
	checkExpAccuracy(t)
}

func checkExpAccuracy(t *testing.T) {
	step := uint32(97)
	if testing.Short() {
		step = 9973
	}
	xs := expArguments(-104, step)
	vector := append([]float32(nil), xs...)
	expStore32(vector, 0)

	const maxRelative, maxAbsolute = 1.2e-7, 0x1p-149
	var worstRelative, worstAbsolute float64
	for i, x := range xs {
		for _, got := range [...]float32{exp32(x), vector[i]} {
			relative, absolute := expError(x, got)
			worstRelative = max(worstRelative, relative)
			worstAbsolute = max(worstAbsolute, absolute)
			if relative > maxRelative {
				t.Fatalf("exp(%v) = %v, math.Exp gives %v: relative error %.3g > %.3g", x, got, math.Exp(float64(x)), relative, maxRelative)
			}
			if absolute > maxAbsolute {
				t.Fatalf("exp(%v) = %v, math.Exp gives %v: absolute error %.3g > %.3g", x, got, math.Exp(float64(x)), absolute, maxAbsolute)
			}
		}
	}
	t.Logf("%d arguments in [-104, 0], AVX2 %v, AVX-512 %v: max relative error %.3g (normal results), max absolute error %.3g (subnormal results)",
		len(xs), useAVX2, useAVX512, worstRelative, worstAbsolute)
}

func TestExp32SpecialValues(t *testing.T) {
	cases := []struct {
		x, want float32
	}{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{float32(math.Inf(-1)), 0},
		{-104, 0},
		{-1000, 0},
		{100, float32(math.Inf(1))},
		{float32(math.Inf(1)), float32(math.Inf(1))},
	}
	for _, tc := range cases {
		// 24 copies so that the AVX-512 kernel computes the first 16 and
		// the AVX2 kernel the next 8.
		vector := make([]float32, 24)
		for i := range vector {
			vector[i] = tc.x
		}
		expStore32(vector, 0)
		for _, got := range [...]float32{exp32(tc.x), vector[0], vector[16]} {
			if got != tc.want {
				t.Errorf("exp(%v) = %v, want %v", tc.x, got, tc.want)
			}
		}
	}

	nan := float32(math.NaN())
	vector := make([]float32, 24)
	vector[0], vector[16] = nan, nan
	expStore32(vector, 0)
	if got := exp32(nan); got == got {
		t.Errorf("exp32(NaN) = %v, want NaN", got)
	}
	for _, lane := range []int{0, 16} {
		if got := vector[lane]; got == got {
			t.Errorf("vector exp(NaN) in lane %d = %v, want NaN", lane, got)
		}
		if vector[lane+1] != 1 {
			t.Errorf("vector exp(0) beside a NaN lane = %v, want 1", vector[lane+1])
		}
	}
}

func randomFloat32s(rng *rand.Rand, n int, lo, hi float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float32()
	}
	return x
}

// TestExpKernelsMatchGeneric checks every kernel wrapper against its pure-Go
// twin at lengths that exercise the vector body, the tail and both.
func TestExpKernelsMatchGeneric(t *testing.T) {
	checkKernelsMatchGeneric(t)
}

func checkKernelsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const shift, scale = 3.5, 0.25
	for _, n := range []int{0, 1, 7, 8, 9, 16, 17, 24, 31, 64, 1000} {
		t.Run(fmt.Sprintf("len=%d", n), func(t *testing.T) {
			x := randomFloat32s(rng, n, -30, 4)
			columnShift := randomFloat32s(rng, n, 2, 5)
			original := append([]float32(nil), x...)

			if got, want := max32(x), max32Generic(x); got != want {
				t.Errorf("max32 = %v, want %v", got, want)
			}
			if got, want := expSum32(x, shift), expSum32Generic(x, shift); !closeRelative(got, want, 1e-6) {
				t.Errorf("expSum32 = %v, want %v", got, want)
			}

			got, want := clone(x), clone(x)
			gotSum, wantSum := expStore32(got, shift), expStore32Generic(want, shift)
			if !closeRelative(gotSum, wantSum, 1e-6) {
				t.Errorf("expStore32 returned %v, want %v", gotSum, wantSum)
			}
			assertClose32(t, "expStore32", got, want, 5e-7)

			got, want = clone(x), clone(x)
			expScale32(got, shift, scale)
			expScale32Generic(want, shift, scale)
			assertClose32(t, "expScale32", got, want, 5e-7)

			got, want = clone(x), clone(x)
			expScalePair32(got, shift, columnShift, scale)
			expScalePair32Generic(want, shift, columnShift, scale)
			assertClose32(t, "expScalePair32", got, want, 5e-7)

			for i := range x {
				if x[i] != original[i] {
					t.Fatalf("x[%d] changed from %v to %v", i, original[i], x[i])
				}
			}
		})
	}
}

func TestExpSum32Value(t *testing.T) {
	x := []float32{0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10}
	var want float64
	for _, v := range x {
		want += math.Exp(float64(v) + 1)
	}
	if got := expSum32(x, -1); !closeRelative(got, want, 3e-7) {
		t.Fatalf("expSum32 = %v, math.Exp gives %v", got, want)
	}
}

func TestMax32Empty(t *testing.T) {
	if got := max32(nil); !math.IsInf(float64(got), -1) {
		t.Fatalf("max32(nil) = %v, want -Inf", got)
	}
}

func clone(x []float32) []float32 { return append([]float32(nil), x...) }

func closeRelative(got, want, tolerance float64) bool {
	return math.Abs(got-want) <= tolerance*math.Abs(want)
}

func assertClose32(t *testing.T, name string, got, want []float32, tolerance float64) {
	t.Helper()
	for i := range want {
		if !closeRelative(float64(got[i]), float64(want[i]), tolerance) {
			t.Fatalf("%s: element %d = %v, pure Go gives %v", name, i, got[i], want[i])
		}
	}
}

func BenchmarkExp32(b *testing.B) {
	x := randomFloat32s(rand.New(rand.NewPCG(7, 8)), 4096, -20, 0)
	b.Run("kernel=vector", func(b *testing.B) {
		for b.Loop() {
			expSum32(x, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	})
	b.Run("kernel=scalar", func(b *testing.B) {
		for b.Loop() {
			expSum32Generic(x, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	})
	b.Run("kernel=math.Exp", func(b *testing.B) {
		for b.Loop() {
			var sum float64
			for _, v := range x {
				sum += math.Exp(float64(v))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	})
}
