package cblas

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// loadOrSkip returns the system library, or skips the test when none is
// installed.
func loadOrSkip(t *testing.T) *Library {
	t.Helper()
	lib, err := Load()
	if errors.Is(err, ErrNotFound) {
		t.Skipf("no system CBLAS: %v", err)
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return lib
}

type gemmCase struct {
	tA, tB           blas.Transpose
	m, n, k          int
	padA, padB, padC int // extra columns beyond the minimum leading dimension
	alpha, beta      float64
}

func gemmCases() []gemmCase {
	var cases []gemmCase
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans} {
			cases = append(cases,
				gemmCase{tA, tB, 7, 5, 3, 0, 0, 0, 1, 0},
				gemmCase{tA, tB, 33, 65, 17, 2, 3, 1, -0.5, 2},
				gemmCase{tA, tB, 1, 1, 1, 0, 0, 0, 2, 1},
				gemmCase{tA, tB, 4, 6, 0, 0, 0, 0, 1, 3},   // k = 0: C = beta·C
				gemmCase{tA, tB, 5, 4, 3, 1, 1, 1, 0, 0.5}, // alpha = 0
			)
		}
	}
	return cases
}

func (c gemmCase) name() string {
	return fmt.Sprintf("tA=%c/tB=%c/m=%d/n=%d/k=%d/alpha=%g/beta=%g", c.tA, c.tB, c.m, c.n, c.k, c.alpha, c.beta)
}

// operand returns the leading dimension and length of a row-major operand
// that op() turns into a rows × cols matrix, with pad extra columns.
func operand(t blas.Transpose, rows, cols, pad int) (ld, length int) {
	if t != blas.NoTrans {
		rows, cols = cols, rows
	}
	ld = max(1, cols) + pad
	return ld, rows * ld
}

func randomSlice(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

func TestDgemmMatchesGonum(t *testing.T) {
	impl := loadOrSkip(t).Float64()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range gemmCases() {
		t.Run(c.name(), func(t *testing.T) {
			lda, lenA := operand(c.tA, c.m, c.k, c.padA)
			ldb, lenB := operand(c.tB, c.k, c.n, c.padB)
			ldc := c.n + c.padC
			a, b := randomSlice(rng, lenA), randomSlice(rng, lenB)
			want := randomSlice(rng, c.m*ldc)
			got := append([]float64(nil), want...)

			gonum.Implementation{}.Dgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, want, ldc)
			impl.Dgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, got, ldc)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
					t.Fatalf("c[%d] = %v, gonum gives %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestSgemmMatchesGonum(t *testing.T) {
	impl := loadOrSkip(t).Float32()
	rng := rand.New(rand.NewPCG(3, 4))
	toFloat32 := func(x []float64) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	for _, c := range gemmCases() {
		t.Run(c.name(), func(t *testing.T) {
			lda, lenA := operand(c.tA, c.m, c.k, c.padA)
			ldb, lenB := operand(c.tB, c.k, c.n, c.padB)
			ldc := c.n + c.padC
			a, b := toFloat32(randomSlice(rng, lenA)), toFloat32(randomSlice(rng, lenB))
			want := toFloat32(randomSlice(rng, c.m*ldc))
			got := append([]float32(nil), want...)

			gonum.Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, float32(c.alpha), a, lda, b, ldb, float32(c.beta), want, ldc)
			impl.Sgemm(c.tA, c.tB, c.m, c.n, c.k, float32(c.alpha), a, lda, b, ldb, float32(c.beta), got, ldc)
			tolerance := 1e-5 * float64(max(c.k, 1))
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > tolerance*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("c[%d] = %v, gonum gives %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestGemmInvalidArguments checks that invalid arguments panic in Go, with
// gonum's message, instead of reaching C.
func TestGemmInvalidArguments(t *testing.T) {
	impl := loadOrSkip(t).Float32()
	a := make([]float32, 12) // 3 × 4
	b := make([]float32, 20) // 4 × 5
	c := make([]float32, 15) // 3 × 5
	cases := []struct {
		name    string
		call    func()
		message string
	}{
		{"bad transpose", func() { impl.Sgemm('x', blas.NoTrans, 3, 5, 4, 1, a, 4, b, 5, 0, c, 5) }, msgBadTranspose},
		{"negative m", func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, -1, 5, 4, 1, a, 4, b, 5, 0, c, 5) }, msgMLT0},
		{"negative k", func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 3, 5, -4, 1, a, 4, b, 5, 0, c, 5) }, msgKLT0},
		{"lda below k", func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 3, 5, 4, 1, a, 3, b, 5, 0, c, 5) }, msgBadLdA},
		{"ldb below n", func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 3, 5, 4, 1, a, 4, b, 4, 0, c, 5) }, msgBadLdB},
		{"ldc below n", func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 3, 5, 4, 1, a, 4, b, 5, 0, c, 4) }, msgBadLdC},
		{"large lda short a", func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 3, 5, 4, 1, a, 400, b, 5, 0, c, 5) }, msgShortA},
		{"short b", func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 3, 5, 4, 1, a, 4, b[:19], 5, 0, c, 5) }, msgShortB},
		{"short c", func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 3, 5, 4, 1, a, 4, b, 5, 0, c[:14], 5) }, msgShortC},
		{"transposed short a", func() { impl.Sgemm(blas.Trans, blas.NoTrans, 4, 5, 3, 1, a[:11], 4, b, 5, 0, make([]float32, 20), 5) }, msgShortA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("no panic, want %q", tc.message)
				}
				if r != tc.message {
					t.Fatalf("panic %v, want %q", r, tc.message)
				}
			}()
			tc.call()
		})
	}
}

func TestDgemmInvalidLeadingDimension(t *testing.T) {
	impl := loadOrSkip(t).Float64()
	defer func() {
		if r := recover(); r != msgBadLdA {
			t.Fatalf("panic %v, want %q", r, msgBadLdA)
		}
	}()
	impl.Dgemm(blas.Trans, blas.NoTrans, 3, 3, 3, 1, make([]float64, 9), 2, make([]float64, 9), 3, 0, make([]float64, 9), 3)
}

func TestLoadEnvironment(t *testing.T) {
	t.Run("gonum", func(t *testing.T) {
		t.Setenv(EnvVar, "gonum")
		if _, err := Load(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load with %s=gonum: error %v, want ErrNotFound", EnvVar, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		path := t.TempDir() + "/libmissing.so"
		t.Setenv(EnvVar, path)
		_, err := Load()
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load of a missing file: error %v, want ErrNotFound", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("error %q does not name %s", err, path)
		}
	})
}

func TestLibraryThreads(t *testing.T) {
	lib := loadOrSkip(t)
	if lib.getThreads == nil {
		t.Skipf("%s has no thread pool control", lib.Path())
	}
	if got := lib.Threads(); got != 1 {
		t.Fatalf("Threads after Load = %d, want 1", got)
	}
	if err := lib.SetThreads(0); err == nil {
		t.Fatal("SetThreads(0) returned no error")
	}
	if err := lib.SetThreads(2); err != nil {
		t.Fatalf("SetThreads(2): %v", err)
	}
	defer lib.SetThreads(1)
	if got := lib.Threads(); got != 2 {
		t.Fatalf("Threads after SetThreads(2) = %d, want 2", got)
	}
	if s := lib.String(); !strings.Contains(s, lib.Path()) || !strings.Contains(s, "2 threads") {
		t.Fatalf("String() = %q, want the path and thread count", s)
	}
}

func TestLoadRestoresEnvironment(t *testing.T) {
	_, coreSet := os.LookupEnv(CoreTypeEnvVar)
	_, threadsSet := os.LookupEnv(threadsEnvVar)
	lib := loadOrSkip(t)
	if _, ok := os.LookupEnv(CoreTypeEnvVar); ok != coreSet {
		t.Errorf("%s set = %v after Load, %v before", CoreTypeEnvVar, ok, coreSet)
	}
	if _, ok := os.LookupEnv(threadsEnvVar); ok != threadsSet {
		t.Errorf("%s set = %v after Load, %v before", threadsEnvVar, ok, threadsSet)
	}
	if !coreSet && lib.CoreType() != coreType() {
		t.Errorf("CoreType() = %q, want %q chosen from the CPU's features", lib.CoreType(), coreType())
	}
}
