package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkInfoNCE measures the loss (op=loss) and the loss with both
// gradients (op=grad) on random views, and the same for the symmetric loss
// (op=symloss, op=symgrad). GFLOP/s counts 2·batch²·features for each
// batch × batch product the one-directional operation needs at the least:
// one for the loss, three for the loss and gradients. cmd/gpubench uses the
// same names and count for loss and grad.
func BenchmarkInfoNCE(b *testing.B) {
	for _, precision := range []string{"float32", "float64"} {
		for _, op := range []string{"loss", "grad", "symloss", "symgrad"} {
			for _, batch := range []int{1024, 4096} {
				const features = 128
				name := fmt.Sprintf("op=%s/backend=cpu/batch=%d/features=%d/precision=%s", op, batch, features, precision)
				b.Run(name, func(b *testing.B) {
					if precision == "float32" {
						benchmarkInfoNCE[float32](b, op, batch, features)
					} else {
						benchmarkInfoNCE[float64](b, op, batch, features)
					}
				})
			}
		}
	}
}

func benchmarkInfoNCE[T Float](b *testing.B, op string, batch, features int) {
	rng := rand.New(rand.NewPCG(uint64(batch), uint64(features)))
	a := make([]T, batch*features)
	v := make([]T, batch*features)
	for i := range a {
		a[i] = T(rng.NormFloat64())
		v[i] = T(rng.NormFloat64())
	}
	var gradA, gradB []T
	products := 1.0
	if op == "grad" || op == "symgrad" {
		gradA = make([]T, len(a))
		gradB = make([]T, len(v))
		products = 3
	}
	opt := InfoNCEOptions{Temperature: 0.1, Symmetric: op == "symloss" || op == "symgrad"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InfoNCE(a, v, batch, features, opt, gradA, gradB); err != nil {
			b.Fatal(err)
		}
	}
	flops := products * 2 * float64(batch) * float64(batch) * float64(features)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
