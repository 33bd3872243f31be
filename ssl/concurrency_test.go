package ssl_test

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/spikessl/spikessl/ssl"
)

// TestEngineConcurrentUse runs one loss from several goroutines on one
// engine and on the default engine and checks every result is identical.
func TestEngineConcurrentUse(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	a := randomMatrix(rng, 200, 24)
	b := randomMatrix(rng, 200, 24)
	opt := ssl.InfoNCEOptions{Temperature: 0.1, Symmetric: true}
	for _, e := range []*ssl.Engine{cpuEngine(t), nil} {
		want, err := ssl.InfoNCEGrad(e, a, b, opt)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]ssl.LossResult[float64], 6)
		for i := range results {
			wg.Go(func() {
				results[i], _ = ssl.InfoNCEGrad(e, a, b, opt)
			})
		}
		wg.Wait()
		for i, got := range results {
			if got.Loss != want.Loss {
				t.Errorf("goroutine %d: loss %v, want %v", i, got.Loss, want.Loss)
			}
			for k := range want.GradA.Data {
				if got.GradA.Data[k] != want.GradA.Data[k] || got.GradB.Data[k] != want.GradB.Data[k] {
					t.Fatalf("goroutine %d: gradient %d differs", i, k)
				}
			}
		}
	}
}
