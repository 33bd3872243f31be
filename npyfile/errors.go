package npyfile

import (
	"errors"
	"strings"
)

// Sentinel errors that Read, ReadFile and their wrapped errors match with
// errors.Is. The error messages themselves name the file and the value at
// fault.
var (
	// ErrFormat marks input that is not a .npy file or has a malformed
	// header, and data that continues past the end of the array.
	ErrFormat = errors.New("npyfile: invalid .npy file")

	// ErrTruncated marks a .npy file that ends before the header or the
	// data that the header describes is complete.
	ErrTruncated = errors.New("npyfile: truncated .npy file")

	// ErrDtype marks a well-formed .npy file whose element type cannot be
	// converted to floating point: complex, object, string, datetime and
	// structured dtypes, and floats wider than 8 bytes.
	ErrDtype = errors.New("npyfile: unsupported dtype")
)

// fileError is an error about one file. Its message is
// "npyfile: PATH: MESSAGE[: CAUSE]", without "PATH: " when the caller gave
// no path. It unwraps to its sentinel and its cause.
type fileError struct {
	path  string
	kind  error // ErrFormat, ErrTruncated, ErrDtype or nil
	msg   string
	cause error // an I/O error, or nil
}

func (e *fileError) Error() string {
	var b strings.Builder
	b.WriteString("npyfile: ")
	if e.path != "" {
		b.WriteString(e.path)
		b.WriteString(": ")
	}
	b.WriteString(e.msg)
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

func (e *fileError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}
