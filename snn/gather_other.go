//go:build !amd64

package snn

var useAVX2 = false

func gatherAddAVX2(dst, src *float32, stride int, rows *int32, nrows, n int) {
	panic("snn: no AVX2 on this architecture")
}
