//go:build !amd64 || purego

package main

// fmaLoops returns no loop: the peak is measured on amd64 only.
func fmaLoops() []fmaLoop { return nil }
