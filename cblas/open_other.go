//go:build !((linux || darwin || freebsd) && (amd64 || arm64))

package cblas

import "fmt"

// open fails: loading a library at run time is supported on Linux, macOS
// and FreeBSD, on amd64 and arm64.
func open(name string) (*Library, error) {
	return nil, fmt.Errorf("open %s: loading a CBLAS library is not supported on this platform", name)
}
