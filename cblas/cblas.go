package cblas

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// ErrNotFound is returned when no CBLAS library can be opened.
var ErrNotFound = errors.New("cblas: no CBLAS library found")

// EnvVar is the environment variable that overrides the library choice:
// "gonum" or "none" keeps gonum's pure-Go BLAS, and a path opens that file.
const EnvVar = "SPIKESSL_BLAS"

// CoreTypeEnvVar is the environment variable that selects the kernels of
// an OpenBLAS built with DYNAMIC_ARCH, read once when the library loads.
const CoreTypeEnvVar = "OPENBLAS_CORETYPE"

// threadsEnvVar sets the size of OpenBLAS's thread pool when it loads.
const threadsEnvVar = "OPENBLAS_NUM_THREADS"

// DefaultLibraries are the file names that Load tries, in order, when
// SPIKESSL_BLAS does not name a file.
//
// BUG(spikessl): DefaultLibraries names Linux files only, and loading was
// tested on Linux only: on macOS, set SPIKESSL_BLAS to the library's path.
var DefaultLibraries = []string{"libopenblas.so.0", "libcblas.so.3", "libblas.so.3"}

// CBLAS enumeration values from cblas.h.
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// Library is an opened CBLAS library. Its methods are safe for concurrent
// use.
type Library struct {
	path   string
	config string
	// coreType is OPENBLAS_CORETYPE when the library was loaded.
	coreType string
	sgemm    func(order, transA, transB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	dgemm    func(order, transA, transB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)

	// setThreads and getThreads are nil unless the library is OpenBLAS.
	setThreads func(n int32)
	getThreads func() int32
}

// CoreType returns the value of OPENBLAS_CORETYPE when the library was
// loaded: the caller's setting, or the kernel family Load chose from the
// CPU's features ("SkylakeX", "Haswell"), or "" when neither applied.
func (l *Library) CoreType() string { return l.coreType }

// Path returns the file name or path the library was opened with.
func (l *Library) Path() string { return l.path }

// String describes the library, for example
// "OpenBLAS 0.3.21 NO_AFFINITY Haswell MAX_THREADS=64 (libopenblas.so.0, 1 thread)".
func (l *Library) String() string {
	name := l.config
	if name == "" {
		name = "CBLAS"
	}
	if l.getThreads == nil {
		return fmt.Sprintf("%s (%s)", name, l.path)
	}
	threads := l.Threads()
	unit := "threads"
	if threads == 1 {
		unit = "thread"
	}
	return fmt.Sprintf("%s (%s, %d %s)", name, l.path, threads, unit)
}

// Threads returns the size of the library's thread pool, or 0 when the
// library does not report it.
func (l *Library) Threads() int {
	if l.getThreads == nil {
		return 0
	}
	return int(l.getThreads())
}

// SetThreads sets the size of the library's thread pool. It returns an
// error when n < 1 or the library offers no way to set it.
func (l *Library) SetThreads(n int) error {
	if n < 1 {
		return fmt.Errorf("cblas: thread count %d is invalid: must be at least 1", n)
	}
	if l.setThreads == nil {
		return fmt.Errorf("cblas: %s does not export openblas_set_num_threads", l.path)
	}
	l.setThreads(int32(n))
	return nil
}

// Float32 returns a blas.Float32 whose Sgemm calls the library.
func (l *Library) Float32() Implementation { return Implementation{lib: l} }

// Float64 returns a blas.Float64 whose Dgemm calls the library.
func (l *Library) Float64() Implementation { return Implementation{lib: l} }

// Load opens a CBLAS library: the file named by SPIKESSL_BLAS when it is a
// path, else the first of DefaultLibraries that opens and exports
// cblas_sgemm and cblas_dgemm. An OpenBLAS thread pool is set to one
// thread. Load returns an error wrapping ErrNotFound when SPIKESSL_BLAS is
// "gonum" or "none", or when no library opens; the error lists each
// failure.
func Load() (*Library, error) {
	names := DefaultLibraries
	switch env := strings.TrimSpace(os.Getenv(EnvVar)); strings.ToLower(env) {
	case "", "auto":
	case "gonum", "none":
		return nil, fmt.Errorf("%w: %s=%s selects gonum's pure-Go BLAS", ErrNotFound, EnvVar, env)
	default:
		names = []string{env}
	}

	// OpenBLAS reads these variables when it is loaded, and they are
	// restored afterwards so that child processes do not inherit them.
	// Version 0.3.21 falls back to its Prescott (SSE3) kernels on CPU
	// models it does not know, several times slower than the AVX-512 ones,
	// so the kernels are chosen from the CPU's features unless the caller
	// set OPENBLAS_CORETYPE. A pool of one thread keeps OpenBLAS from
	// starting worker threads, which otherwise poll for work and took 13%
	// of the CPU time of InfoNCE's loss on a 2-core machine.
	restore := setEnvUnlessSet(map[string]string{CoreTypeEnvVar: coreType(), threadsEnvVar: "1"})
	defer restore()

	var failures []string
	for _, name := range names {
		lib, err := open(name)
		if err == nil {
			lib.coreType = os.Getenv(CoreTypeEnvVar)
			if lib.setThreads != nil {
				lib.setThreads(1)
			}
			return lib, nil
		}
		failures = append(failures, err.Error())
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, strings.Join(failures, "; "))
}

var (
	installOnce sync.Once
	installed   *Library
	installErr  error
)

// Install loads a library with Load, once per process, and installs it with
// blas32.Use and blas64.Use. Later calls return the result of the first.
// On error, gonum's BLAS stays installed.
func Install() (*Library, error) {
	installOnce.Do(func() {
		installed, installErr = Load()
		if installErr != nil {
			return
		}
		blas32.Use(installed.Float32())
		blas64.Use(installed.Float64())
	})
	return installed, installErr
}

// Implementation is a gonum BLAS whose Sgemm and Dgemm call a CBLAS
// library; every other routine is gonum's pure-Go one.
type Implementation struct {
	gonum.Implementation
	lib *Library
}

var (
	_ blas.Float32 = Implementation{}
	_ blas.Float64 = Implementation{}
)

// String describes the library, as Library.String does.
func (impl Implementation) String() string { return impl.lib.String() }

// Library returns the library that Sgemm and Dgemm call.
func (impl Implementation) Library() *Library { return impl.lib }

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(X) is X or Xᵀ. It panics with gonum's messages on
// invalid arguments.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	if alpha == 0 || k == 0 {
		// Nothing of A or B is read: gonum scales C without touching them,
		// and the empty slices it may be given have no element to point at.
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	impl.lib.sgemm(cblasRowMajor, cblasTranspose(tA), cblasTranspose(tB), int32(m), int32(n), int32(k),
		alpha, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
}

// Dgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float64
// matrices, where op(X) is X or Xᵀ. It panics with gonum's messages on
// invalid arguments.
func (impl Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	if alpha == 0 || k == 0 {
		impl.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	impl.lib.dgemm(cblasRowMajor, cblasTranspose(tA), cblasTranspose(tB), int32(m), int32(n), int32(k),
		alpha, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
}

func cblasTranspose(t blas.Transpose) int32 {
	if t == blas.NoTrans {
		return cblasNoTrans
	}
	// ConjTrans is Trans for real matrices.
	return cblasTrans
}

// setEnvUnlessSet sets each variable of values that is unset and has a
// non-empty value, and returns a function that unsets them again.
func setEnvUnlessSet(values map[string]string) (restore func()) {
	var set []string
	for name, value := range values {
		if _, ok := os.LookupEnv(name); ok || value == "" {
			continue
		}
		if os.Setenv(name, value) == nil {
			set = append(set, name)
		}
	}
	return func() {
		for _, name := range set {
			_ = os.Unsetenv(name)
		}
	}
}
