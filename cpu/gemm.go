package cpu

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/spikessl/spikessl/cblas"
)

// Float is the element type of the matrices this package works on.
type Float interface {
	float32 | float64
}

// selectBLAS installs a system CBLAS library with cblas.Install the first
// time this package multiplies matrices or reports its BLAS, unless a
// caller has installed a BLAS other than gonum's already. Without a system
// library, or with SPIKESSL_BLAS=gonum, gonum's pure-Go BLAS stays.
var selectBLAS = sync.OnceFunc(func() {
	_, gonum32 := blas32.Implementation().(gonum.Implementation)
	_, gonum64 := blas64.Implementation().(gonum.Implementation)
	if gonum32 && gonum64 {
		// The error means that gonum's BLAS stays installed. BLASName
		// reports it when the user named a library that did not load.
		_, blasErr = cblas.Install()
	}
})

// blasErr is the error of loading a system CBLAS, set by selectBLAS.
var blasErr error

// gemmSerial computes C = alpha·op(A)·op(B) + beta·C with the BLAS
// installed in gonum's blas32 or blas64 package, chosen by the element
// type, on the calling goroutine. A system CBLAS runs single-threaded, so
// callers spread independent products over goroutines.
func gemmSerial[T Float](tA, tB blas.Transpose, m, n, k int, alpha float64, a []T, lda int, b []T, ldb int, beta float64, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	selectBLAS()
	switch a := any(a).(type) {
	case []float64:
		blas64.Implementation().Dgemm(tA, tB, m, n, k, alpha, a, lda, any(b).([]float64), ldb, beta, any(c).([]float64), ldc)
	case []float32:
		blas32.Implementation().Sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	}
}

// columnSums writes into sums[:cols] the sum of each column of the rows ×
// cols row-major matrix a, as the product aᵀ·ones[:rows], with the BLAS
// installed for T.
func columnSums[T Float](rows, cols int, a, ones, sums []T) {
	if rows == 0 || cols == 0 {
		return
	}
	selectBLAS()
	switch a := any(a).(type) {
	case []float64:
		blas64.Implementation().Dgemv(blas.Trans, rows, cols, 1, a, cols, any(ones).([]float64), 1, 0, any(sums).([]float64), 1)
	case []float32:
		blas32.Implementation().Sgemv(blas.Trans, rows, cols, 1, a, cols, any(ones).([]float32), 1, 0, any(sums).([]float32), 1)
	}
}

// minParallelGemm is the smallest product, in multiply-adds, that
// gemm splits over goroutines: about 0.1 ms of work on one core.
const minParallelGemm = 1 << 22

// gemm is gemmSerial for a single large product: when the installed BLAS
// is a single-threaded system library, it splits the rows of C into one
// contiguous block per GOMAXPROCS and multiplies the blocks on separate
// goroutines. gonum's BLAS parallelises by itself and is called directly.
// The split depends only on m and GOMAXPROCS, so results are repeatable.
func gemm[T Float](tA, tB blas.Transpose, m, n, k int, alpha float64, a []T, lda int, b []T, ldb int, beta float64, c []T, ldc int) {
	selectBLAS()
	workers := min(runtime.GOMAXPROCS(0), m/16)
	if !systemBLAS[T]() || workers < 2 || int64(m)*int64(n)*int64(k) < minParallelGemm {
		gemmSerial(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		r0, r1 := w*m/workers, (w+1)*m/workers
		// Rows r0 to r1 of op(A): rows of A, or columns of A when it is
		// transposed.
		offset := r0 * lda
		if tA != blas.NoTrans {
			offset = r0
		}
		wg.Go(func() {
			gemmSerial(tA, tB, r1-r0, n, k, alpha, a[offset:], lda, b, ldb, beta, c[r0*ldc:], ldc)
		})
	}
	wg.Wait()
}

// systemBLAS reports whether the BLAS installed for T is a system CBLAS
// library.
func systemBLAS[T Float]() bool {
	var zero T
	if _, ok := any(zero).(float64); ok {
		_, ok := blas64.Implementation().(cblas.Implementation)
		return ok
	}
	_, ok := blas32.Implementation().(cblas.Implementation)
	return ok
}
