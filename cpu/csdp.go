package cpu

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
)

// OuterUpdate writes into out the (nPost, nPre) matrix
//
//	out = beta·weights + alpha · Σ_s scale_s · post_sᵀ ⊗ pre_s
//
// where post is (batch, nPost), pre is (batch, nPre) and s runs over the
// batch. A nil scale means scale_s = 1. out may be the same slice as
// weights. Every CSDP update is this product: the plain rule with
// alpha = ±lr/batch, beta = 1 − decay or 1, and the goodness-modulated rule
// with per-sample scales.
func OuterUpdate[T Float](weights []T, nPost, nPre int, post, pre []T, batch int, scale []T, alpha, beta float64, out []T) error {
	if len(weights) != nPost*nPre || len(out) != nPost*nPre {
		return fmt.Errorf("%w: weights of %d and output of %d elements for shape (%d, %d)", ErrDimension, len(weights), len(out), nPost, nPre)
	}
	if len(post) != batch*nPost || len(pre) != batch*nPre {
		return fmt.Errorf("%w: post of %d and pre of %d elements for batch %d, (%d, %d)", ErrDimension, len(post), len(pre), batch, nPost, nPre)
	}
	if scale != nil && len(scale) != batch {
		return fmt.Errorf("%w: %d scales for batch %d", ErrDimension, len(scale), batch)
	}

	if &out[0] != &weights[0] {
		copy(out, weights)
	}
	if scale != nil {
		scaled := make([]T, len(post))
		for s := range batch {
			for j := range nPost {
				scaled[s*nPost+j] = post[s*nPost+j] * scale[s]
			}
		}
		post = scaled
	}
	if batch == 0 {
		for i := range out {
			out[i] = T(beta * float64(out[i]))
		}
		return nil
	}
	gemm(blas.Trans, blas.NoTrans, nPost, nPre, batch, alpha, post, nPost, pre, nPre, beta, out, nPre)
	return nil
}

// Goodness writes into out the goodness Σ_j x_ij² of each row of the
// (rows, cols) matrix x, accumulated in float64.
func Goodness[T Float](x []T, rows, cols int, out []float64) error {
	if len(x) != rows*cols || len(out) != rows {
		return fmt.Errorf("%w: %d elements and %d outputs for shape (%d, %d)", ErrDimension, len(x), len(out), rows, cols)
	}
	for i := range rows {
		row := x[i*cols : (i+1)*cols]
		out[i] = dot(row, row)
	}
	return nil
}
