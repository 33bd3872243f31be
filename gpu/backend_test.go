package gpu_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spikessl/spikessl/cpu"
	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
	"github.com/spikessl/spikessl/kernels"
)

// Batch sizes and feature counts of the cross-checks. They include 1, 2
// and 3 rows, both sides of multiples of the 16-row device tile and of the
// CPU path's tiles, and a batch that is a multiple of no tile.
var (
	testBatches  = []int{1, 2, 3, 63, 64, 65, 127, 128, 129, 1000, 4097}
	testFeatures = []int{1, 3, 128, 257}
)

// Tolerances against the CPU float64 result. In float32 the device keeps
// the loss within 1e-5 relative and gradients and updates within 1e-4
// norm-wise. In float64 it agrees to rounding.
const (
	lossTol32 = 1e-5
	gradTol32 = 1e-4
	lossTol64 = 1e-12
	gradTol64 = 1e-10
)

func relative(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestInfoNCEMatchesCPU(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	for _, batch := range testBatches {
		for _, features := range testFeatures {
			for _, symmetric := range []bool{false, true} {
				name := fmt.Sprintf("batch=%d/features=%d/symmetric=%v", batch, features, symmetric)
				t.Run(name+"/float32", func(t *testing.T) {
					seed := uint64(batch*1000 + features)
					a := gputest.Normal[float32](seed, batch*features)
					v := gputest.Normal[float32](seed+1, batch*features)
					checkInfoNCE(t, b, a, v, batch, features, 0.5, symmetric, lossTol32, gradTol32)
				})
			}
		}
	}
	// float64 at a few sizes: the kernels are the same source.
	for _, size := range [][2]int{{2, 3}, {65, 128}, {129, 257}} {
		for _, symmetric := range []bool{false, true} {
			t.Run(fmt.Sprintf("batch=%d/features=%d/symmetric=%v/float64", size[0], size[1], symmetric), func(t *testing.T) {
				if !b.Info().FP64 {
					t.Skipf("%s lacks cl_khr_fp64", b.Device())
				}
				a := gputest.Normal[float64](7, size[0]*size[1])
				v := gputest.Normal[float64](8, size[0]*size[1])
				checkInfoNCE(t, b, a, v, size[0], size[1], 0.2, symmetric, lossTol64, gradTol64)
			})
		}
	}
}

// TestInfoNCEColumnSplits checks that splitting the columns among
// work-groups gives the result of the unsplit kernels: with the split off,
// with as many splits as column tiles, and with a count in between.
func TestInfoNCEColumnSplits(t *testing.T) {
	for _, minGroups := range []int{1, 7, 1 << 20} {
		var log bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		b := gputest.Open(t, gpu.Options{MinWorkGroups: minGroups, Logger: logger})
		for _, batch := range []int{2, 65, 200, 1000} {
			for _, symmetric := range []bool{false, true} {
				t.Run(fmt.Sprintf("min_groups=%d/batch=%d/symmetric=%v", minGroups, batch, symmetric), func(t *testing.T) {
					const features = 33
					a := gputest.Normal[float32](uint64(batch), batch*features)
					v := gputest.Normal[float32](uint64(batch)+1, batch*features)
					log.Reset()
					checkInfoNCE(t, b, a, v, batch, features, 0.5, symmetric, lossTol32, gradTol32)

					splits := splitsLogged(t, log.String())
					tile := tileLogged(t, log.String())
					switch {
					case minGroups == 1 && splits != 1:
						t.Errorf("%d column splits with MinWorkGroups 1, want 1", splits)
					case minGroups == 1<<20 && splits != (batch+tile-1)/tile:
						t.Errorf("%d column splits, want one per column tile, %d", splits, (batch+tile-1)/tile)
					}
				})
			}
		}
	}
}

// splitsLogged and tileLogged return the column splits and the tile of
// the last InfoNCE call that log records.
func splitsLogged(t *testing.T, log string) int { return intLogged(t, log, "column_splits=") }

func tileLogged(t *testing.T, log string) int { return intLogged(t, log, " tile=") }

func intLogged(t *testing.T, log, key string) int {
	t.Helper()
	i := strings.LastIndex(log, key)
	if i < 0 {
		t.Fatalf("no %q in the debug log:\n%s", key, log)
	}
	field, _, _ := strings.Cut(log[i+len(key):], " ")
	n, err := strconv.Atoi(strings.TrimSpace(field))
	if err != nil {
		t.Fatalf("%s%q in the debug log: %v", key, field, err)
	}
	return n
}

// checkInfoNCE compares the device's loss and gradients with the CPU path
// in float64 on the same inputs, and checks that the inputs are unchanged.
func checkInfoNCE[T float32 | float64](t *testing.T, b *gpu.Backend, a, v []T, batch, features int, temperature float64, symmetric bool, lossTol, gradTol float64) {
	t.Helper()
	a64, v64 := gputest.To64(a), gputest.To64(v)
	n := batch * features
	wantA, wantB := make([]float64, n), make([]float64, n)
	want, err := cpu.Backend{}.InfoNCE64(a64, v64, batch, features, temperature, symmetric, wantA, wantB)
	if err != nil {
		t.Fatal(err)
	}
	aBefore, vBefore := slices.Clone(a), slices.Clone(v)

	gotA, gotB := make([]T, n), make([]T, n)
	var got float64
	switch a := any(a).(type) {
	case []float32:
		got, err = b.InfoNCE32(a, any(v).([]float32), batch, features, temperature, symmetric, any(gotA).([]float32), any(gotB).([]float32))
	case []float64:
		got, err = b.InfoNCE64(a, any(v).([]float64), batch, features, temperature, symmetric, any(gotA).([]float64), any(gotB).([]float64))
	}
	if err != nil {
		t.Fatal(err)
	}
	if r := relative(got, want); r > lossTol {
		t.Errorf("loss = %.10g, CPU float64 = %.10g (relative error %.3g > %.0e)", got, want, r, lossTol)
	}
	if r := gradientError(gotA, wantA, a64, batch, features, temperature); r > gradTol {
		t.Errorf("gradient of view a: relative error %.3g > %.0e", r, gradTol)
	}
	if r := gradientError(gotB, wantB, v64, batch, features, temperature); r > gradTol {
		t.Errorf("gradient of view b: relative error %.3g > %.0e", r, gradTol)
	}
	if !slices.Equal(a, aBefore) || !slices.Equal(v, vBefore) {
		t.Error("the views were modified")
	}
}

// gradientError returns the norm-wise relative error of an InfoNCE
// gradient, max |got − want| / max |want|, except that row i is measured
// against 1 / (batch · temperature · ‖x_i‖) where that is larger. That is
// the scale of the row's gradient before the projection of the
// normalisation, which can cancel it down to rounding noise: with one
// feature the exact gradient is 0.
func gradientError[T float32 | float64](got []T, want, x []float64, batch, features int, temperature float64) float64 {
	var scale float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	var worst float64
	for i := range batch {
		var norm float64
		for _, value := range x[i*features : (i+1)*features] {
			norm += value * value
		}
		floor := 1 / (float64(batch) * temperature * max(math.Sqrt(norm), cpu.NormEpsilon))
		for k := i * features; k < (i+1)*features; k++ {
			diff := math.Abs(float64(got[k]) - want[k])
			if math.IsNaN(diff) {
				return math.Inf(1)
			}
			worst = max(worst, diff/max(scale, floor))
		}
	}
	return worst
}

// TestInfoNCESmallLoss checks views whose positive pairs dominate, at low
// temperatures, where the loss of a row is far below its log-sum-exp:
// computing it as lse − diag would cancel in float32.
func TestInfoNCESmallLoss(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	const batch, features = 300, 64
	a := gputest.Normal[float32](21, batch*features)
	noise := gputest.Normal[float32](22, batch*features)
	for _, tc := range []struct {
		noise, temperature float64
	}{
		{0.3, 0.1},
		{0.3, 0.05},
		{0.1, 0.05},
		{1, 0.02},
	} {
		for _, symmetric := range []bool{false, true} {
			t.Run(fmt.Sprintf("noise=%v/temperature=%v/symmetric=%v", tc.noise, tc.temperature, symmetric), func(t *testing.T) {
				v := make([]float32, len(a))
				for i := range v {
					v[i] = a[i] + float32(tc.noise)*noise[i]
				}
				checkInfoNCE(t, b, a, v, batch, features, tc.temperature, symmetric, lossTol32, gradTol32)
			})
		}
	}
}

func TestInfoNCELossOnlyMatchesGradCall(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	a := gputest.Uniform[float32](1, 100*20)
	v := gputest.Uniform[float32](2, 100*20)
	withGrad, err := b.InfoNCE32(a, v, 100, 20, 0.1, true, make([]float32, 2000), nil)
	if err != nil {
		t.Fatal(err)
	}
	lossOnly, err := b.InfoNCE32(a, v, 100, 20, 0.1, true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if withGrad != lossOnly {
		t.Errorf("loss with gradients = %.17g, without = %.17g, want equal", withGrad, lossOnly)
	}
}

func TestInfoNCEClampedNorm(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	const batch, features = 5, 4
	for _, tc := range []struct {
		name string
		row  []float64
	}{
		{"zero row", []float64{0, 0, 0, 0}},
		{"tiny row", []float64{3e-10, -4e-10, 0, 1e-10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := gputest.Uniform[float64](3, batch*features)
			v := gputest.Uniform[float64](4, batch*features)
			copy(a[2*features:], tc.row)
			copy(v[4*features:], tc.row)
			checkInfoNCE(t, b, a, v, batch, features, 0.5, true, lossTol64, gradTol64)
			checkInfoNCE(t, b, toFloat32(a), toFloat32(v), batch, features, 0.5, true, lossTol32, gradTol32)
		})
	}
}

// TestInfoNCEExtremeRows checks rows at both ends of the number range: a
// row of subnormal numbers, whose reciprocal magnitude overflows, and rows
// whose norm exceeds the largest finite value of the precision.
func TestInfoNCEExtremeRows(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	const batch, features = 5, 3
	cases := []struct {
		name      string
		row       []float64
		precision string
	}{
		{"subnormal float32 row", []float64{1e-40, 0, 0}, "float32"},
		{"float32 row with norm beyond range", []float64{3e38, 3e38, 3e38}, "float32"},
		{"subnormal float64 row", []float64{1e-310, 0, 0}, "float64"},
		{"float64 row with norm beyond range", []float64{1.7e308, -1.7e308, 1}, "float64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := gputest.Normal[float64](5, batch*features)
			v := gputest.Normal[float64](6, batch*features)
			copy(a, tc.row)
			for _, symmetric := range []bool{false, true} {
				if tc.precision == "float32" {
					checkInfoNCE(t, b, toFloat32(a), toFloat32(v), batch, features, 0.5, symmetric, lossTol32, gradTol32)
					continue
				}
				if !b.Info().FP64 {
					t.Skipf("%s lacks cl_khr_fp64", b.Device())
				}
				checkInfoNCE(t, b, a, v, batch, features, 0.5, symmetric, lossTol64, gradTol64)
			}
		})
	}
}

// TestGoodnessBeyondRange checks rows whose goodness exceeds the largest
// float32: the device returns it in two factors that the host multiplies in
// float64.
func TestGoodnessBeyondRange(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	x := []float32{1e20, 0, 1, 2e19, 2e19, 2e19, 1e-40, 0, 0}
	want := make([]float64, 3)
	if err := cpu.Goodness(gputest.To64(x), 3, 3, want); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 3)
	if err := b.Goodness32(x, 3, 3, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if r := relative(got[i], want[i]); !(r <= 1e-6) {
			t.Errorf("row %d: goodness %.9g, CPU float64 %.9g", i, got[i], want[i])
		}
	}
}

func toFloat32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func TestInfoNCEInvalidInput(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	x := make([]float32, 6)
	for _, tc := range []struct {
		name            string
		a, v            []float32
		batch, features int
		temperature     float64
		gradA           []float32
	}{
		{"view too short", x[:5], x, 2, 3, 0.5, nil},
		{"negative batch", x, x, -2, -3, 0.5, nil},
		{"gradient too short", x, x, 2, 3, 0.5, make([]float32, 2)},
		{"zero temperature", x, x, 2, 3, 0, nil},
		{"infinite temperature", x, x, 2, 3, math.Inf(1), nil},
		{"NaN temperature", x, x, 2, 3, math.NaN(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.InfoNCE32(tc.a, tc.v, tc.batch, tc.features, tc.temperature, false, tc.gradA, nil)
			if err == nil {
				t.Fatal("got no error")
			}
		})
	}
}

func TestOuterUpdateMatchesCPU(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	const nPost = 33
	for _, batch := range append([]int{0}, testBatches...) {
		for _, nPre := range testFeatures {
			for _, scaled := range []bool{false, true} {
				name := fmt.Sprintf("batch=%d/features=%d/scaled=%v", batch, nPre, scaled)
				t.Run(name+"/float32", func(t *testing.T) {
					checkOuterUpdate[float32](t, b, batch, nPost, nPre, scaled, gradTol32)
				})
				if batch == 129 || batch == 0 {
					t.Run(name+"/float64", func(t *testing.T) {
						if !b.Info().FP64 {
							t.Skipf("%s lacks cl_khr_fp64", b.Device())
						}
						checkOuterUpdate[float64](t, b, batch, nPost, nPre, scaled, gradTol64)
					})
				}
			}
		}
	}
}

func checkOuterUpdate[T float32 | float64](t *testing.T, b *gpu.Backend, batch, nPost, nPre int, scaled bool, tol float64) {
	t.Helper()
	seed := uint64(batch*7 + nPre)
	weights := gputest.Normal[T](seed, nPost*nPre)
	post := gputest.Uniform[T](seed+1, batch*nPost)
	pre := gputest.Uniform[T](seed+2, batch*nPre)
	var scale []T
	if scaled {
		scale = gputest.Normal[T](seed+3, batch)
	}
	alpha, beta := -0.3/float64(max(batch, 1)), 0.999
	want := make([]float64, len(weights))
	var scale64 []float64
	if scaled {
		scale64 = gputest.To64(scale)
	}
	if err := (cpu.Backend{}).OuterUpdate64(gputest.To64(weights), nPost, nPre, gputest.To64(post), gputest.To64(pre), batch, scale64, alpha, beta, want); err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(weights)

	got := make([]T, len(weights))
	if err := outerUpdate(b, weights, nPost, nPre, post, pre, batch, scale, alpha, beta, got); err != nil {
		t.Fatal(err)
	}
	if r := gputest.RelativeError(got, want); r > tol {
		t.Errorf("update: relative error %.3g > %.0e", r, tol)
	}
	if !slices.Equal(weights, before) {
		t.Error("the weights were modified")
	}

	// In place: out is the weights slice itself.
	inPlace := slices.Clone(weights)
	if err := outerUpdate(b, inPlace, nPost, nPre, post, pre, batch, scale, alpha, beta, inPlace); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inPlace, got) {
		t.Error("the in-place update differs from the update into a new slice")
	}
}

func outerUpdate[T float32 | float64](b *gpu.Backend, weights []T, nPost, nPre int, post, pre []T, batch int, scale []T, alpha, beta float64, out []T) error {
	switch w := any(weights).(type) {
	case []float32:
		return b.OuterUpdate32(w, nPost, nPre, any(post).([]float32), any(pre).([]float32), batch, any(scale).([]float32), alpha, beta, any(out).([]float32))
	case []float64:
		return b.OuterUpdate64(w, nPost, nPre, any(post).([]float64), any(pre).([]float64), batch, any(scale).([]float64), alpha, beta, any(out).([]float64))
	}
	panic("unreachable")
}

func TestGoodnessMatchesCPU(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	for _, rows := range testBatches {
		for _, cols := range testFeatures {
			t.Run(fmt.Sprintf("batch=%d/features=%d", rows, cols), func(t *testing.T) {
				x := gputest.Normal[float32](uint64(rows+cols), rows*cols)
				want := make([]float64, rows)
				if err := cpu.Goodness(gputest.To64(x), rows, cols, want); err != nil {
					t.Fatal(err)
				}
				got := make([]float64, rows)
				if err := b.Goodness32(x, rows, cols, got); err != nil {
					t.Fatal(err)
				}
				// A float32 sum of squares, compensated, is within a few
				// units in the last place of each row's goodness.
				for i := range got {
					if r := relative(got[i], want[i]); r > 1e-6 {
						t.Fatalf("row %d: goodness %.9g, CPU float64 %.9g (relative error %.3g > 1e-6)", i, got[i], want[i], r)
					}
				}
				if b.Info().FP64 {
					got64 := make([]float64, rows)
					if err := b.Goodness64(gputest.To64(x), rows, cols, got64); err != nil {
						t.Fatal(err)
					}
					if r := gputest.RelativeError(got64, want); r > 1e-14 {
						t.Errorf("float64 goodness: relative error %.3g > 1e-14", r)
					}
				}
			})
		}
	}
}

func TestBuildFailureCarriesLog(t *testing.T) {
	before := gpu.LiveObjects()
	broken := func(program string) string {
		if program == "infonce" {
			return kernels.InfoNCE + "\n__kernel void broken(void) { this_is_not_c; }\n"
		}
		return kernels.Sources()[program]
	}
	b, err := gpu.Open(gpu.Options{Source: broken})
	if err != nil {
		gputest.NoDevice(t, err)
	}

	a := gputest.Uniform[float32](1, 8*4)
	_, err = b.InfoNCE32(a, a, 8, 4, 0.5, false, nil, nil)
	var buildErr *gpu.BuildError
	if !errors.As(err, &buildErr) {
		t.Fatalf("error %v, want a *gpu.BuildError", err)
	}
	if buildErr.Program != "infonce" {
		t.Errorf("BuildError.Program = %q, want infonce", buildErr.Program)
	}
	if !strings.Contains(buildErr.Log, "this_is_not_c") {
		t.Errorf("build log does not name the undeclared identifier:\n%s", buildErr.Log)
	}
	if !strings.Contains(err.Error(), buildErr.Log) {
		t.Error("the error message does not contain the build log")
	}
	var callErr *gpu.CallError
	if !errors.As(err, &callErr) || callErr.Call != "clBuildProgram" || callErr.Status != -11 {
		t.Errorf("wrapped call error = %v, want clBuildProgram with CL_BUILD_PROGRAM_FAILURE (-11)", callErr)
	}

	// The other programs still build and run.
	got := make([]float64, 8)
	if err := b.Goodness32(a, 8, 4, got); err != nil {
		t.Errorf("goodness after a failed build: %v", err)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if after := gpu.LiveObjects(); after != before {
		t.Errorf("%d OpenCL objects live after Close, %d before Open", after, before)
	}
}

func TestMaxAllocSplitsOrRejects(t *testing.T) {
	// Buffers are capped at 4 KiB, so that 1000 samples of 8 and 16
	// neurons go to the device in 16 pieces of 64 samples.
	const maxAlloc = 4096
	b := gputest.Open(t, gpu.Options{MaxAlloc: maxAlloc})

	t.Run("outer update split", func(t *testing.T) {
		checkOuterUpdate[float32](t, b, 1000, 8, 16, true, gradTol32)
	})
	t.Run("goodness split", func(t *testing.T) {
		const rows, cols = 1000, 100
		x := gputest.Normal[float32](5, rows*cols)
		want := make([]float64, rows)
		if err := cpu.Goodness(gputest.To64(x), rows, cols, want); err != nil {
			t.Fatal(err)
		}
		got := make([]float64, rows)
		if err := b.Goodness32(x, rows, cols, got); err != nil {
			t.Fatal(err)
		}
		if r := gputest.RelativeError(got, want); r > 1e-6 {
			t.Errorf("relative error %.3g > 1e-6", r)
		}
	})
	t.Run("InfoNCE rejected", func(t *testing.T) {
		a := gputest.Normal[float32](6, 100*20)
		_, err := b.InfoNCE32(a, a, 100, 20, 0.5, false, nil, nil)
		if !errors.Is(err, gpu.ErrTooLarge) {
			t.Fatalf("error %v, want gpu.ErrTooLarge", err)
		}
		for _, want := range []string{"CL_DEVICE_MAX_MEM_ALLOC_SIZE", "8000 bytes", "4096 bytes"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
	})
	t.Run("weights rejected", func(t *testing.T) {
		w := make([]float32, 64*64)
		err := b.OuterUpdate32(w, 64, 64, make([]float32, 64), make([]float32, 64), 1, nil, 1, 1, make([]float32, 64*64))
		if !errors.Is(err, gpu.ErrTooLarge) {
			t.Fatalf("error %v, want gpu.ErrTooLarge", err)
		}
	})
}

func TestCloseReleasesEverything(t *testing.T) {
	before := gpu.LiveObjects()
	// Splitting the columns of every InfoNCE call brings in the kernels
	// that merge the splits.
	b, err := gpu.Open(gpu.Options{MinWorkGroups: 1 << 20})
	if err != nil {
		gputest.NoDevice(t, err)
	}

	a := gputest.Uniform[float32](1, 70*9)
	if _, err := b.InfoNCE32(a, a, 70, 9, 0.5, true, make([]float32, 630), make([]float32, 630)); err != nil {
		t.Fatal(err)
	}
	if err := b.OuterUpdate32(a[:9*7], 9, 7, a[:70*9], a[:70*7], 70, a[:70], 1, 1, make([]float32, 63)); err != nil {
		t.Fatal(err)
	}
	if err := b.Goodness32(a, 70, 9, make([]float64, 70)); err != nil {
		t.Fatal(err)
	}

	// A context, a queue, and the three programs with their kernels stay
	// cached. Every buffer is released when its call returns.
	if live := gpu.LiveObjects() - before; live != 2+3+8 {
		t.Errorf("%d OpenCL objects live while open, want 13 (context, queue, 3 programs, 8 kernels)", live)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if after := gpu.LiveObjects(); after != before {
		t.Errorf("%d OpenCL objects live after Close, %d before Open", after, before)
	}
	if _, err := b.InfoNCE32(a, a, 70, 9, 0.5, true, nil, nil); !errors.Is(err, gpu.ErrClosed) {
		t.Errorf("InfoNCE after Close: error %v, want gpu.ErrClosed", err)
	}
}

func TestConcurrentCallsAgree(t *testing.T) {
	b := gputest.Open(t, gpu.Options{})
	const batch, features = 200, 32
	a := gputest.Normal[float32](11, batch*features)
	v := gputest.Normal[float32](12, batch*features)
	want, err := b.InfoNCE32(a, v, batch, features, 0.5, true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantGood := make([]float64, batch)
	if err := b.Goodness32(a, batch, features, wantGood); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			got, err := b.InfoNCE32(a, v, batch, features, 0.5, true, nil, nil)
			if err != nil {
				errs <- err
				return
			}
			if got != want {
				errs <- fmt.Errorf("concurrent loss %.17g, sequential %.17g", got, want)
			}
		})
		wg.Go(func() {
			got := make([]float64, batch)
			if err := b.Goodness32(a, batch, features, got); err != nil {
				errs <- err
				return
			}
			if !slices.Equal(got, wantGood) {
				errs <- errors.New("concurrent goodness differs from sequential goodness")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
