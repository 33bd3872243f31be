package gpu

import (
	"errors"
	"fmt"
)

// Errors that explain why no device could be opened. Open and Devices return
// errors that wrap one of them.
var (
	// ErrNoLibrary reports that the OpenCL ICD loader (libOpenCL) could
	// not be loaded.
	ErrNoLibrary = errors.New("gpu: OpenCL library not found")

	// ErrNoPlatform reports that the OpenCL library found no platform,
	// which means no vendor driver (ICD) is installed or registered.
	ErrNoPlatform = errors.New("gpu: no OpenCL platform")

	// ErrNoDevice reports that no usable OpenCL device exists, or none
	// matches the requested selection.
	ErrNoDevice = errors.New("gpu: no OpenCL device")

	// ErrTooLarge reports a problem whose buffers exceed the device's
	// maximum allocation or global memory and cannot be split.
	ErrTooLarge = errors.New("gpu: problem too large for the device")

	// ErrUnsupported reports an operation the device cannot run, such as
	// float64 on a device without cl_khr_fp64.
	ErrUnsupported = errors.New("gpu: operation not supported by the device")

	// ErrClosed reports a call on a Backend after Close.
	ErrClosed = errors.New("gpu: backend is closed")
)

// CallError is a failed OpenCL call: the function's name and the status
// it returned.
type CallError struct {
	// Call is the OpenCL function, such as "clBuildProgram".
	Call string
	// Status is the cl_int status code, such as -5 for CL_OUT_OF_RESOURCES.
	Status int32
}

func (e *CallError) Error() string {
	return fmt.Sprintf("gpu: %s failed: %s (%d)", e.Call, StatusName(e.Status), e.Status)
}

// check returns a *CallError for a status other than CL_SUCCESS.
func check(call string, status int32) error {
	if status == clSuccess {
		return nil
	}
	return &CallError{Call: call, Status: status}
}

// BuildError is a program that failed to compile for a device. It carries
// the compiler's whole build log.
type BuildError struct {
	// Program names the kernel source, such as "infonce".
	Program string
	// Options are the build options passed to clBuildProgram.
	Options string
	// Device is the device's name.
	Device string
	// Log is the build log that clGetProgramBuildInfo returned.
	Log string
	// Err is the failed clBuildProgram call.
	Err error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("gpu: building OpenCL program %q for %s with options %q: %v; build log:\n%s",
		e.Program, e.Device, e.Options, e.Err, e.Log)
}

// Unwrap returns the failed call.
func (e *BuildError) Unwrap() error { return e.Err }
