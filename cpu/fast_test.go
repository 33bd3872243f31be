package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/spikessl/spikessl/cblas"
)

func randomViews32(seed uint64, batch, features int) (a, b []float32) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	a = make([]float32, batch*features)
	b = make([]float32, batch*features)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
		b[i] = a[i] + 0.5*float32(rng.NormFloat64())
	}
	return a, b
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func maxDifference[T Float](got []T, want []float64) (diff, scale float64) {
	for i, w := range want {
		diff = max(diff, math.Abs(float64(got[i])-w))
		scale = max(scale, math.Abs(w))
	}
	return diff, scale
}

// withGonumBLAS runs f with gonum's pure-Go BLAS installed, then restores
// the BLAS that was installed before.
func withGonumBLAS(f func()) {
	selectBLAS()
	impl32, impl64 := blas32.Implementation(), blas64.Implementation()
	blas32.Use(gonum.Implementation{})
	blas64.Use(gonum.Implementation{})
	defer func() {
		blas32.Use(impl32)
		blas64.Use(impl64)
	}()
	f()
}

// TestInfoNCEFloat32MatchesFloat64 checks the float32 path, with its vector
// exponential and the system BLAS when one is installed, against the
// float64 path on the same inputs, at sizes spanning several strips and
// tiles with the default tiling.
func TestInfoNCEFloat32MatchesFloat64(t *testing.T) {
	const features = 48
	for _, batch := range []int{2, 67, 300} {
		for _, symmetric := range []bool{false, true} {
			for _, temperature := range []float64{0.05, 0.5} {
				name := fmt.Sprintf("batch=%d/symmetric=%v/temperature=%g", batch, symmetric, temperature)
				t.Run(name, func(t *testing.T) {
					a32, b32 := randomViews32(uint64(batch), batch, features)
					a64, b64 := widen(a32), widen(b32)
					opt := InfoNCEOptions{Temperature: temperature, Symmetric: symmetric, TileRows: 32, TileCols: 64}

					gradA64, gradB64 := make([]float64, len(a64)), make([]float64, len(b64))
					want, err := InfoNCE(a64, b64, batch, features, opt, gradA64, gradB64)
					if err != nil {
						t.Fatal(err)
					}
					gradA32, gradB32 := make([]float32, len(a32)), make([]float32, len(b32))
					got, err := InfoNCE(a32, b32, batch, features, opt, gradA32, gradB32)
					if err != nil {
						t.Fatal(err)
					}
					lossOnly, err := InfoNCE(a32, b32, batch, features, opt, nil, nil)
					if err != nil {
						t.Fatal(err)
					}

					if math.Abs(got-want) > 1e-5*max(1, want) {
						t.Errorf("float32 loss with gradients = %.9g, float64 gives %.9g", got, want)
					}
					if math.Abs(lossOnly-want) > 1e-5*max(1, want) {
						t.Errorf("float32 loss alone = %.9g, float64 gives %.9g", lossOnly, want)
					}
					// float32 rounds each P_ij − δ_ij at the scale of
					// 1/(batch·temperature), so a gradient much smaller than
					// that scale, from a near-certain positive pair, has a
					// rounding error of about 1e-7 of it.
					floor := 1e-7 / (float64(batch) * temperature)
					if diff, scale := maxDifference(gradA32, gradA64); diff > 1e-4*scale+floor {
						t.Errorf("float32 grad_a differs by %.3g, largest magnitude %.3g", diff, scale)
					}
					if diff, scale := maxDifference(gradB32, gradB64); diff > 1e-4*scale+floor {
						t.Errorf("float32 grad_b differs by %.3g, largest magnitude %.3g", diff, scale)
					}
				})
			}
		}
	}
}

// TestInfoNCEOneGradient checks that asking for one gradient gives the same
// values as asking for both.
func TestInfoNCEOneGradient(t *testing.T) {
	const batch, features = 70, 16
	a, b := randomViews32(9, batch, features)
	opt := InfoNCEOptions{Temperature: 0.2, TileRows: 16}
	bothA, bothB := make([]float32, len(a)), make([]float32, len(b))
	wantLoss, err := InfoNCE(a, b, batch, features, opt, bothA, bothB)
	if err != nil {
		t.Fatal(err)
	}
	onlyA, onlyB := make([]float32, len(a)), make([]float32, len(b))
	lossA, err := InfoNCE(a, b, batch, features, opt, onlyA, nil)
	if err != nil {
		t.Fatal(err)
	}
	lossB, err := InfoNCE(a, b, batch, features, opt, nil, onlyB)
	if err != nil {
		t.Fatal(err)
	}
	if lossA != wantLoss || lossB != wantLoss {
		t.Errorf("losses with one gradient %v and %v, with both %v", lossA, lossB, wantLoss)
	}
	for i := range bothA {
		if onlyA[i] != bothA[i] {
			t.Fatalf("grad_a[%d] alone = %v, with grad_b %v", i, onlyA[i], bothA[i])
		}
		if onlyB[i] != bothB[i] {
			t.Fatalf("grad_b[%d] alone = %v, with grad_a %v", i, onlyB[i], bothB[i])
		}
	}
}

// TestInfoNCEGonumMatchesSystemBLAS checks that the system CBLAS and
// gonum's BLAS give the same loss and gradients.
func TestInfoNCEGonumMatchesSystemBLAS(t *testing.T) {
	selectBLAS()
	if !systemBLAS[float32]() {
		t.Skip("no system CBLAS installed")
	}
	const batch, features = 200, 40
	a, b := randomViews32(3, batch, features)
	opt := InfoNCEOptions{Temperature: 0.1, TileRows: 24, TileCols: 80}
	run := func() (float64, []float32, []float32) {
		gradA, gradB := make([]float32, len(a)), make([]float32, len(b))
		loss, err := InfoNCE(a, b, batch, features, opt, gradA, gradB)
		if err != nil {
			t.Fatal(err)
		}
		return loss, gradA, gradB
	}
	wantLoss, wantA, wantB := run()
	var gotLoss float64
	var gotA, gotB []float32
	withGonumBLAS(func() { gotLoss, gotA, gotB = run() })

	if math.Abs(gotLoss-wantLoss) > 1e-6*wantLoss {
		t.Errorf("loss with gonum = %.9g, with %s %.9g", gotLoss, BLASName(), wantLoss)
	}
	if diff, scale := maxDifference(gotA, widen(wantA)); diff > 1e-5*scale {
		t.Errorf("grad_a with gonum differs by %.3g, largest magnitude %.3g", diff, scale)
	}
	if diff, scale := maxDifference(gotB, widen(wantB)); diff > 1e-5*scale {
		t.Errorf("grad_b with gonum differs by %.3g, largest magnitude %.3g", diff, scale)
	}
}

// TestGemmSplitMatchesSerial checks the row split of gemm against one call,
// for both orientations of A.
func TestGemmSplitMatchesSerial(t *testing.T) {
	selectBLAS()
	const m, n, k = 300, 200, 150 // above minParallelGemm
	rng := rand.New(rand.NewPCG(11, 12))
	random := func(size int) []float64 {
		x := make([]float64, size)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		return x
	}
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		t.Run(fmt.Sprintf("tA=%c", tA), func(t *testing.T) {
			lda := k
			if tA == blas.Trans {
				lda = m
			}
			a, b, c := random(m*k), random(k*n), random(m*n)
			want := append([]float64(nil), c...)
			got := append([]float64(nil), c...)
			gemmSerial(tA, blas.NoTrans, m, n, k, 0.5, a, lda, b, n, 2, want, n)
			gemm(tA, blas.NoTrans, m, n, k, 0.5, a, lda, b, n, 2, got, n)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
					t.Fatalf("c[%d] = %v, one call gives %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestBLASNameNamesLibrary(t *testing.T) {
	name := BLASName()
	lib, err := cblas.Install()
	if err != nil {
		if !strings.Contains(name, "gonum") {
			t.Fatalf("BLASName() = %q without a system CBLAS, want gonum", name)
		}
		return
	}
	if !strings.Contains(name, lib.Path()) {
		t.Fatalf("BLASName() = %q, want it to name %s", name, lib.Path())
	}
	withGonumBLAS(func() {
		if got := BLASName(); got != "gonum (pure Go)" {
			t.Errorf("BLASName() with gonum installed = %q", got)
		}
	})
}

// TestInfoNCEWorkerCounts checks a batch large enough for the row-parallel
// normalisation: the loss and grad_a do not depend on the worker count,
// and grad_b, whose sums are split over workers, only by rounding.
func TestInfoNCEWorkerCounts(t *testing.T) {
	const batch, features = 600, 64 // 38400 elements, above minParallelElements
	a, b := randomViews32(21, batch, features)
	run := func(workers int) (float64, []float32, []float32) {
		gradA, gradB := make([]float32, len(a)), make([]float32, len(b))
		opt := InfoNCEOptions{Temperature: 0.2, Workers: workers}
		loss, err := InfoNCE(a, b, batch, features, opt, gradA, gradB)
		if err != nil {
			t.Fatal(err)
		}
		return loss, gradA, gradB
	}
	wantLoss, wantA, wantB := run(1)
	for _, workers := range []int{2, 3} {
		loss, gradA, gradB := run(workers)
		if loss != wantLoss {
			t.Errorf("workers=%d: loss %v, one worker gives %v", workers, loss, wantLoss)
		}
		for i := range wantA {
			if gradA[i] != wantA[i] {
				t.Fatalf("workers=%d: grad_a[%d] = %v, one worker gives %v", workers, i, gradA[i], wantA[i])
			}
		}
		// The workers' partial sums of 600 float32 terms are added in
		// another order: a few units of 6e-8 per term, not a lost term.
		if diff, scale := maxDifference(gradB, widen(wantB)); diff > 1e-5*scale {
			t.Errorf("workers=%d: grad_b differs by %.3g, largest magnitude %.3g", workers, diff, scale)
		}
	}
}
