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

	// Workers is the number of goroutines. Zero selects GOMAXPROCS.
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

	var lseRow, diagRow, lseCol, diagCol []float64
	switch {
	case opt.Symmetric && p.fixedShift:
		lseRow, diagRow, lseCol = rowLogSumExp(&p, u, v, true)
		diagCol = diagRow
	case opt.Symmetric:
		lseRow, diagRow, _ = rowLogSumExp(&p, u, v, false)
		lseCol, diagCol, _ = rowLogSumExp(&p, v, u, false)
	case gradA == nil && gradB == nil:
		lseRow, diagRow, _ = rowLogSumExp(&p, u, v, false)
		return meanRowLoss(lseRow, diagRow), nil
	}
	if gradA == nil && gradB == nil {
		return 0.5 * (meanRowLoss(lseRow, diagRow) + meanRowLoss(lseCol, diagCol)), nil
	}

	// The gradients with respect to the normalised views are accumulated
	// in gradA and gradB, then mapped through the normalisation in place.
	var loss float64
	if opt.Symmetric {
		loss = 0.5 * (meanRowLoss(lseRow, diagRow) + meanRowLoss(lseCol, diagCol))
		gradientStrips(&p, u, v, lseRow, lseCol, gradA, gradB)
	} else {
		lseRow, diagRow := gradientStrips(&p, u, v, nil, nil, gradA, gradB)
		loss = meanRowLoss(lseRow, diagRow)
	}
	if gradA != nil {
		normalizeBackward(gradA, gradA, u, normA, features, p.workers)
	}
	if gradB != nil {
		normalizeBackward(gradB, gradB, v, normB, features, p.workers)
	}
	return loss, nil
}

// meanRowLoss returns the mean over rows of lse_i − diag_i. A row's exact
// loss is positive, because lse_i ≥ diag_i + log(1 + Σ_{j≠i} exp(s_ij −
// s_ii)), so a difference that rounding leaves below zero counts as zero.
func meanRowLoss(lse, diag []float64) float64 {
	var sum float64
	for i := range lse {
		sum += max(lse[i]-diag[i], 0)
	}
	return sum / float64(len(lse))
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
// [−1/temperature, 1/temperature] up to rounding, and
// exp(s − 1/temperature) ≥ e^−80 ≈ 1.8e-35 stays a normal number, in
// float32 too, with full relative precision: the sum of a row loses
// nothing to the shift. In float64, the log-sum-exp then carries an
// absolute rounding error of at most about 80 ulp(1) ≈ 2e-14 instead of
// about ulp(lse).
const maxFixedShift = 40

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

// rowLogSumExp returns logsumexp_j(x_i·y_j / temperature) for every row i
// of x, visiting the logits one tile at a time with an online log-sum-exp,
// and the diagonal logits x_i·y_i / temperature. The diagonal is read from
// the same tiles, so lse_i ≥ diag_i holds after rounding too and no row's
// loss is negative.
//
// With columns set, which requires p.fixedShift, it also returns
// logsumexp_i(x_i·y_j / temperature) for every column j, from the same
// tiles: every exponential is taken relative to the one shift, so each
// tile's exponentials add to its rows' sums and to its columns' sums
// alike, and the symmetric loss costs one matrix product instead of two.
// Each worker keeps its own column sums, which are added in worker order.
func rowLogSumExp[T Float](p *plan, x, y []T, columns bool) (lse, diag, lseCol []float64) {
	lse = make([]float64, p.batch)
	diag = make([]float64, p.batch)
	var colSums [][]float64
	if columns {
		colSums = make([][]float64, p.workers)
	}
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
			rows := min(p.tileRows, p.batch-r0)
			for r := range rows {
				maxLogit[r] = math.Inf(-1)
				if p.fixedShift {
					maxLogit[r] = p.shift
				}
				sumExp[r] = 0
			}
			for c0 := 0; c0 < p.batch; c0 += p.tileCols {
				cols := min(p.tileCols, p.batch-c0)
				similarityTile(p, x, y, r0, rows, c0, cols, tile)
				for r := range rows {
					row := tile[r*cols : (r+1)*cols]
					if d := r0 + r - c0; d >= 0 && d < cols {
						diag[r0+r] = float64(row[d])
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
					if m > maxLogit[r] {
						// Rescale the running sum to the new maximum.
						sumExp[r] *= math.Exp(maxLogit[r] - m)
						maxLogit[r] = m
					}
					sumExp[r] += rowExpSum(row, maxLogit[r])
				}
				if columns {
					columnSums(rows, cols, tile, ones, colTile)
					for j, e := range colTile[:cols] {
						colSum[c0+j] += float64(e)
					}
				}
			}
			for r := range rows {
				lse[r0+r] = maxLogit[r] + math.Log(sumExp[r])
			}
		}
	})
	if columns {
		lseCol = colSums[0]
		for _, sum := range colSums[1:] {
			for j, x := range sum {
				lseCol[j] += x
			}
		}
		for j, x := range lseCol {
			lseCol[j] = p.shift + math.Log(x)
		}
	}
	return lse, diag, lseCol
}

// normalizeRows returns x with each row divided by max(‖row‖, NormEpsilon),
// and the unclamped norms.
func normalizeRows[T Float](x []T, rows, cols, workers int) (u []T, norms []float64) {
	u = make([]T, len(x))
	norms = make([]float64, rows)
	forRowRanges(rows, cols, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := x[i*cols : (i+1)*cols]
			norm := l2Norm(row)
			norms[i] = norm
			inv := 1 / max(norm, NormEpsilon)
			for j, value := range row {
				u[i*cols+j] = T(float64(value) * inv)
			}
		}
	})
	return u, norms
}

// normalizeBackward writes into grad the gradient with respect to the raw
// rows, given the gradient gradU with respect to the normalised rows u.
// For ‖x‖ > NormEpsilon, d(x/‖x‖)/dx = (I − u·uᵀ)/‖x‖; where the norm is
// clamped, u = x/NormEpsilon and the Jacobian is I/NormEpsilon.
func normalizeBackward[T Float](grad, gradU, u []T, norms []float64, cols, workers int) {
	forRowRanges(len(norms), cols, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			norm := norms[i]
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
			for j, x := range g {
				out[j] = T((float64(x) - float64(ui[j])*proj) / norm)
			}
		}
	})
}

// l2Norm returns the Euclidean norm of x without overflow for any finite x:
// float64 rows are scaled by their largest magnitude, and float32 squares
// are summed in float64, whose range holds the square of any float32.
func l2Norm[T Float](x []T) float64 {
	if x64, ok := any(x).([]float64); ok {
		var scale float64
		for _, v := range x64 {
			scale = max(scale, math.Abs(v))
		}
		if scale == 0 {
			return 0
		}
		var sum float64
		for _, v := range x64 {
			sum += (v / scale) * (v / scale)
		}
		return scale * math.Sqrt(sum)
	}
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum)
}

// dot returns Σ x_i·y_i accumulated in float64.
func dot[T Float](x, y []T) float64 {
	var sum float64
	for i, v := range x {
		sum += float64(v) * float64(y[i])
	}
	return sum
}
