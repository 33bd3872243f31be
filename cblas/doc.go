// Package cblas loads a system CBLAS library at run time and offers its
// single- and double-precision matrix products (cblas_sgemm, cblas_dgemm) as
// gonum BLAS implementations.
//
// The library is opened with dlopen through github.com/ebitengine/purego, so
// the package builds with CGO_ENABLED=0 and needs no BLAS at build time.
// Load tries, in order, libopenblas.so.0, libcblas.so.3 and libblas.so.3
// (the Debian alternatives), or the path in the SPIKESSL_BLAS environment
// variable when it names a file. When no library can be opened, Load returns
// an error wrapping ErrNotFound and callers keep gonum's pure-Go BLAS.
//
// Only Sgemm and Dgemm call the library. Every other routine is gonum's,
// inherited from an embedded gonum.Implementation. Sgemm and Dgemm check
// their arguments as gonum does before any pointer reaches C, and panic
// with gonum's messages. A wrong leading dimension or a short slice
// therefore panics in Go instead of reading past the end of a slice in C.
//
// # Threads and kernels
//
// OpenBLAS starts its own thread pool. Load opens the library with
// OPENBLAS_NUM_THREADS=1 and sets the pool to one thread, because package
// cpu spreads row blocks of its products over goroutines, and two thread
// pools on the same cores slow each other down. SetThreads changes this
// for callers that make few large calls from one goroutine. Unless the
// caller set OPENBLAS_CORETYPE, Load also chooses OpenBLAS's kernels from
// the CPU's features. Both variables are restored after the library is
// opened, so child processes do not inherit them.
package cblas
