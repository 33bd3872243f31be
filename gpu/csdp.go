package gpu

import (
	"fmt"
)

// OuterUpdate64 writes into out the (nPost, nPre) matrix
// beta·weights + alpha·Σ_s scale_s·post_sᵀ⊗pre_s, where post is
// (batch, nPost) and pre is (batch, nPre), as package cpu's OuterUpdate
// does. A nil scale means 1; out may be the same slice as weights. When
// the samples do not fit in one buffer they are sent in pieces that each
// fit, and the pieces' sums are added on the device.
func (b *Backend) OuterUpdate64(weights []float64, nPost, nPre int, post, pre []float64, batch int, scale []float64, alpha, beta float64, out []float64) error {
	return outerUpdate(b, weights, nPost, nPre, post, pre, batch, scale, alpha, beta, out)
}

// OuterUpdate32 is OuterUpdate64 for float32 matrices.
func (b *Backend) OuterUpdate32(weights []float32, nPost, nPre int, post, pre []float32, batch int, scale []float32, alpha, beta float64, out []float32) error {
	return outerUpdate(b, weights, nPost, nPre, post, pre, batch, scale, alpha, beta, out)
}

func outerUpdate[T float32 | float64](b *Backend, weights []T, nPost, nPre int, post, pre []T, batch int, scale []T, alpha, beta float64, out []T) error {
	if nPost < 0 || nPre < 0 || batch < 0 {
		return fmt.Errorf("%w: negative dimension in batch %d, (%d, %d)", ErrDimension, batch, nPost, nPre)
	}
	if len(weights) != nPost*nPre || len(out) != nPost*nPre {
		return fmt.Errorf("%w: weights of %d and output of %d elements for shape (%d, %d)", ErrDimension, len(weights), len(out), nPost, nPre)
	}
	if len(post) != batch*nPost || len(pre) != batch*nPre {
		return fmt.Errorf("%w: post of %d and pre of %d elements for batch %d, (%d, %d)", ErrDimension, len(post), len(pre), batch, nPost, nPre)
	}
	if scale != nil && len(scale) != batch {
		return fmt.Errorf("%w: %d scales for batch %d", ErrDimension, len(scale), batch)
	}
	if len(weights) == 0 {
		return nil
	}

	if err := checkDims(batch, nPost, nPre); err != nil {
		return err
	}
	elem := int64(sizeOf[T]())
	weightBytes := int64(len(weights)) * elem
	if err := b.checkAlloc(fmt.Sprintf("(%d, %d) weights", nPost, nPre), weightBytes); err != nil {
		return err
	}
	// Samples go to the device in pieces of at most chunk rows of post and
	// pre, each within the maximum allocation.
	rowBytes := int64(max(nPost, nPre)) * elem
	chunk := max(batch, 1)
	if int64(chunk)*rowBytes > b.maxAlloc {
		chunk = int(b.maxAlloc / rowBytes)
	}
	if err := b.checkTotal(fmt.Sprintf("the outer-product update of (%d, %d) weights", nPost, nPre),
		weightBytes+int64(chunk)*(int64(nPost+nPre)*elem+elem)); err != nil {
		return err
	}

	s, err := begin[T](b)
	if err != nil {
		return err
	}
	defer s.end()
	w, err := s.keep(bufferFrom(s.b.ctx, weights, false))
	if err != nil {
		return err
	}
	tile := b.tile
	local := []int{tile, tile}
	global := []int{groups(nPre, tile), groups(nPost, tile)}

	if batch == 0 {
		err := s.launch("outer", "outer_update", global, local,
			w, (*Buffer)(nil), (*Buffer)(nil), (*Buffer)(nil), int32(0), int32(0), int32(nPost), int32(nPre),
			s.scalar(alpha), s.scalar(beta), w)
		if err != nil {
			return err
		}
		return read(s.b.ctx, w, out)
	}
	for s0 := 0; s0 < batch; s0 += chunk {
		rows := min(chunk, batch-s0)
		postBuf, err := s.keep(bufferFrom(s.b.ctx, post[s0*nPost:(s0+rows)*nPost], true))
		if err != nil {
			return err
		}
		preBuf, err := s.keep(bufferFrom(s.b.ctx, pre[s0*nPre:(s0+rows)*nPre], true))
		if err != nil {
			return err
		}
		var scaleBuf *Buffer
		useScale := int32(0)
		if scale != nil {
			useScale = 1
			if scaleBuf, err = s.keep(bufferFrom(s.b.ctx, scale[s0:s0+rows], true)); err != nil {
				return err
			}
		}
		// The first piece scales the weights by beta; later pieces add to
		// the running result.
		pieceBeta := beta
		if s0 > 0 {
			pieceBeta = 1
		}
		err = s.launch("outer", "outer_update", global, local,
			w, postBuf, preBuf, scaleBuf, useScale, int32(rows), int32(nPost), int32(nPre),
			s.scalar(alpha), s.scalar(pieceBeta), w)
		if err != nil {
			return err
		}
		if s0+rows < batch {
			// Release this piece's buffers once the kernel has read them,
			// so that at most one piece is resident at a time.
			if err := s.b.ctx.Finish(); err != nil {
				return err
			}
			for _, buf := range []*Buffer{postBuf, preBuf, scaleBuf} {
				if buf != nil {
					_ = buf.Release()
				}
			}
		}
	}
	return read(s.b.ctx, w, out)
}

// Goodness64 writes Σ_j x_ij² of each row of the (rows, cols) matrix x
// into out. Rows that do not fit in one buffer are sent in pieces.
func (b *Backend) Goodness64(x []float64, rows, cols int, out []float64) error {
	return goodness(b, x, rows, cols, out)
}

// Goodness32 is Goodness64 for a float32 matrix; the sums are float32 on
// the device, reduced as a tree.
func (b *Backend) Goodness32(x []float32, rows, cols int, out []float64) error {
	return goodness(b, x, rows, cols, out)
}

func goodness[T float32 | float64](b *Backend, x []T, rows, cols int, out []float64) error {
	if rows < 0 || cols < 0 || len(x) != rows*cols || len(out) != rows {
		return fmt.Errorf("%w: %d elements and %d outputs for shape (%d, %d)", ErrDimension, len(x), len(out), rows, cols)
	}
	if rows == 0 {
		return nil
	}
	if cols == 0 {
		clear(out)
		return nil
	}
	if err := checkDims(rows, cols); err != nil {
		return err
	}
	elem := int64(sizeOf[T]())
	rowBytes := int64(cols) * elem
	if err := b.checkAlloc(fmt.Sprintf("a row of %d activations", cols), rowBytes); err != nil {
		return err
	}
	chunk := rows
	if int64(chunk)*rowBytes > b.maxAlloc {
		chunk = int(b.maxAlloc / rowBytes)
	}

	s, err := begin[T](b)
	if err != nil {
		return err
	}
	defer s.end()
	// The kernel returns each row's largest magnitude and its scaled sum
	// of squares, whose product can exceed the range of T; see
	// kernels/rows.cl.
	factors := make([]T, 2*chunk)
	for r0 := 0; r0 < rows; r0 += chunk {
		n := min(chunk, rows-r0)
		xBuf, err := s.keep(bufferFrom(s.b.ctx, x[r0*cols:(r0+n)*cols], true))
		if err != nil {
			return err
		}
		outBuf, err := s.newBuffer(2*n, int(elem))
		if err != nil {
			return err
		}
		err = s.launch("rows", "goodness_rows", []int{groups(n, b.normWG)}, []int{b.normWG}, xBuf, outBuf, int32(n), int32(cols))
		if err != nil {
			return err
		}
		if err := read(s.b.ctx, outBuf, factors[:2*n]); err != nil {
			return err
		}
		for i := range n {
			largest := float64(factors[i])
			out[r0+i] = largest * largest * float64(factors[n+i])
		}
		_ = xBuf.Release()
		_ = outBuf.Release()
	}
	return nil
}
