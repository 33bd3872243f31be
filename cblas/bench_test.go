package cblas

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BenchmarkSgemm compares the library with gonum on the tile shapes of
// package cpu's InfoNCE: a block of rows of one view times the transpose of
// the other view.
func BenchmarkSgemm(b *testing.B) {
	impls := []struct {
		name string
		impl blas.Float32
	}{{"gonum", gonum.Implementation{}}}
	if lib, err := Load(); err == nil {
		impls = append(impls, struct {
			name string
			impl blas.Float32
		}{"cblas", lib.Float32()})
	}
	for _, shape := range [][3]int{{1, 1, 1}, {64, 512, 128}, {4096, 4096, 128}} {
		m, n, k := shape[0], shape[1], shape[2]
		a, x, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
		for i := range a {
			a[i] = float32(i%7) / 7
		}
		for i := range x {
			x[i] = float32(i%5) / 5
		}
		for _, im := range impls {
			b.Run(fmt.Sprintf("blas=%s/m=%d/n=%d/k=%d", im.name, m, n, k), func(b *testing.B) {
				for b.Loop() {
					im.impl.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, k, x, k, 0, c, n)
				}
				b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
