package snn

import "golang.org/x/sys/cpu"

var useAVX2 = cpu.X86.HasAVX2

// gatherAddAVX2 is gatherAdd for the first n elements, n a multiple of 8,
// with AVX2 instructions. It does not check its arguments.
//
//go:noescape
func gatherAddAVX2(dst, src *float32, stride int, rows *int32, nrows, n int)
