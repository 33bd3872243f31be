// Package npyfile reads and writes NumPy .npy array files.
//
// # Reading
//
// ReadFile and Read accept format versions 1.0, 2.0 and 3.0 and convert the
// elements to float32 or float64, in C (row-major) order:
//
//   - dtypes: float16, float32 and float64; signed and unsigned integers of
//     1, 2, 4 and 8 bytes; bool, which becomes 0 or 1;
//   - byte orders: '<' little-endian, '>' and '!' big-endian, and '=' and
//     '|', which NumPy reads as the reading machine's order;
//   - Fortran (column-major) order of any rank, transposed into C order;
//   - 0-d arrays, with an empty Shape and one element, and arrays with a
//     zero dimension, with no elements.
//
// Complex, object, string, datetime, timedelta, void and structured dtypes
// and floats wider than 8 bytes return ErrDtype. The header must end with a
// newline, as the format specifies, and the file must end where the array
// data ends: trailing bytes return ErrFormat.
//
// The header is untrusted input, so the reader checks it before it
// allocates memory for the data:
//
//   - the magic string and the version;
//   - the header length, against the file size and a 1 MiB limit;
//   - the shape, for negative dimensions and overflow;
//   - the byte count that the shape and dtype imply, against the bytes left
//     in the file.
//
// When the size is unknown, as for a pipe, the data is read in chunks
// of up to 64 KiB and memory grows with the bytes actually delivered.
//
// The reader does not use npyio (codeberg.org/sbinet/npyio) because npyio
// v0.14.0 allocates its result from the header's shape before it reads any
// data, reads only versions 1 and 2, and reports a short file as a bare
// io.EOF. The tests use npyio as an independent implementation to
// cross-check files in both directions.
//
// # Writing
//
// WriteFile and Write write little-endian '<f4' or '<f8' arrays in C order
// with the header layout of NumPy 1.24: version 1.0 when the header fits in
// 65535 bytes, padded so that the data starts at a multiple of 64 bytes.
// WriteFile replaces its target atomically.
//
// # Errors
//
// Errors name the file, when there is one, and the value at fault, and
// match ErrFormat, ErrTruncated or ErrDtype with errors.Is, or the I/O
// error that caused them.
package npyfile
