package ssl_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikessl/spikessl/ssl"
)

func randomMatrix(rng *rand.Rand, rows, cols int) ssl.Matrix[float64] {
	m := ssl.Matrix[float64]{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
	for i := range m.Data {
		m.Data[i] = rng.Float64()
	}
	return m
}

// TestCSDPModulatedDefinition checks the goodness-modulated rule against
// its definition computed sample by sample.
func TestCSDPModulatedDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const nPost, nPre = 5, 7
	rule := ssl.CSDP{LR: 0.05, Decay: 0.01, Threshold: 1.5}
	weights := randomMatrix(rng, nPost, nPre)
	pos := ssl.Phase[float64]{Pre: randomMatrix(rng, 4, nPre), Post: randomMatrix(rng, 4, nPost)}
	neg := ssl.Phase[float64]{Pre: randomMatrix(rng, 3, nPre), Post: randomMatrix(rng, 3, nPost)}

	want := make([]float64, nPost*nPre)
	for i, w := range weights.Data {
		want[i] = w - rule.Decay*w
	}
	n := float64(pos.Pre.Rows + neg.Pre.Rows)
	for _, phase := range []struct {
		ssl.Phase[float64]
		label float64
	}{{pos, 1}, {neg, 0}} {
		for s := range phase.Pre.Rows {
			z := phase.Post.Row(s)
			var g float64
			for _, x := range z {
				g += x * x
			}
			p := 1 / (1 + math.Exp(-(g - rule.Threshold)))
			for i := range nPost {
				for j := range nPre {
					want[i*nPre+j] -= rule.LR / n * (p - phase.label) * 2 * z[i] * phase.Pre.At(s, j)
				}
			}
		}
	}

	got, err := ssl.CSDPModulated(cpuEngine(t), rule, weights, pos, neg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(got.Weights.Data[i]-want[i]) > 1e-14 {
			t.Fatalf("weights[%d] = %.17g, want %.17g", i, got.Weights.Data[i], want[i])
		}
	}
}

// TestCSDPModulatedSaturated checks a real sample whose goodness is far
// above the threshold: its update is scaled by σ(g − θ) − 1 = −σ(θ − g),
// about −e^−d for d = g − θ, which forming σ(g − θ) − 1 loses to rounding.
func TestCSDPModulatedSaturated(t *testing.T) {
	rule := ssl.CSDP{LR: 0.01, Threshold: 0}
	weights := ssl.Matrix[float64]{Rows: 1, Cols: 1, Data: []float64{0}}
	for _, d := range []float64{10, 20, 37, 100} {
		post := math.Sqrt(d)
		pos := ssl.Phase[float64]{
			Pre:  ssl.Matrix[float64]{Rows: 1, Cols: 1, Data: []float64{1}},
			Post: ssl.Matrix[float64]{Rows: 1, Cols: 1, Data: []float64{post}},
		}
		none := ssl.Phase[float64]{Pre: ssl.Matrix[float64]{Cols: 1}, Post: ssl.Matrix[float64]{Cols: 1}}
		got, err := ssl.CSDPModulated(cpuEngine(t), rule, weights, pos, none)
		if err != nil {
			t.Fatal(err)
		}
		// dW = −2·lr·(σ(d) − 1)·post·pre over one sample = 2·lr·σ(−d)·post.
		want := 2 * rule.LR * post / (1 + math.Exp(d))
		if r := math.Abs(got.Weights.Data[0]-want) / want; r > 1e-14 {
			t.Errorf("goodness %v above the threshold: weight %.17g, want %.17g (relative error %.3g)", d, got.Weights.Data[0], want, r)
		}
	}
}

// TestCSDPModulatedReducesLoss checks that a small modulated step lowers
// the logistic loss of telling real from corrupted samples by goodness when
// the post-synaptic activity is the linear response W·pre.
func TestCSDPModulatedReducesLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const nPost, nPre, batch = 6, 10, 32
	rule := ssl.CSDP{LR: 0.01, Threshold: 2}
	weights := randomMatrix(rng, nPost, nPre)
	for i := range weights.Data {
		weights.Data[i] = 0.2 * (weights.Data[i] - 0.5)
	}
	real := randomMatrix(rng, batch, nPre)
	fake := randomMatrix(rng, batch, nPre)
	for i := range fake.Data {
		fake.Data[i] *= 0.5
	}
	response := func(w, pre ssl.Matrix[float64]) ssl.Matrix[float64] {
		out := ssl.Matrix[float64]{Rows: pre.Rows, Cols: nPost, Data: make([]float64, pre.Rows*nPost)}
		for s := range pre.Rows {
			for i := range nPost {
				var z float64
				for j := range nPre {
					z += w.At(i, j) * pre.At(s, j)
				}
				out.Data[s*nPost+i] = z
			}
		}
		return out
	}
	loss := func(w ssl.Matrix[float64]) float64 {
		var sum float64
		for _, phase := range []struct {
			pre   ssl.Matrix[float64]
			label float64
		}{{real, 1}, {fake, 0}} {
			z := response(w, phase.pre)
			for s := range z.Rows {
				var g float64
				for _, x := range z.Row(s) {
					g += x * x
				}
				p := 1 / (1 + math.Exp(-(g - rule.Threshold)))
				sum -= phase.label*math.Log(p) + (1-phase.label)*math.Log(1-p)
			}
		}
		return sum
	}

	before := loss(weights)
	w := weights
	for range 20 {
		pos := ssl.Phase[float64]{Pre: real, Post: response(w, real)}
		neg := ssl.Phase[float64]{Pre: fake, Post: response(w, fake)}
		got, err := ssl.CSDPModulated(cpuEngine(t), rule, w, pos, neg)
		if err != nil {
			t.Fatal(err)
		}
		w = got.Weights
	}
	if after := loss(w); !(after < before) {
		t.Errorf("loss went from %v to %v, want lower", before, after)
	}
}

func TestGoodnessPerRow(t *testing.T) {
	x := ssl.Matrix[float32]{Rows: 2, Cols: 3, Data: []float32{1, 2, 3, 0, -1, 0.5}}
	got, err := ssl.Goodness(cpuEngine(t), x)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{14, 1.25}
	for i := range want {
		if got.PerRow[i] != want[i] {
			t.Errorf("row %d goodness = %v, want %v", i, got.PerRow[i], want[i])
		}
	}
	if got.Total != 15.25 {
		t.Errorf("total goodness = %v, want 15.25", got.Total)
	}
}
