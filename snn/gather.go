package snn

// gatherAdd adds rows of src to dst: dst[j] += Σ_k src[rows[k]·stride + j]
// for j < len(dst), each element summed in the order of rows, so that the
// result is the same with and without the assembly kernel. Every
// rows[k]·stride + len(dst) must be at most len(src).
func gatherAdd(dst, src []float32, stride int, rows []int32) {
	n := len(dst)
	if n == 0 || len(rows) == 0 {
		return
	}
	for _, r := range rows {
		if r < 0 || int(r)*stride+n > len(src) {
			panic("snn: gatherAdd row out of range")
		}
	}
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		gatherAddAVX2(&dst[0], &src[0], stride, &rows[0], len(rows), done)
	}
	if done == n {
		return
	}
	for j := done; j < n; j++ {
		sum := dst[j]
		for _, r := range rows {
			sum += src[int(r)*stride+j]
		}
		dst[j] = sum
	}
}
