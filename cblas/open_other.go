//go:build !((linux || darwin) && (amd64 || arm64))

package cblas

import "fmt"

// open fails: loading a library at run time is supported on Linux and
// macOS, on amd64 and arm64. purego can load one on FreeBSD only with cgo,
// so FreeBSD keeps gonum's BLAS too.
func open(name string) (*Library, error) {
	return nil, fmt.Errorf("open %s: loading a CBLAS library is not supported on this platform", name)
}
