//go:build !linux

package main

// resetPeakRSS does nothing: only Linux can reset the peak.
func resetPeakRSS() {}

// peakRSS returns 0: the peak resident set is read on Linux only.
func peakRSS() int64 { return 0 }
