package main

import (
	"runtime"
	"sync"
	"time"
)

// fmaLoop is a loop of float32 vector multiply-adds with no memory traffic.
type fmaLoop struct {
	isa string
	// flops is the number of floating-point operations of one iteration.
	flops int
	run   func(iterations int)
}

// cpuPeak is the float32 multiply-add rate of every thread at once,
// measured with the fastest of fmaLoops: the limit that no float32 matrix
// product on this CPU can pass. float64 products have half of it.
type cpuPeak struct {
	gflops  float64
	isa     string
	threads int
}

// peakRounds is the number of timed rounds of peakIterations iterations
// on each thread; the fastest round counts. A round of 2²⁴ iterations
// takes about 30 ms on a core running one AVX2 round of twelve FMAs in
// six cycles at 3 GHz.
const (
	peakRounds     = 5
	peakIterations = 1 << 24
)

// measureCPUPeak runs each of fmaLoops on threads goroutines, each locked
// to its own OS thread, and returns the best rate. It returns a zero
// cpuPeak where no loop is available.
func measureCPUPeak(threads int) cpuPeak {
	best := cpuPeak{threads: threads}
	for _, loop := range fmaLoops() {
		loop.run(1 << 16) // warm-up: wakes the vector units
		for range peakRounds {
			var wg sync.WaitGroup
			start := time.Now()
			for range threads {
				wg.Go(func() {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					loop.run(peakIterations)
				})
			}
			wg.Wait()
			seconds := time.Since(start).Seconds()
			gflops := float64(threads) * float64(loop.flops) * peakIterations / seconds / 1e9
			if gflops > best.gflops {
				best.gflops, best.isa = gflops, loop.isa
			}
		}
	}
	return best
}

// forPrecision returns the peak rate for elements of the given precision.
func (p cpuPeak) forPrecision(precision string) float64 {
	if precision == "float64" {
		return p.gflops / 2
	}
	return p.gflops
}
