package cpu

import (
	"fmt"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLASName returns a description of the BLAS implementations that the
// matrix products use, for example "OpenBLAS 0.3.21 … (libopenblas.so.0,
// 1 thread)" or "gonum (pure Go)". The first call selects the BLAS, as the
// first matrix product does.
func BLASName() string {
	selectBLAS()
	name32 := implName(blas32.Implementation())
	name64 := implName(blas64.Implementation())
	if name32 == name64 {
		return name32
	}
	return name32 + " (float32), " + name64 + " (float64)"
}

func implName(impl any) string {
	switch impl := impl.(type) {
	case gonum.Implementation:
		return "gonum (pure Go)"
	case fmt.Stringer:
		return impl.String()
	default:
		return fmt.Sprintf("%T", impl)
	}
}
