//go:build !amd64

package cblas

// coreType returns "": OpenBLAS's own detection is kept on this
// architecture.
func coreType() string { return "" }
