package cpu

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"runtime"
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

// NormEpsilon is the lower clamp on a row's L2 norm: a row is divided by
// max(‖row‖, NormEpsilon), so an all-zero row becomes a zero vector.
const NormEpsilon = 1e-8

// Default tile sizes of the similarity matrix. A tile of TileRows × TileCols
// logits is computed by one matrix product and consumed while it is in cache.
// With OpenBLAS 0.3.21's SkylakeX kernels on one core, a 256 × 512 × 128
// float32 product runs at about 130 GFLOP/s and a 64 × 512 × 128 one at
// about 70 (BenchmarkSgemm in package cblas shows the same pattern).
const (
	DefaultTileRows = 256
	DefaultTileCols = 512
)

// maxStripBytes caps the strip of TileRows × batch logits that each worker
// holds for the gradients, when TileRows is left at zero, so that memory
// stays linear in the batch: at batch 65536 in float32 a strip has 64 rows.
const maxStripBytes = 16 << 20

// minStripRows is the fewest rows the cap leaves in a strip, below which
// the strip's products lose most of their speed.
const minStripRows = 32

// InfoNCEOptions configures InfoNCE.
type InfoNCEOptions struct {
	// Temperature divides the cosine similarities. It must be finite and > 0.
	Temperature float64

	// Symmetric averages the row-wise loss (view a against all of view b)
	// and the column-wise loss (view b against all of view a).
	Symmetric bool

	// TileRows and TileCols set the tile of the similarity matrix that is
	// held at once. Zero selects DefaultTileRows and DefaultTileCols. The
	// loss alone is computed in tiles of TileRows × TileCols logits. With
	// gradients, each worker holds a strip of TileRows × batch logits so
	// that a whole row is at hand, and only the symmetric loss uses
	// TileCols.
	TileRows, TileCols int

	// Workers is the number of goroutines. Zero selects GOMAXPROCS, or one
	// when batch² × features is below 2²⁵ multiply-adds.
	Workers int
}

// ErrDimension is returned when a slice's length does not match the
// dimensions passed with it.
var ErrDimension = errors.New("cpu: slice length does not match dimensions")

// InfoNCE returns the InfoNCE loss of the views a and b, each of shape
// (batch, features), and writes the gradients of the loss with respect to
// a and b into gradA and gradB when they are not nil.
//
// Rows are L2-normalised (norm clamped at NormEpsilon), the logits are
// s_ij = u_i·v_j / temperature, and the loss is the mean over rows of
// logsumexp_j(s_ij) − s_ii, computed exactly. With opt.Symmetric the loss is
// the mean of that and the same quantity over columns. A batch of fewer than
// two rows has loss 0 and zero gradients.
//
// The loss alone costs one batch × batch × features matrix product. With
// gradients it costs three, computed strip by strip. opt.Symmetric needs
// every column's log-sum-exp first: one more product with gradients, or,
// when 1/temperature > 40, one more for the loss and two more with
// gradients (see maxFixedShift). float32
// exponentials use a vector kernel with a relative error of at most 1.1e-7
// (see exp.go), and float64 ones a kernel within one unit in the last place
// of math.Exp (see exp64.go).
//
// The result depends only on the inputs, opt, the worker count and the
// installed BLAS: blocks of rows are assigned to workers statically and
// partial sums are reduced in a fixed order, so repeated calls give
// bit-identical results.
func InfoNCE[T Float](a, b []T, batch, features int, opt InfoNCEOptions, gradA, gradB []T) (float64, error) {
	n := batch * features
	if batch < 0 || features < 0 || len(a) != n || len(b) != n {
		return 0, fmt.Errorf("%w: views of %d and %d elements for shape (%d, %d)", ErrDimension, len(a), len(b), batch, features)
	}
	if (gradA != nil && len(gradA) != n) || (gradB != nil && len(gradB) != n) {
		return 0, fmt.Errorf("%w: gradients of %d and %d elements for shape (%d, %d)", ErrDimension, len(gradA), len(gradB), batch, features)
	}
	if !(opt.Temperature > 0) || math.IsInf(opt.Temperature, 1) {
		return 0, fmt.Errorf("cpu: temperature %v is invalid: must be finite and > 0", opt.Temperature)
	}
	if batch < 2 || features == 0 {
		clear(gradA)
		clear(gradB)
		return 0, nil
	}

	p := newPlan(batch, features, opt, int(unsafe.Sizeof(a[0])), gradA != nil || gradB != nil)
	u, normA := normalizeRows(a, batch, features, p.workers)
	v, normB := normalizeRows(b, batch, features, p.workers)

	var rows, cols lossTerms
	switch {
	case opt.Symmetric && p.fixedShift:
		rows, cols = rowLogSumExp(&p, u, v, true)
	case opt.Symmetric:
		rows, _ = rowLogSumExp(&p, u, v, false)
		cols, _ = rowLogSumExp(&p, v, u, false)
	case gradA == nil && gradB == nil:
		rows, _ = rowLogSumExp(&p, u, v, false)
		return mean(rows.loss), nil
	}
	if gradA == nil && gradB == nil {
		return 0.5*mean(rows.loss) + 0.5*mean(cols.loss), nil
	}

	// The gradients with respect to the normalised views are accumulated
	// in gradA and gradB, then mapped through the normalisation in place.
	var loss float64
	if opt.Symmetric {
		loss = 0.5*mean(rows.loss) + 0.5*mean(cols.loss)
		gradientStrips(&p, u, v, &rows, &cols, gradA, gradB)
	} else {
		rows := gradientStrips(&p, u, v, nil, nil, gradA, gradB)
		loss = mean(rows.loss)
	}
	if gradA != nil {
		normalizeBackward(gradA, gradA, u, normA, features, p.workers)
	}
	if gradB != nil {
		normalizeBackward(gradB, gradB, v, normB, features, p.workers)
	}
	return loss, nil
}

// lossTerms holds, for each row of the logits (or each column, for the
// column-wise half of the symmetric loss), its log-sum-exp lse_i and its
// loss lse_i − s_ii.
type lossTerms struct {
	lse, loss []float64
}

// rowLoss returns the loss lse − s_ii of a row from the sum rest of
// exp(s_ij − shift) over its columns j ≠ i, and its diagonal logit s_ii:
//
//	lse − s_ii = log(1 + rest·exp(shift − s_ii)) = softplus(log(rest) + shift − s_ii)
//
// When the positive pair dominates the row, the loss is far below lse and
// s_ii, and forming it as their difference would leave only rounding
// error. Here rest, a sum of small terms, carries its own relative
// precision into the loss instead. The result is never negative.
func rowLoss(rest, shift, diag float64) float64 {
	x := math.Log(rest) + shift - diag
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// mean returns the mean of x, dividing each term first so that the sum
// of losses near the largest float64 does not overflow.
func mean(x []float64) float64 {
	n := float64(len(x))
	var sum float64
	for _, v := range x {
		sum += v / n
	}
	return sum
}

// plan holds the tiling of one InfoNCE call.
type plan struct {
	batch, features    int
	temperature        float64
	tileRows, tileCols int
	workers, blocks    int

	// fixedShift is true when every row's exponentials are taken relative
	// to shift instead of the row's maximum. shift is the bound
	// 1/temperature on the logits, rounded to float32 (see maxFixedShift).
	fixedShift bool
	shift      float64
}

// maxFixedShift is the largest 1/temperature for which rows skip the pass
// that finds their maximum. Rows are normalised, so every logit lies in
// [−1/temperature, 1/temperature] up to rounding. Then
// exp(s − 1/temperature) ≥ e^−80 ≈ 1.8e-35 stays a normal number, in
// float32 too, with full relative precision, and the sum of a row loses
// nothing to the shift. In float64, the log-sum-exp then carries an
// absolute rounding error of at most about 80 ulp(1) ≈ 2e-14 instead of
// about ulp(lse).
const maxFixedShift = 40

// minParallelWork is the size of the similarity product, in multiply-adds,
// below which InfoNCE runs on one goroutine when opt.Workers is zero.
// Waking a second core and splitting the sums costs more than it saves
// there. At batch 256 and 512 × 128 features, one worker took 0.45 and
// 1.25 ms for the loss against 0.52 and 1.34 ms for two. With gradients it
// took 1.16 and 3.11 ms against 1.56 and 3.38 ms. These are hot calls on a
// 2-core AMD EPYC, so the threshold is an estimate for other machines.
const minParallelWork = 1 << 25

// newPlan returns the tiling of an InfoNCE call on elements of elemSize
// bytes. With the default TileRows, the row blocks are made small enough
// that every worker gets one, and, for the gradients, that a strip stays
// within maxStripBytes.
func newPlan(batch, features int, opt InfoNCEOptions, elemSize int, gradients bool) plan {
	p := plan{
		batch:       batch,
		features:    features,
		temperature: opt.Temperature,
		tileRows:    opt.TileRows,
		tileCols:    opt.TileCols,
		workers:     opt.Workers,
	}
	if p.workers <= 0 {
		p.workers = runtime.GOMAXPROCS(0)
		if int64(batch)*int64(batch)*int64(features) < minParallelWork {
			p.workers = 1
		}
	}
	if p.tileRows <= 0 {
		p.tileRows = min(DefaultTileRows, (batch+p.workers-1)/p.workers)
		if gradients {
			p.tileRows = min(p.tileRows, max(minStripRows, maxStripBytes/(batch*elemSize)))
		}
	}
	if p.tileCols <= 0 {
		p.tileCols = DefaultTileCols
	}
	p.tileRows = min(p.tileRows, batch)
	p.tileCols = min(p.tileCols, batch)
	if 1/p.temperature <= maxFixedShift {
		p.fixedShift = true
		p.shift = float64(float32(1 / p.temperature))
	}
	p.blocks = (batch + p.tileRows - 1) / p.tileRows
	p.workers = max(1, min(p.workers, p.blocks))
	return p
}

// similarityTile writes the logits of rows [r0, r0+rows) of x against rows
// [c0, c0+cols) of y into tile, as a rows × cols row-major matrix.
func similarityTile[T Float](p *plan, x, y []T, r0, rows, c0, cols int, tile []T) {
	f := p.features
	gemmSerial(blas.NoTrans, blas.Trans, rows, cols, f, 1/p.temperature, x[r0*f:], f, y[c0*f:], f, 0, tile, cols)
}

// rowLogSumExp returns the log-sum-exp and the loss of every row i of the
// logits x_i·y_j / temperature, visiting them one tile at a time with an
// online log-sum-exp. Each row's diagonal logit is read from its tile and
// left out of the row's sum, which rowLoss then turns into the loss
// without cancellation.
//
// With columns set, which requires p.fixedShift, it also returns the
// log-sum-exp and the loss of every column j, over the rows i, from the
// same tiles. Every exponential is taken relative to the one shift, so
// each tile's exponentials add to its rows' sums and to its columns' sums
// alike, and the symmetric loss costs one matrix product instead of two.
// Each worker keeps its own column sums, which are added in worker order.
func rowLogSumExp[T Float](p *plan, x, y []T, columns bool) (rows, cols lossTerms) {
	diag := make([]float64, p.batch)
	rows = lossTerms{lse: make([]float64, p.batch), loss: make([]float64, p.batch)}
	var colSums [][]float64
	if columns {
		colSums = make([][]float64, p.workers)
	}
	negInf := T(math.Inf(-1))
	runBlocks(p.blocks, p.workers, func(worker int, blocks iter.Seq[int]) {
		tile := make([]T, p.tileRows*p.tileCols)
		maxLogit := make([]float64, p.tileRows)
		sumExp := make([]float64, p.tileRows)
		var colSum []float64
		var ones, colTile []T
		if columns {
			colSum = make([]float64, p.batch)
			colSums[worker] = colSum
			ones = make([]T, p.tileRows)
			for r := range ones {
				ones[r] = 1
			}
			colTile = make([]T, p.tileCols)
		}
		for block := range blocks {
			r0 := block * p.tileRows
			rowCount := min(p.tileRows, p.batch-r0)
			for r := range rowCount {
				maxLogit[r] = math.Inf(-1)
				if p.fixedShift {
					maxLogit[r] = p.shift
				}
				sumExp[r] = 0
			}
			for c0 := 0; c0 < p.batch; c0 += p.tileCols {
				colCount := min(p.tileCols, p.batch-c0)
				similarityTile(p, x, y, r0, rowCount, c0, colCount, tile)
				for r := range rowCount {
					row := tile[r*colCount : (r+1)*colCount]
					if d := r0 + r - c0; d >= 0 && d < colCount {
						// exp(−Inf) = 0 leaves the diagonal out of
						// the row's and the column's sums.
						diag[r0+r] = float64(row[d])
						row[d] = negInf
					}
					if columns {
						sumExp[r] += rowExpStore(row, p.shift)
						continue
					}
					if p.fixedShift {
						sumExp[r] += rowExpSum(row, p.shift)
						continue
					}
					m := rowMax(row)
					if math.IsInf(m, -1) {
						continue // only the diagonal: nothing to add
					}
					if m > maxLogit[r] {
						// Rescale the running sum to the new maximum.
						sumExp[r] *= math.Exp(maxLogit[r] - m)
						maxLogit[r] = m
					}
					sumExp[r] += rowExpSum(row, maxLogit[r])
				}
				if columns {
					columnSums(rowCount, colCount, tile, ones, colTile)
					for j, e := range colTile[:colCount] {
						colSum[c0+j] += float64(e)
					}
				}
			}
			for r := range rowCount {
				i := r0 + r
				rows.loss[i] = rowLoss(sumExp[r], maxLogit[r], diag[i])
				rows.lse[i] = diag[i] + rows.loss[i]
			}
		}
	})
	if columns {
		cols = lossTerms{lse: colSums[0], loss: make([]float64, p.batch)}
		for _, sum := range colSums[1:] {
			for j, x := range sum {
				cols.lse[j] += x
			}
		}
		for j, rest := range cols.lse {
			cols.loss[j] = rowLoss(rest, p.shift, diag[j])
			cols.lse[j] = diag[j] + cols.loss[j]
		}
	}
	return rows, cols
}

// rowNorm is the Euclidean norm of a row in two factors, scale·root: the
// norm itself exceeds the largest float64 for rows near it.
type rowNorm struct {
	scale, root float64
}

// value returns scale·root, +Inf where that exceeds the float64 range.
func (n rowNorm) value() float64 { return n.scale * n.root }

// normalizeRows returns x with each row divided by max(‖row‖, NormEpsilon),
// and the unclamped norms.
func normalizeRows[T Float](x []T, rows, cols, workers int) (u []T, norms []rowNorm) {
	u = make([]T, len(x))
	norms = make([]rowNorm, rows)
	forRowRanges(rows, cols, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := x[i*cols : (i+1)*cols]
			n := l2Norm(row)
			norms[i] = n
			out := u[i*cols : (i+1)*cols]
			if norm := n.value(); !math.IsInf(norm, 1) {
				inv := 1 / max(norm, NormEpsilon)
				for j, value := range row {
					out[j] = T(float64(value) * inv)
				}
				continue
			}
			for j, value := range row {
				out[j] = T(float64(value) / n.scale / n.root)
			}
		}
	})
	return u, norms
}

// normalizeBackward writes into grad the gradient with respect to the raw
// rows, given the gradient gradU with respect to the normalised rows u.
// For ‖x‖ > NormEpsilon, d(x/‖x‖)/dx = (I − u·uᵀ)/‖x‖; where the norm is
// clamped, u = x/NormEpsilon and the Jacobian is I/NormEpsilon.
func normalizeBackward[T Float](grad, gradU, u []T, norms []rowNorm, cols, workers int) {
	forRowRanges(len(norms), cols, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			n := norms[i]
			norm := n.value()
			g := gradU[i*cols : (i+1)*cols]
			out := grad[i*cols : (i+1)*cols]
			if norm <= NormEpsilon {
				for j, x := range g {
					out[j] = T(float64(x) / NormEpsilon)
				}
				continue
			}
			ui := u[i*cols : (i+1)*cols]
			proj := dot(ui, g)
			if math.IsInf(norm, 1) {
				for j, x := range g {
					out[j] = T((float64(x) - float64(ui[j])*proj) / n.scale / n.root)
				}
				continue
			}
			for j, x := range g {
				out[j] = T((float64(x) - float64(ui[j])*proj) / norm)
			}
		}
	})
}

// l2Norm returns the Euclidean norm of x as scale·root without overflow or
// underflow for any finite x. float64 rows are scaled by their largest
// magnitude. float32 squares are summed in float64, whose range holds the
// square of any float32, so their scale is 1.
func l2Norm[T Float](x []T) rowNorm {
	if x64, ok := any(x).([]float64); ok {
		var scale float64
		for _, v := range x64 {
			scale = max(scale, math.Abs(v))
		}
		if scale == 0 {
			return rowNorm{}
		}
		var sum float64
		for _, v := range x64 {
			sum += (v / scale) * (v / scale)
		}
		return rowNorm{scale: scale, root: math.Sqrt(sum)}
	}
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return rowNorm{scale: 1, root: math.Sqrt(sum)}
}

// dot returns Σ x_i·y_i accumulated in float64.
func dot[T Float](x, y []T) float64 {
	var sum float64
	for i, v := range x {
		sum += float64(v) * float64(y[i])
	}
	return sum
}
