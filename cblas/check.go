package cblas

import (
	"math"

	"gonum.org/v1/gonum/blas"
)

// Panic messages, the same as gonum's so that callers see one set of
// messages whichever implementation is installed.
const (
	msgBadTranspose = "blas: illegal transpose"
	msgMLT0         = "blas: m < 0"
	msgNLT0         = "blas: n < 0"
	msgKLT0         = "blas: k < 0"
	msgBadLdA       = "blas: bad leading dimension of A"
	msgBadLdB       = "blas: bad leading dimension of B"
	msgBadLdC       = "blas: bad leading dimension of C"
	msgShortA       = "blas: insufficient length of a"
	msgShortB       = "blas: insufficient length of b"
	msgShortC       = "blas: insufficient length of c"
	msgTooLarge     = "cblas: dimension does not fit in a 32-bit CBLAS int"
)

// checkGemm panics, as gonum's gemm does, when the arguments of a row-major
// gemm are invalid, and returns false when C has no element, so there is
// nothing to compute. The slice lengths are checked before the dimensions
// can be handed to C, which trusts them.
func checkGemm(tA, tB blas.Transpose, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) bool {
	if !validTranspose(tA) || !validTranspose(tB) {
		panic(msgBadTranspose)
	}
	if m < 0 {
		panic(msgMLT0)
	}
	if n < 0 {
		panic(msgNLT0)
	}
	if k < 0 {
		panic(msgKLT0)
	}
	aTrans := tA != blas.NoTrans
	bTrans := tB != blas.NoTrans
	if (aTrans && lda < max(1, m)) || (!aTrans && lda < max(1, k)) {
		panic(msgBadLdA)
	}
	if (bTrans && ldb < max(1, k)) || (!bTrans && ldb < max(1, n)) {
		panic(msgBadLdB)
	}
	if ldc < max(1, n) {
		panic(msgBadLdC)
	}
	if m == 0 || n == 0 {
		return false
	}

	if (aTrans && lenA < (k-1)*lda+m) || (!aTrans && lenA < (m-1)*lda+k) {
		panic(msgShortA)
	}
	if (bTrans && lenB < (n-1)*ldb+k) || (!bTrans && lenB < (k-1)*ldb+n) {
		panic(msgShortB)
	}
	if lenC < (m-1)*ldc+n {
		panic(msgShortC)
	}
	for _, d := range [...]int{m, n, k, lda, ldb, ldc} {
		if d > math.MaxInt32 {
			panic(msgTooLarge)
		}
	}
	return true
}

func validTranspose(t blas.Transpose) bool {
	return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans
}
