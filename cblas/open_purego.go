//go:build (linux || darwin) && (amd64 || arm64)

package cblas

import (
	"fmt"
	"strings"

	"github.com/ebitengine/purego"
)

// open opens name with dlopen and binds its gemm routines. The handle is
// never closed: the routines stay installed for the life of the process.
func open(name string) (*Library, error) {
	handle, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	lib := &Library{path: name}
	for _, symbol := range [...]string{"cblas_sgemm", "cblas_dgemm"} {
		if _, err := purego.Dlsym(handle, symbol); err != nil {
			purego.Dlclose(handle)
			return nil, fmt.Errorf("%s has no %s: %w", name, symbol, err)
		}
	}
	purego.RegisterLibFunc(&lib.sgemm, handle, "cblas_sgemm")
	purego.RegisterLibFunc(&lib.dgemm, handle, "cblas_dgemm")

	// OpenBLAS extensions: optional, absent from the reference BLAS.
	if _, err := purego.Dlsym(handle, "openblas_set_num_threads"); err == nil {
		purego.RegisterLibFunc(&lib.setThreads, handle, "openblas_set_num_threads")
	}
	if _, err := purego.Dlsym(handle, "openblas_get_num_threads"); err == nil {
		purego.RegisterLibFunc(&lib.getThreads, handle, "openblas_get_num_threads")
	}
	if _, err := purego.Dlsym(handle, "openblas_get_config"); err == nil {
		var config func() string
		purego.RegisterLibFunc(&config, handle, "openblas_get_config")
		lib.config = strings.TrimSpace(config())
	}
	return lib, nil
}
