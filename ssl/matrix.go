package ssl

import (
	"fmt"
	"math"
)

// Float is the element type of a Matrix.
type Float interface {
	float32 | float64
}

// Matrix is a dense row-major matrix: element (i, j) is Data[i*Cols+j].
type Matrix[T Float] struct {
	Rows, Cols int
	Data       []T
}

// NewMatrix returns a rows × cols Matrix over data, or an error if
// len(data) is not rows·cols. data is not copied.
func NewMatrix[T Float](rows, cols int, data []T) (Matrix[T], error) {
	if rows < 0 || cols < 0 || len(data) != rows*cols {
		return Matrix[T]{}, fmt.Errorf("%w: %d values do not form a %d × %d matrix", ErrShape, len(data), rows, cols)
	}
	return Matrix[T]{Rows: rows, Cols: cols, Data: data}, nil
}

// RowVector returns data as a 1 × len(data) Matrix. data is not copied.
func RowVector[T Float](data []T) Matrix[T] {
	return Matrix[T]{Rows: 1, Cols: len(data), Data: data}
}

// At returns element (i, j).
func (m Matrix[T]) At(i, j int) T { return m.Data[i*m.Cols+j] }

// Row returns row i, sharing m's data.
func (m Matrix[T]) Row(i int) []T { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// Clone returns a copy of m that shares no data with it.
func (m Matrix[T]) Clone() Matrix[T] {
	return Matrix[T]{Rows: m.Rows, Cols: m.Cols, Data: append([]T(nil), m.Data...)}
}

// checkMatrix returns an error naming the argument if m's data does not
// match its shape or contains NaN or ±Inf.
func checkMatrix[T Float](name string, m Matrix[T]) error {
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("%w: %s has %d values for shape (%d, %d)", ErrShape, name, len(m.Data), m.Rows, m.Cols)
	}
	if k := firstNonFinite(m.Data); k >= 0 {
		return fmt.Errorf("%w: %s[%d, %d] is %v", ErrNotFinite, name, k/m.Cols, k%m.Cols, m.Data[k])
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or ±Inf in x, or −1.
// It tests the exponent bits, which are all ones for those values only, so
// that the loop stays a load, a mask and a compare per element. The views
// of every call are checked, so the check must cost little beside the
// work.
func firstNonFinite[T Float](x []T) int {
	switch x := any(x).(type) {
	case []float32:
		const exponent = 0x7f800000
		for k, v := range x {
			if math.Float32bits(v)&exponent == exponent {
				return k
			}
		}
	case []float64:
		const exponent = 0x7ff0000000000000
		for k, v := range x {
			if math.Float64bits(v)&exponent == exponent {
				return k
			}
		}
	}
	return -1
}

// checkParameter returns an error unless x is finite and ≥ 0.
func checkParameter(name string, x float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
		return fmt.Errorf("%w: %s is %v, must be finite and ≥ 0", ErrInvalidParameter, name, x)
	}
	return nil
}

// checkFinite returns an error naming the first NaN or ±Inf in a result,
// which an update produces when its parameters overflow the precision.
func checkFinite[T Float](name string, m Matrix[T]) error {
	if k := firstNonFinite(m.Data); k >= 0 {
		return fmt.Errorf("%w: %s[%d, %d] is %v: lr, decay or the activity is too large for %s", ErrNotFinite, name, k/m.Cols, k%m.Cols, m.Data[k], precisionName[T]())
	}
	return nil
}

// precisionName returns "float32" or "float64".
func precisionName[T Float]() string {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return "float32"
	}
	return "float64"
}
