package gpu

import (
	"errors"
	"fmt"
	"math"
)

// ErrDimension reports a slice whose length does not match the dimensions
// passed with it.
var ErrDimension = errors.New("gpu: slice length does not match dimensions")

// InfoNCE64 returns the InfoNCE loss of the float64 views a and b, each
// (batch, features) and row-major, and writes the gradients into gradA and
// gradB unless they are nil. It computes what package cpu's InfoNCE
// computes; see kernels/infonce.cl for the method.
func (b *Backend) InfoNCE64(a, v []float64, batch, features int, temperature float64, symmetric bool, gradA, gradB []float64) (float64, error) {
	return infoNCE(b, a, v, batch, features, temperature, symmetric, gradA, gradB)
}

// InfoNCE32 is InfoNCE64 for float32 views. Logits and sums are float32 on
// the device; the loss is summed over rows in float64 on the host.
func (b *Backend) InfoNCE32(a, v []float32, batch, features int, temperature float64, symmetric bool, gradA, gradB []float32) (float64, error) {
	return infoNCE(b, a, v, batch, features, temperature, symmetric, gradA, gradB)
}

func infoNCE[T float32 | float64](b *Backend, a, v []T, batch, features int, temperature float64, symmetric bool, gradA, gradB []T) (float64, error) {
	n := batch * features
	if batch < 0 || features < 0 || len(a) != n || len(v) != n {
		return 0, fmt.Errorf("%w: views of %d and %d elements for shape (%d, %d)", ErrDimension, len(a), len(v), batch, features)
	}
	if (gradA != nil && len(gradA) != n) || (gradB != nil && len(gradB) != n) {
		return 0, fmt.Errorf("%w: gradients of %d and %d elements for shape (%d, %d)", ErrDimension, len(gradA), len(gradB), batch, features)
	}
	if !(temperature > 0) || math.IsInf(temperature, 1) {
		return 0, fmt.Errorf("gpu: temperature %v is invalid: must be finite and > 0", temperature)
	}
	if batch < 2 || features == 0 {
		clear(gradA)
		clear(gradB)
		return 0, nil
	}

	if err := checkDims(batch, features); err != nil {
		return 0, err
	}
	elem := sizeOf[T]()
	viewBytes := int64(n) * int64(elem)
	if err := b.checkAlloc(fmt.Sprintf("a (%d, %d) view", batch, features), viewBytes); err != nil {
		return 0, err
	}
	gradients := gradA != nil || gradB != nil
	tile := b.tile * b.infoNCEBlock(elem)
	splits, colSplit := b.columnSplits(batch, tile, viewBytes, gradients)
	b.logger.Debug("gpu: InfoNCE work split", "batch", batch, "tile", tile, "column_splits", splits, "columns_per_split", colSplit)
	// The views, their norms, diagonal and log-sum-exps, the partial
	// log-sum-exps of the splits and, for the gradients, one gradient and
	// its partials (the gradients are computed one view at a time).
	need := 2*viewBytes + 8*int64(batch)*int64(elem) + 4*int64(splits)*int64(batch)*int64(elem)
	if gradients {
		need += viewBytes
		if splits > 1 {
			need += int64(splits) * viewBytes
		}
	}
	if err := b.checkTotal(fmt.Sprintf("InfoNCE on (%d, %d) views", batch, features), need); err != nil {
		return 0, err
	}

	s, err := begin[T](b)
	if err != nil {
		return 0, err
	}
	defer s.end()
	f := &forward[T]{s: s, batch: batch, features: features, invTemp: 1 / temperature, symmetric: symmetric,
		splits: splits, colSplit: colSplit}
	loss, err := f.run(a, v)
	if err != nil {
		return 0, err
	}
	if gradA == nil && gradB == nil {
		return loss, nil
	}
	if err := f.gradients(temperature, gradA, gradB); err != nil {
		return 0, err
	}
	return loss, nil
}

// forward holds the device buffers of one InfoNCE call between the
// forward and the backward pass.
type forward[T float32 | float64] struct {
	s                     *session
	batch, features       int
	invTemp               float64
	symmetric             bool
	splits, colSplit      int // column splits, and columns per split
	lsePartial            *Buffer
	u, v                  *Buffer // the normalised views
	normU, normV          *Buffer // the unclamped row norms, in two factors
	lseRow, lseCol, diag  *Buffer
	rowGlobal, tileLocal  []int
	normGlobal, normLocal []int
}

// run normalises the views on the device, computes the row (and column)
// log-sum-exp and the diagonal logits, and returns the loss.
func (f *forward[T]) run(a, v []T) (float64, error) {
	s, batch, features := f.s, f.batch, f.features
	elem := sizeOf[T]()
	wg, tile := s.b.tile, s.b.tile*s.infoNCEBlock()
	f.tileLocal = []int{wg, wg}
	f.rowGlobal = []int{f.splits * wg, groups(batch, tile) / tile * wg}
	f.normLocal = []int{s.b.normWG}
	f.normGlobal = []int{groups(batch, s.b.normWG)}

	var err error
	if f.u, err = s.keep(bufferFrom(s.b.ctx, a, false)); err != nil {
		return 0, err
	}
	if f.v, err = s.keep(bufferFrom(s.b.ctx, v, false)); err != nil {
		return 0, err
	}
	// A row's norm is kept as its largest magnitude and the root of its
	// scaled sum of squares; see kernels/rows.cl.
	for _, out := range []**Buffer{&f.normU, &f.normV} {
		if *out, err = s.newBuffer(2*batch, elem); err != nil {
			return 0, err
		}
	}
	if f.diag, err = s.newBuffer(batch, elem); err != nil {
		return 0, err
	}
	// A log-sum-exp is stored as its maximum and the log1p of the rest,
	// each batch elements; see kernels/infonce.cl.
	if f.lseRow, err = s.newBuffer(2*batch, elem); err != nil {
		return 0, err
	}
	if f.symmetric {
		if f.lseCol, err = s.newBuffer(2*batch, elem); err != nil {
			return 0, err
		}
	}
	if f.splits > 1 {
		if f.lsePartial, err = s.newBuffer(2*f.splits*batch, elem); err != nil {
			return 0, err
		}
	}

	rows, cols := int32(batch), int32(features)
	if err := s.launch("rows", "normalize_rows", f.normGlobal, f.normLocal, f.u, f.normU, rows, cols); err != nil {
		return 0, err
	}
	if err := s.launch("rows", "normalize_rows", f.normGlobal, f.normLocal, f.v, f.normV, rows, cols); err != nil {
		return 0, err
	}
	if err := f.logSumExp(f.u, f.v, f.lseRow, 1); err != nil {
		return 0, err
	}
	if f.symmetric {
		if err := f.logSumExp(f.v, f.u, f.lseCol, 0); err != nil {
			return 0, err
		}
	}

	lseRow := make([]T, 2*batch)
	diag := make([]T, batch)
	if err := read(s.b.ctx, f.lseRow, lseRow); err != nil {
		return 0, err
	}
	if err := read(s.b.ctx, f.diag, diag); err != nil {
		return 0, err
	}
	var lseCol []T
	if f.symmetric {
		lseCol = make([]T, 2*batch)
		if err := read(s.b.ctx, f.lseCol, lseCol); err != nil {
			return 0, err
		}
	}

	// Each row's loss is (max − diag) + log1p(rest): the difference is
	// exact in float64, and 0 when the positive pair has the largest logit.
	// Each term is divided by the batch before it is added, so that losses
	// near the largest float64 do not overflow the sum.
	n := float64(batch)
	var rowMean, colMean float64
	for i := range batch {
		rowMean += ((float64(lseRow[i]) - float64(diag[i])) + float64(lseRow[batch+i])) / n
		if f.symmetric {
			colMean += ((float64(lseCol[i]) - float64(diag[i])) + float64(lseCol[batch+i])) / n
		}
	}
	if f.symmetric {
		return 0.5*rowMean + 0.5*colMean, nil
	}
	return rowMean, nil
}

// logSumExp writes into lse the log-sum-exp of every row of x·yᵀ /
// temperature, and the diagonal logits into f.diag when writeDiag is 1.
// With several column splits, the splits' partial results are merged by
// a second kernel.
func (f *forward[T]) logSumExp(x, y, lse *Buffer, writeDiag int32) error {
	s := f.s
	rows, cols := int32(f.batch), int32(f.features)
	out := lse
	if f.splits > 1 {
		out = f.lsePartial
	}
	if err := s.launch("infonce", "infonce_lse", f.rowGlobal, f.tileLocal, x, y, rows, cols, s.scalar(f.invTemp), out, f.diag, writeDiag, int32(f.colSplit)); err != nil {
		return err
	}
	if f.splits == 1 {
		return nil
	}
	return s.launch("infonce", "infonce_lse_merge", f.normGlobal, f.normLocal, f.lsePartial, int32(f.splits), rows, lse)
}

// gradients runs the backward pass for each requested view: the logit
// tiles are recomputed, dL/du (or dL/dv) is accumulated on the device and
// mapped back through the normalisation.
func (f *forward[T]) gradients(temperature float64, gradA, gradB []T) error {
	s := f.s
	rows, cols := int32(f.batch), int32(f.features)
	scale := 1 / (float64(f.batch) * temperature)
	symmetric := int32(0)
	if f.symmetric {
		scale /= 2
		symmetric = 1
	}

	n := f.batch * f.features
	grad, err := s.newBuffer(n, sizeOf[T]())
	if err != nil {
		return err
	}
	// With several column splits, each split's work-groups accumulate
	// into their own partial gradient, and sum_splits adds them.
	partial := grad
	sumGlobal := []int{groups(n, s.b.normWG)}
	if f.splits > 1 {
		if partial, err = s.newBuffer(f.splits*n, sizeOf[T]()); err != nil {
			return err
		}
	}
	for _, pass := range []struct {
		out              []T
		x, y, norms      *Buffer
		lseOwn, lseOther *Buffer
		useOwn, useOther int32
	}{
		// dL/du: the row lse is the view's own, the column lse the other's.
		{gradA, f.u, f.v, f.normU, f.lseRow, f.lseCol, 1, symmetric},
		// dL/dv: the column lse is the view's own, the row lse the other's.
		{gradB, f.v, f.u, f.normV, f.lseCol, f.lseRow, symmetric, 1},
	} {
		if pass.out == nil {
			continue
		}
		if err := s.launch("infonce", "infonce_grad", f.rowGlobal, f.tileLocal,
			pass.x, pass.y, rows, cols, s.scalar(f.invTemp), pass.lseOwn, pass.lseOther,
			pass.useOwn, pass.useOther, s.scalar(scale), partial, int32(f.colSplit)); err != nil {
			return err
		}
		if f.splits > 1 {
			if err := s.launch("infonce", "sum_splits", sumGlobal, []int{s.b.normWG}, partial, int32(f.splits), int32(n), grad); err != nil {
				return err
			}
		}
		if err := s.launch("rows", "normalize_backward", f.normGlobal, f.normLocal, grad, pass.x, pass.norms, rows, cols); err != nil {
			return err
		}
		if err := read(s.b.ctx, grad, pass.out); err != nil {
			return err
		}
	}
	return nil
}

// columnSplits returns the number of column splits of the InfoNCE kernels
// for a batch, and the columns of each split, a multiple of tile. The
// columns are split when the blocks of rows alone give fewer work-groups
// than b.minWorkGroups, as far as the tiles allow. With gradients, the
// splits' partial gradients, viewBytes each, must fit in one buffer.
func (b *Backend) columnSplits(batch, tile int, viewBytes int64, gradients bool) (splits, colSplit int) {
	rowGroups := (batch + tile - 1) / tile
	colTiles := rowGroups
	splits = 1
	if rowGroups < b.minWorkGroups {
		splits = min(colTiles, (b.minWorkGroups+rowGroups-1)/rowGroups)
	}
	if gradients && viewBytes > 0 {
		splits = max(1, min(splits, int(b.maxAlloc/viewBytes)))
	}
	colSplit = (colTiles + splits - 1) / splits * tile
	// Rounding colSplit up to whole tiles can leave the last splits empty.
	return (batch + colSplit - 1) / colSplit, colSplit
}
