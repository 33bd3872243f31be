package ssl

import "errors"

// Errors that classify invalid input. Returned errors wrap one of these and
// name the argument and value at fault.
var (
	// ErrShape reports matrices whose shapes do not fit together.
	ErrShape = errors.New("ssl: invalid shape")

	// ErrNotFinite reports a NaN or ±Inf element.
	ErrNotFinite = errors.New("ssl: value is not finite")

	// ErrInvalidParameter reports a temperature, learning rate, decay or
	// threshold outside its range.
	ErrInvalidParameter = errors.New("ssl: invalid parameter")

	// ErrNoDevice reports that BackendOpenCL was requested and no OpenCL
	// device could be opened. The wrapped error gives the cause.
	ErrNoDevice = errors.New("ssl: no OpenCL device")
)
