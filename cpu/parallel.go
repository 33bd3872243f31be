package cpu

import (
	"iter"
	"sync"
)

// runBlocks calls body once for each of workers goroutines. Worker w is
// given the blocks w, w+workers, w+2·workers, … below blocks, so the
// assignment of blocks to workers, and any sums a worker keeps, depend only
// on the two counts.
func runBlocks(blocks, workers int, body func(worker int, blocks iter.Seq[int])) {
	if workers <= 1 {
		body(0, stride(0, blocks, 1))
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { body(w, stride(w, blocks, workers)) })
	}
	wg.Wait()
}

func stride(start, end, step int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := start; i < end; i += step {
			if !yield(i) {
				return
			}
		}
	}
}

// minParallelElements is the fewest elements that forRowRanges splits over
// goroutines; below it, starting them costs more than the work.
const minParallelElements = 1 << 15

// forRowRanges calls fn on contiguous ranges [lo, hi) that cover the rows
// of a rows × cols matrix: one range per worker, on its own goroutine, or
// a single range when the matrix has fewer than minParallelElements
// elements. fn must treat its rows independently of the others.
func forRowRanges(rows, cols, workers int, fn func(lo, hi int)) {
	workers = min(workers, rows)
	if workers <= 1 || rows*cols < minParallelElements {
		fn(0, rows)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { fn(w*rows/workers, (w+1)*rows/workers) })
	}
	wg.Wait()
}
