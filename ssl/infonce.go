package ssl

import (
	"fmt"
	"math"
)

// DefaultTemperature is the InfoNCE temperature used when none is given.
const DefaultTemperature = 0.5

// InfoNCEOptions configures the InfoNCE loss.
type InfoNCEOptions struct {
	// Temperature divides the cosine similarities: finite and > 0.
	// DefaultInfoNCE sets it to DefaultTemperature.
	Temperature float64

	// Symmetric averages the loss over rows (view a against view b) and
	// over columns (view b against view a), as in CLIP.
	Symmetric bool
}

// DefaultInfoNCE returns the default options: temperature 0.5, one
// direction.
func DefaultInfoNCE() InfoNCEOptions {
	return InfoNCEOptions{Temperature: DefaultTemperature}
}

// LossResult is the outcome of an InfoNCE call.
type LossResult[T Float] struct {
	// Loss is the InfoNCE loss.
	Loss float64

	// GradA and GradB are the gradients of Loss with respect to the two
	// views, set by InfoNCEGrad only.
	GradA, GradB Matrix[T]

	// Backend and Device name where the call ran.
	Backend, Device string
}

// InfoNCELoss returns the InfoNCE loss of the views a and b, two
// (batch, features) matrices whose row i holds two views of sample i.
func InfoNCELoss[T Float](e *Engine, a, b Matrix[T], opt InfoNCEOptions) (LossResult[T], error) {
	return infoNCE(e, a, b, opt, false)
}

// InfoNCEGrad returns the InfoNCE loss of the views a and b with its
// gradients with respect to both views.
func InfoNCEGrad[T Float](e *Engine, a, b Matrix[T], opt InfoNCEOptions) (LossResult[T], error) {
	return infoNCE(e, a, b, opt, true)
}

func infoNCE[T Float](e *Engine, a, b Matrix[T], opt InfoNCEOptions, grads bool) (LossResult[T], error) {
	if err := checkViews(a, b, opt); err != nil {
		return LossResult[T]{}, err
	}
	e = engine(e)
	batch, features := a.Rows, a.Cols

	work := InfoNCEWork(batch, features, grads)

	var result LossResult[T]
	backend, err := e.run("infonce", work, func(backend Backend) error {
		var gradA, gradB []T
		if grads {
			gradA = make([]T, batch*features)
			gradB = make([]T, batch*features)
		}
		var loss float64
		var err error
		switch a := any(a.Data).(type) {
		case []float64:
			loss, err = backend.InfoNCE64(a, any(b.Data).([]float64), batch, features, opt.Temperature, opt.Symmetric, any(gradA).([]float64), any(gradB).([]float64))
		case []float32:
			loss, err = backend.InfoNCE32(a, any(b.Data).([]float32), batch, features, opt.Temperature, opt.Symmetric, any(gradA).([]float32), any(gradB).([]float32))
		}
		if err != nil {
			return err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("the %s backend returned a loss of %v: use a larger temperature", backend.Name(), loss)
		}
		// Near the smallest temperature a precision allows, gradients of
		// about 1/temperature can exceed its range.
		advice := "use a larger temperature or float64"
		if precisionName[T]() == "float64" {
			advice = "use a larger temperature"
		}
		for _, g := range []struct {
			name string
			data []T
		}{{"grad_a", gradA}, {"grad_b", gradB}} {
			if k := firstNonFinite(g.data); k >= 0 {
				return fmt.Errorf("%w: the %s backend returned %s[%d, %d] = %v: %s",
					ErrNotFinite, backend.Name(), g.name, k/features, k%features, g.data[k], advice)
			}
		}
		result = LossResult[T]{Loss: loss}
		if grads {
			result.GradA = Matrix[T]{Rows: batch, Cols: features, Data: gradA}
			result.GradB = Matrix[T]{Rows: batch, Cols: features, Data: gradB}
		}
		return nil
	})
	if err != nil {
		return LossResult[T]{}, fmt.Errorf("ssl: InfoNCE on %d × %d views: %w", batch, features, err)
	}
	result.Backend, result.Device = backend.Name(), backend.Device()
	return result, nil
}

// Validate returns an error wrapping ErrInvalidParameter unless the
// temperature is finite and > 0.
func (o InfoNCEOptions) Validate() error {
	t := o.Temperature
	if math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 {
		return fmt.Errorf("%w: temperature is %v, must be finite and > 0 (default %v)", ErrInvalidParameter, t, DefaultTemperature)
	}
	return nil
}

// checkViews validates the arguments of InfoNCE.
func checkViews[T Float](a, b Matrix[T], opt InfoNCEOptions) error {
	if err := opt.Validate(); err != nil {
		return err
	}
	// The logits lie in [−1/temperature, 1/temperature], and the
	// differences between them, up to 2/temperature, must stay finite in
	// the views' precision.
	limit, advice := math.MaxFloat64, "use a larger temperature"
	if precisionName[T]() == "float32" {
		limit, advice = math.MaxFloat32, "use float64 or a larger temperature"
	}
	if 2/opt.Temperature > limit {
		return fmt.Errorf("%w: temperature is %v, below the %s limit of %.3g: %s",
			ErrInvalidParameter, opt.Temperature, precisionName[T](), 2/limit, advice)
	}
	if err := checkMatrix("view_a", a); err != nil {
		return err
	}
	if err := checkMatrix("view_b", b); err != nil {
		return err
	}
	if a.Rows != b.Rows || a.Cols != b.Cols {
		return fmt.Errorf("%w: view_a is (%d, %d) and view_b is (%d, %d), must be equal", ErrShape, a.Rows, a.Cols, b.Rows, b.Cols)
	}
	if a.Cols == 0 {
		return fmt.Errorf("%w: views have 0 features", ErrShape)
	}
	return nil
}
