package cpu

// Backend runs every operation of package ssl on the CPU. Its methods wrap
// the generic functions of this package for each precision; the zero value
// is ready to use and safe for concurrent use.
type Backend struct {
	// Options sets the tiling and worker count of InfoNCE. Its Temperature
	// and Symmetric fields are ignored in favour of the arguments.
	Options InfoNCEOptions
}

// Name returns "cpu".
func (Backend) Name() string { return "cpu" }

// Device returns a description of the BLAS that the tile products use.
func (Backend) Device() string { return BLASName() }

// InfoNCE64 is InfoNCE for float64 views.
func (c Backend) InfoNCE64(a, b []float64, batch, features int, temperature float64, symmetric bool, gradA, gradB []float64) (float64, error) {
	return InfoNCE(a, b, batch, features, c.options(temperature, symmetric), gradA, gradB)
}

// InfoNCE32 is InfoNCE for float32 views.
func (c Backend) InfoNCE32(a, b []float32, batch, features int, temperature float64, symmetric bool, gradA, gradB []float32) (float64, error) {
	return InfoNCE(a, b, batch, features, c.options(temperature, symmetric), gradA, gradB)
}

// OuterUpdate64 is OuterUpdate for float64 matrices.
func (Backend) OuterUpdate64(weights []float64, nPost, nPre int, post, pre []float64, batch int, scale []float64, alpha, beta float64, out []float64) error {
	return OuterUpdate(weights, nPost, nPre, post, pre, batch, scale, alpha, beta, out)
}

// OuterUpdate32 is OuterUpdate for float32 matrices.
func (Backend) OuterUpdate32(weights []float32, nPost, nPre int, post, pre []float32, batch int, scale []float32, alpha, beta float64, out []float32) error {
	return OuterUpdate(weights, nPost, nPre, post, pre, batch, scale, alpha, beta, out)
}

// Goodness64 is Goodness for a float64 matrix.
func (Backend) Goodness64(x []float64, rows, cols int, out []float64) error {
	return Goodness(x, rows, cols, out)
}

// Goodness32 is Goodness for a float32 matrix.
func (Backend) Goodness32(x []float32, rows, cols int, out []float64) error {
	return Goodness(x, rows, cols, out)
}

func (c Backend) options(temperature float64, symmetric bool) InfoNCEOptions {
	opt := c.Options
	opt.Temperature = temperature
	opt.Symmetric = symmetric
	return opt
}
