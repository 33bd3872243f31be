package gpu_test

import (
	"fmt"
	"testing"

	"github.com/spikessl/spikessl/cpu"
	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
)

// BenchmarkInfoNCE times the float32 loss and both gradients of 128-feature
// views on the CPU backend and on the OpenCL device, the comparison behind
// the minimum problem size at which BackendAuto uses a device.
func BenchmarkInfoNCE(b *testing.B) {
	const features = 128
	device := gputest.Open(b, gpu.Options{})
	backends := []struct {
		name string
		run  func(a, v []float32, batch int, gradA, gradB []float32) error
	}{
		{"cpu", func(a, v []float32, batch int, gradA, gradB []float32) error {
			_, err := cpu.Backend{}.InfoNCE32(a, v, batch, features, 0.5, false, gradA, gradB)
			return err
		}},
		{"opencl", func(a, v []float32, batch int, gradA, gradB []float32) error {
			_, err := device.InfoNCE32(a, v, batch, features, 0.5, false, gradA, gradB)
			return err
		}},
	}
	for _, backend := range backends {
		for _, batch := range []int{64, 256, 1024, 4096} {
			b.Run(fmt.Sprintf("backend=%s/batch=%d", backend.name, batch), func(b *testing.B) {
				n := batch * features
				a := gputest.Normal[float32](1, n)
				v := gputest.Normal[float32](2, n)
				gradA, gradB := make([]float32, n), make([]float32, n)
				// The first call builds the device's programs.
				if err := backend.run(a, v, batch, gradA, gradB); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if err := backend.run(a, v, batch, gradA, gradB); err != nil {
						b.Fatal(err)
					}
				}
				work := 4 * float64(batch) * float64(batch) * features
				b.ReportMetric(work*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}

// BenchmarkOuterUpdate times the float32 CSDP update of 256 × 256 weights.
func BenchmarkOuterUpdate(b *testing.B) {
	const neurons = 256
	device := gputest.Open(b, gpu.Options{})
	for _, name := range []string{"cpu", "opencl"} {
		for _, batch := range []int{64, 1024} {
			b.Run(fmt.Sprintf("backend=%s/batch=%d", name, batch), func(b *testing.B) {
				w := gputest.Normal[float32](1, neurons*neurons)
				post := gputest.Uniform[float32](2, batch*neurons)
				pre := gputest.Uniform[float32](3, batch*neurons)
				out := make([]float32, len(w))
				run := func() error {
					if name == "cpu" {
						return cpu.Backend{}.OuterUpdate32(w, neurons, neurons, post, pre, batch, nil, 0.01, 0.999, out)
					}
					return device.OuterUpdate32(w, neurons, neurons, post, pre, batch, nil, 0.01, 0.999, out)
				}
				if err := run(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if err := run(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
