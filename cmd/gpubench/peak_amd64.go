//go:build !purego

package main

import "golang.org/x/sys/cpu"

// fmaLoopAVX2 and fmaLoopAVX512 run iterations rounds of twelve float32
// vector multiply-adds: 192 and 384 floating-point operations a round.
// iterations must be positive.
//
//go:noescape
func fmaLoopAVX2(iterations int)

//go:noescape
func fmaLoopAVX512(iterations int)

// fmaLoops returns the multiply-add loops this CPU can run, by the name of
// their instruction set.
func fmaLoops() []fmaLoop {
	var loops []fmaLoop
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		loops = append(loops, fmaLoop{"AVX2", 192, fmaLoopAVX2})
	}
	if cpu.X86.HasAVX512F {
		loops = append(loops, fmaLoop{"AVX-512", 384, fmaLoopAVX512})
	}
	return loops
}
