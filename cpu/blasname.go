package cpu

import (
	"fmt"
	"os"

	"github.com/spikessl/spikessl/cblas"

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
	name := name32
	if name32 != name64 {
		name = name32 + " (float32), " + name64 + " (float64)"
	}
	// A library named in the environment that fails to load is worth
	// saying; a machine with no CBLAS at all is not an error.
	if env := os.Getenv(cblas.EnvVar); blasErr != nil && env != "" && env != "gonum" {
		name += " (" + cblas.EnvVar + "=" + env + " did not load: " + blasErr.Error() + ")"
	}
	return name
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
