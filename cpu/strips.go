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
// is overwritten with exp(s_ij − m_i) off the diagonal and 0 on it, for a
// shift m_i. The row factors are applied to the products' small operands
// and results, which saves a pass over the strip, and the diagonal term
// P_ii − 1 = expm1(−loss_i) is added to them separately. That term is
// close to 0 when the positive pair dominates its row, and forming it from
// P_ii and 1 would leave only rounding error.
//
// With rows and cols both nil, the loss is the row-wise one:
// gradientStrips computes each row's log-sum-exp and loss from the strip
// and returns them. Otherwise the loss is the symmetric one,
// dL/ds_ij = (P_ij + Q_ij − 2δ_ij)/(2·batch) with Q_ij = exp(s_ij −
// lse_j) over the column j, and it returns no terms.
//
// Each worker holds a strip of p.tileRows × batch logits and, from the
// second worker on, its own batch × features sum of gradV, which is added
// to gradV in worker order.
func gradientStrips[T Float](p *plan, u, v []T, rows, cols *lossTerms, gradU, gradV []T) lossTerms {
	n, f := p.batch, p.features
	symmetric := rows != nil
	scale := 1 / (float64(n) * p.temperature)
	var lseCol32 []float32
	var terms lossTerms
	if symmetric {
		scale /= 2
		if _, ok := any(u).([]float32); ok {
			lseCol32 = make([]float32, n)
			for j, x := range cols.lse {
				lseCol32[j] = float32(x)
			}
		}
	} else {
		terms = lossTerms{lse: make([]float64, n), loss: make([]float64, n)}
	}
	negInf := T(math.Inf(-1))

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
		diagWeight := make([]float64, p.tileRows)
		weightedU := make([]T, p.tileRows*f)
		for block := range blocks {
			r0 := block * p.tileRows
			rowCount := min(p.tileRows, n-r0)
			s := strip[:rowCount*n]
			gemmSerial(blas.NoTrans, blas.Trans, rowCount, n, f, 1/p.temperature, u[r0*f:], f, v, f, 0, s, n)

			for r := range rowCount {
				i := r0 + r
				row := s[r*n : (r+1)*n]
				if symmetric {
					rowExpScalePair(row, rows.lse[i], cols.lse, lseCol32, scale)
					// P_ii + Q_ii − 2 without cancellation.
					row[i] = T(scale * (math.Expm1(-rows.loss[i]) + math.Expm1(-cols.loss[i])))
					continue
				}
				diagLogit := float64(row[i])
				row[i] = negInf
				m := p.shift
				if !p.fixedShift {
					m = rowMax(row) // finite: the batch has two rows or more
				}
				rest := rowExpStore(row, m)
				terms.loss[i] = rowLoss(rest, m, diagLogit)
				terms.lse[i] = diagLogit + terms.loss[i]
				weight[r] = scale * math.Exp(m-terms.lse[i])
				diagWeight[r] = scale * math.Expm1(-terms.loss[i])
			}

			if symmetric {
				// The strip holds G itself.
				if gradU != nil {
					gemmSerial(blas.NoTrans, blas.NoTrans, rowCount, f, n, 1, s, n, v, f, 0, gradU[r0*f:], f)
				}
				if gradV != nil {
					gemmSerial(blas.Trans, blas.NoTrans, n, f, rowCount, 1, s, n, u[r0*f:], f, 1, partial[worker], f)
				}
				continue
			}

			// The strip holds E_ij = exp(s_ij − m_i) with E_ii = 0, and
			// G = diag(weight)·E + diag(diagWeight), so the row weights and
			// the diagonal are applied to the rows × features operands and
			// results instead of to the rows × batch strip.
			if gradU != nil {
				gemmSerial(blas.NoTrans, blas.NoTrans, rowCount, f, n, 1, s, n, v, f, 0, gradU[r0*f:], f)
				for r := range rowCount {
					g := gradU[(r0+r)*f : (r0+r+1)*f]
					vi := v[(r0+r)*f : (r0+r+1)*f]
					for k := range g {
						g[k] = T(weight[r]*float64(g[k]) + diagWeight[r]*float64(vi[k]))
					}
				}
			}
			if gradV != nil {
				for r := range rowCount {
					ui := u[(r0+r)*f : (r0+r+1)*f]
					for k, x := range ui {
						weightedU[r*f+k] = T(weight[r] * float64(x))
					}
				}
				sum := partial[worker]
				gemmSerial(blas.Trans, blas.NoTrans, n, f, rowCount, 1, s, n, weightedU, f, 1, sum, f)
				for r := range rowCount {
					g := sum[(r0+r)*f : (r0+r+1)*f]
					ui := u[(r0+r)*f : (r0+r+1)*f]
					for k := range g {
						g[k] += T(diagWeight[r] * float64(ui[k]))
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
	return terms
}
