package cpu

import (
	"iter"
	"math"

	"gonum.org/v1/gonum/blas"
)

// gradientStrips writes into gradU and gradV, unless they are nil, the
// gradients of the loss with respect to the normalised views u and v. It
// visits the similarity matrix one strip of p.tileRows rows × all batch
// columns at a time, so that every row is complete in the strip and each
// strip costs three matrix products:
//
//	S = u_strip·vᵀ / temperature
//	gradU_strip = G·v
//	gradV += Gᵀ·u_strip
//
// where G = dL/ds / temperature. For the row-wise loss
// dL/ds_ij = (P_ij − δ_ij)/batch with P_ij = exp(s_ij − lse_i): the strip
// is overwritten with exp(s_ij − m_i) for a shift m_i, and the row factors
// and the −δ_ij term are applied to the products' small operands and
// results, which saves a pass over the strip.
//
// With lseRow and lseCol both nil, the loss is the row-wise one:
// gradientStrips computes each row's log-sum-exp from the strip and returns
// it with the diagonal logits, read from the same strip. Otherwise the loss
// is the symmetric one, dL/ds_ij = (P_ij + Q_ij − 2δ_ij)/(2·batch) with
// Q_ij = exp(s_ij − lseCol_j), and it returns nil slices.
//
// Each worker holds a strip of p.tileRows × batch logits and, from the
// second worker on, its own batch × features sum of gradV, which is added
// to gradV in worker order.
func gradientStrips[T Float](p *plan, u, v []T, lseRow, lseCol []float64, gradU, gradV []T) (lse, diag []float64) {
	n, f := p.batch, p.features
	symmetric := lseRow != nil
	scale := 1 / (float64(n) * p.temperature)
	var lseCol32 []float32
	if symmetric {
		scale /= 2
		if _, ok := any(u).([]float32); ok {
			lseCol32 = make([]float32, n)
			for j, x := range lseCol {
				lseCol32[j] = float32(x)
			}
		}
	} else {
		lse = make([]float64, n)
		diag = make([]float64, n)
	}

	clear(gradV)
	partial := make([][]T, p.workers)
	if gradV != nil {
		partial[0] = gradV
		for w := 1; w < p.workers; w++ {
			partial[w] = make([]T, n*f)
		}
	}

	runBlocks(p.blocks, p.workers, func(worker int, blocks iter.Seq[int]) {
		strip := make([]T, p.tileRows*n)
		weight := make([]float64, p.tileRows)
		weightedU := make([]T, p.tileRows*f)
		for block := range blocks {
			r0 := block * p.tileRows
			rows := min(p.tileRows, n-r0)
			s := strip[:rows*n]
			gemmSerial(blas.NoTrans, blas.Trans, rows, n, f, 1/p.temperature, u[r0*f:], f, v, f, 0, s, n)

			for r := range rows {
				i := r0 + r
				row := s[r*n : (r+1)*n]
				if symmetric {
					rowExpScalePair(row, lseRow[i], lseCol, lseCol32, scale)
					row[i] -= T(2 * scale)
					continue
				}
				diag[i] = float64(row[i])
				m := p.shift
				if !p.fixedShift {
					m = rowMax(row)
				}
				sum := rowExpStore(row, m)
				lse[i] = m + math.Log(sum)
				weight[r] = scale / sum
			}

			if symmetric {
				// The strip holds G itself.
				if gradU != nil {
					gemmSerial(blas.NoTrans, blas.NoTrans, rows, f, n, 1, s, n, v, f, 0, gradU[r0*f:], f)
				}
				if gradV != nil {
					gemmSerial(blas.Trans, blas.NoTrans, n, f, rows, 1, s, n, u[r0*f:], f, 1, partial[worker], f)
				}
				continue
			}

			// The strip holds E_ij = exp(s_ij − m_i), and G = diag(weight)·E −
			// scale·I, so the row weights and the diagonal are applied to
			// the rows × features operands and results instead of to the
			// rows × batch strip.
			if gradU != nil {
				gemmSerial(blas.NoTrans, blas.NoTrans, rows, f, n, 1, s, n, v, f, 0, gradU[r0*f:], f)
				for r := range rows {
					g := gradU[(r0+r)*f : (r0+r+1)*f]
					vi := v[(r0+r)*f : (r0+r+1)*f]
					for k := range g {
						g[k] = T(weight[r]*float64(g[k]) - scale*float64(vi[k]))
					}
				}
			}
			if gradV != nil {
				for r := range rows {
					ui := u[(r0+r)*f : (r0+r+1)*f]
					for k, x := range ui {
						weightedU[r*f+k] = T(weight[r] * float64(x))
					}
				}
				sum := partial[worker]
				gemmSerial(blas.Trans, blas.NoTrans, n, f, rows, 1, s, n, weightedU, f, 1, sum, f)
				for r := range rows {
					g := sum[(r0+r)*f : (r0+r+1)*f]
					ui := u[(r0+r)*f : (r0+r+1)*f]
					for k := range g {
						g[k] -= T(scale * float64(ui[k]))
					}
				}
			}
		}
	})

	if gradV != nil {
		for _, sum := range partial[1:] {
			for i, x := range sum {
				gradV[i] += x
			}
		}
	}
	return lse, diag
}
