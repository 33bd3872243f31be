package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// exp64Arguments returns float64 values spread evenly, by bit pattern, over
// [lo, 0] and over (0, hi], with lo < 0 < hi: count values on each side,
// and lo and hi themselves.
func exp64Arguments(lo, hi float64, count uint64) []float64 {
	var xs []float64
	negative := math.Float64bits(lo) - math.Float64bits(math.Copysign(0, -1))
	for bits := math.Float64bits(math.Copysign(0, -1)); bits < math.Float64bits(lo); bits += negative / count {
		xs = append(xs, math.Float64frombits(bits))
	}
	for bits := uint64(1); bits < math.Float64bits(hi); bits += math.Float64bits(hi) / count {
		xs = append(xs, math.Float64frombits(bits))
	}
	return append(xs, lo, hi)
}

// ulpError returns |got − want| in units of the last place of want, where
// want is a positive normal float64, or in units of the smallest subnormal
// below that.
func ulpError(got, want float64) float64 {
	ulp := math.Float64frombits(1) // the subnormal spacing, 2⁻¹⁰⁷⁴
	if want >= 0x1p-1022 {
		ulp = math.Nextafter(want, math.Inf(1)) - want
	}
	return math.Abs(got-want) / ulp
}

// TestExp64Accuracy measures the scalar exponential and the vector kernel
// against math.Exp over [−746, 1]: the logits minus their shift lie in
// [−2/temperature, 0] up to rounding, and exp rounds to zero below −745.2.
// math.Exp is itself within one unit in the last place, so the bound of 2
// allows for one of its own.
func TestExp64Accuracy(t *testing.T) {
	checkExp64Accuracy(t)
}

func checkExp64Accuracy(t *testing.T) {
	count := uint64(2_000_000)
	if testing.Short() {
		count = 20_000
	}
	xs := exp64Arguments(-746, 1, count)
	vector := append([]float64(nil), xs...)
	expStore64(vector, 0)

	const maxULP = 2
	var worst float64
	for i, x := range xs {
		want := math.Exp(x)
		for _, got := range [...]float64{exp64(x), vector[i]} {
			e := ulpError(got, want)
			worst = max(worst, e)
			if e > maxULP {
				t.Fatalf("exp(%v) = %v, math.Exp gives %v: %.3g units in the last place > %v", x, got, want, e, maxULP)
			}
		}
	}
	t.Logf("%d arguments in [-746, 1], AVX2 %v, AVX-512 %v: max error %.3g units in the last place of math.Exp", len(xs), useAVX2, useAVX512, worst)
}

func TestExp64SpecialValues(t *testing.T) {
	checkExp64SpecialValues(t)
}

func checkExp64SpecialValues(t *testing.T) {
	cases := []struct {
		x, want float64
	}{
		{0, 1},
		{math.Copysign(0, -1), 1},
		{1, math.E},
		{math.Inf(-1), 0},
		{-746, 0},
		{-1e300, 0},
		{math.Inf(1), math.Inf(1)},
		{710, math.Inf(1)},
		{-745.1332191019411, math.Float64frombits(1)}, // exp rounds to the smallest subnormal
	}
	for _, c := range cases {
		x := []float64{c.x, c.x, c.x, c.x, c.x, c.x, c.x, c.x, c.x}
		expStore64(x, 0)
		for _, got := range [...]float64{exp64(c.x), x[0], x[8]} {
			if got != c.want && !(c.want == math.E && ulpError(got, c.want) <= 1) {
				t.Errorf("exp(%v) = %v, want %v", c.x, got, c.want)
			}
		}
	}
	nan := []float64{math.NaN(), 0, 0, 0, 0, 0, 0, 0}
	expStore64(nan, 0)
	if !math.IsNaN(nan[0]) || nan[1] != 1 || !math.IsNaN(exp64(math.NaN())) {
		t.Errorf("exp(NaN) gave %v and %v; the next lane gave %v", nan[0], exp64(math.NaN()), nan[1])
	}
}

// TestExp64KernelsMatchGeneric checks the float64 kernel wrappers against
// their pure-Go twins at lengths that exercise the vector body, the tail
// and both. Both take the same rounding steps, so the stored values agree
// to the bit; sums are added in another order.
func TestExp64KernelsMatchGeneric(t *testing.T) {
	checkExp64KernelsMatchGeneric(t)
}

func checkExp64KernelsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const shift, scale = 3.5, 0.25
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 12, 16, 17, 24, 31, 64, 1000} {
		t.Run(fmt.Sprintf("len=%d", n), func(t *testing.T) {
			x := make([]float64, n)
			columnShift := make([]float64, n)
			for i := range x {
				x[i] = -760 + 770*rng.Float64()
				columnShift[i] = 2 + 3*rng.Float64()
			}
			original := append([]float64(nil), x...)

			if got, want := expSum64(x, shift), expSum64Generic(x, shift); !closeRelative(got, want, 1e-14) {
				t.Errorf("expSum64 = %v, want %v", got, want)
			}

			got, want := append([]float64(nil), x...), append([]float64(nil), x...)
			gotSum, wantSum := expStore64(got, shift), expStore64Generic(want, shift)
			if !closeRelative(gotSum, wantSum, 1e-14) {
				t.Errorf("expStore64 returned %v, want %v", gotSum, wantSum)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("expStore64: element %d (x = %v) is %v, want %v", i, x[i], got[i], want[i])
				}
			}

			got, want = append([]float64(nil), x...), append([]float64(nil), x...)
			expScalePair64(got, shift, columnShift, scale)
			expScalePair64Generic(want, shift, columnShift, scale)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("expScalePair64: element %d is %v, want %v", i, got[i], want[i])
				}
			}

			for i := range x {
				if x[i] != original[i] {
					t.Fatalf("x[%d] changed from %v to %v", i, original[i], x[i])
				}
			}
		})
	}
}

func BenchmarkExp64(b *testing.B) {
	x := make([]float64, 4096)
	for i := range x {
		x[i] = -20 * float64(i) / float64(len(x))
	}
	b.Run("kernel=vector", func(b *testing.B) {
		for b.Loop() {
			expSum64(x, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	})
	b.Run("kernel=go", func(b *testing.B) {
		for b.Loop() {
			expSum64Generic(x, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	})
	b.Run("kernel=math.Exp", func(b *testing.B) {
		for b.Loop() {
			var sum float64
			for _, v := range x {
				sum += math.Exp(v)
			}
			_ = sum
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	})
}
