// Package gputest opens OpenCL backends for tests. A test that needs a
// device skips, saying why, when none can be opened, and fails instead
// when the environment variable RequireEnv is "1", so that CI proves the
// device tests ran.
package gputest

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/spikessl/spikessl/gpu"
)

// RequireEnv is the environment variable that turns a missing OpenCL
// device from a skipped test into a failed one.
const RequireEnv = "SPIKESSL_REQUIRE_OPENCL"

// Required reports whether RequireEnv is set to "1".
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Open opens a backend with opt and closes it when the test ends. When no
// device can be opened it skips the test, or fails it if Required.
func Open(tb testing.TB, opt gpu.Options) *gpu.Backend {
	tb.Helper()
	b, err := gpu.Open(opt)
	if err != nil {
		NoDevice(tb, err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("closing the OpenCL backend: %v", err)
		}
	})
	return b
}

// NoDevice skips the test, whose device could not be opened for the
// reason err, or fails it if Required.
func NoDevice(tb testing.TB, err error) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s=1 but no OpenCL device could be opened: %v", RequireEnv, err)
	}
	tb.Skipf("no OpenCL device (set %s=1 to fail instead of skipping): %v", RequireEnv, err)
}

// Normal returns n samples of a standard normal distribution from a
// generator seeded with seed, so that every run uses the same data.
func Normal[T float32 | float64](seed uint64, n int) []T {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	x := make([]T, n)
	for i := range x {
		x[i] = T(r.NormFloat64())
	}
	return x
}

// Uniform returns n samples of the uniform distribution on [0, 1), like
// spike rates, from a generator seeded with seed.
func Uniform[T float32 | float64](seed uint64, n int) []T {
	r := rand.New(rand.NewPCG(seed, 0xa11))
	x := make([]T, n)
	for i := range x {
		x[i] = T(r.Float64())
	}
	return x
}

// RelativeError returns max_i |got_i − want_i| / max_i |want_i|, the
// norm-wise relative error, or the absolute error when want is all zero.
// Lengths that differ give +Inf.
func RelativeError[T, U float32 | float64](got []T, want []U) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var diff, scale float64
	for i := range got {
		diff = max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	if math.IsNaN(diff) {
		return math.Inf(1)
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// To64 returns x converted to float64.
func To64[T float32 | float64](x []T) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
