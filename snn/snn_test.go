package snn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spikessl/spikessl/ssl"
)

func cpuEngine(t *testing.T) *ssl.Engine {
	t.Helper()
	e, err := ssl.New(ssl.Options{Backend: ssl.BackendCPU})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// spikeCounts returns the number of spikes of each pixel.
func spikeCounts(tr Train, pixels int) []int {
	counts := make([]int, pixels)
	for _, p := range tr.Index {
		counts[p]++
	}
	return counts
}

func checkTrain(t *testing.T, tr Train, steps, pixels int) {
	t.Helper()
	if tr.Steps() != steps || tr.Offsets[0] != 0 || int(tr.Offsets[steps]) != len(tr.Index) {
		t.Fatalf("train has %d steps and offsets %d..%d for %d spikes, want %d steps", tr.Steps(), tr.Offsets[0], tr.Offsets[len(tr.Offsets)-1], len(tr.Index), steps)
	}
	for s := range steps {
		at := tr.At(s)
		for k, p := range at {
			if int(p) >= pixels || (k > 0 && at[k-1] >= p) {
				t.Fatalf("step %d: pixels %v are not increasing and below %d", s, at, pixels)
			}
		}
	}
}

func TestEncodeRateCode(t *testing.T) {
	img := []uint8{0, 51, 128, 255, 0, 0}
	const steps = 4000
	tr := Encode(img, 2, 3, steps, nil, Stream(1, 1, 0, 0))
	checkTrain(t, tr, steps, 6)
	counts := spikeCounts(tr, 6)
	for p, v := range img {
		q := float64(v) / 255
		rate := float64(counts[p]) / steps
		// Four standard deviations of a binomial proportion.
		if tol := 4*math.Sqrt(q*(1-q)/steps) + 1e-9; math.Abs(rate-q) > tol {
			t.Errorf("pixel %d of intensity %.3f spikes at rate %.4f", p, q, rate)
		}
	}
}

func TestEncodeSeeded(t *testing.T) {
	img := make([]uint8, 28*28)
	for i := range img {
		img[i] = uint8(i * 13)
	}
	aug := DefaultAugment()
	a := Encode(img, 28, 28, 8, &aug, Stream(3, 2, 1, 5))
	b := Encode(img, 28, 28, 8, &aug, Stream(3, 2, 1, 5))
	c := Encode(img, 28, 28, 8, &aug, Stream(3, 2, 1, 6))
	checkTrain(t, a, 8, 28*28)
	if !slices.Equal(a.Index, b.Index) || !slices.Equal(a.Offsets, b.Offsets) {
		t.Error("the same stream gave two different trains")
	}
	if slices.Equal(a.Index, c.Index) {
		t.Error("two streams gave the same train")
	}
}

func TestEncodeAugmentations(t *testing.T) {
	const rows, cols, steps = 9, 9, 2000
	img := make([]uint8, rows*cols)
	img[4*cols+4] = 255 // one full-intensity pixel in the centre
	tests := []struct {
		name  string
		aug   Augment
		check func(t *testing.T, counts []int)
	}{
		{"dropout", Augment{Dropout: 0.25}, func(t *testing.T, counts []int) {
			if rate := float64(counts[4*cols+4]) / steps; math.Abs(rate-0.75) > 0.04 {
				t.Errorf("centre spikes at rate %.3f, want 0.75", rate)
			}
		}},
		{"noise", Augment{Noise: 0.05}, func(t *testing.T, counts []int) {
			var background int
			for p, c := range counts {
				if p != 4*cols+4 {
					background += c
				}
			}
			if rate := float64(background) / float64(steps*(rows*cols-1)); math.Abs(rate-0.05) > 0.005 {
				t.Errorf("background spikes at rate %.4f, want 0.05", rate)
			}
			if counts[4*cols+4] != steps {
				t.Errorf("centre spiked %d times, want %d", counts[4*cols+4], steps)
			}
		}},
		{"jitter", Augment{Jitter: 0.5}, func(t *testing.T, counts []int) {
			// The centre spikes at every step, and spikes that move onto
			// an occupied step merge: a step stays silent only when its
			// own spike leaves (½) and neither neighbour's arrives (¾²),
			// so the rate is 1 − ½·¾² = 0.71875.
			if rate := float64(counts[4*cols+4]) / steps; math.Abs(rate-0.71875) > 0.04 {
				t.Errorf("centre spikes at rate %.4f, want 0.71875", rate)
			}
			for p, c := range counts {
				if c > 0 && p != 4*cols+4 {
					t.Errorf("pixel %d spiked %d times, only the centre should", p, c)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := Encode(img, rows, cols, steps, &tt.aug, Stream(1, 1, 0, 0))
			checkTrain(t, tr, steps, rows*cols)
			tt.check(t, spikeCounts(tr, rows*cols))
		})
	}

	t.Run("shift", func(t *testing.T) {
		seen := map[int]bool{}
		for i := range 200 {
			aug := Augment{Shift: 2}
			tr := Encode(img, rows, cols, 3, &aug, Stream(1, 1, 0, i))
			counts := spikeCounts(tr, rows*cols)
			lit := -1
			for p, c := range counts {
				if c > 0 {
					if lit >= 0 {
						t.Fatalf("two pixels spike after a shift: %d and %d", lit, p)
					}
					lit = p
				}
			}
			r, c := lit/cols, lit%cols
			if r < 2 || r > 6 || c < 2 || c > 6 {
				t.Fatalf("the centre moved to (%d, %d), more than 2 pixels", r, c)
			}
			seen[lit] = true
		}
		if len(seen) != 25 {
			t.Errorf("%d of the 25 shifts seen in 200 draws", len(seen))
		}
	})
}

func TestAugmentCheck(t *testing.T) {
	for _, a := range []Augment{{Shift: -1}, {Shift: 9}, {Dropout: 1.5}, {Jitter: -0.1}, {Noise: math.NaN()}} {
		if err := a.Check(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: error %v, want ErrConfig", a, err)
		}
	}
	if err := DefaultAugment().Check(); err != nil {
		t.Errorf("default augmentation: %v", err)
	}
}

// tinyEncoder returns an encoder of 3 inputs and 2 neurons with fixed
// weights, and a train of 3 steps.
func tinyEncoder(t *testing.T) (*Encoder, Train) {
	t.Helper()
	e, err := NewEncoder(Layer{Inputs: 3, Hidden: 2, Steps: 3, Beta: 0.5, Threshold: 1, Slope: 2, InitStd: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// W[p][h]: input 0 drives neuron 0 strongly, input 1 drives both
	// weakly, input 2 inhibits neuron 1.
	e.W = []float32{1.5, 0, 0.6, 0.6, 0, -0.4}
	e.Bias = []float32{0, 0.1}
	// Step 0: inputs 0, 1; step 1: input 1; step 2: inputs 1, 2.
	tr := Train{Offsets: []int32{0, 2, 3, 5}, Index: []int32{0, 1, 1, 1, 2}}
	return e, tr
}

func TestRatesMatchHandSimulation(t *testing.T) {
	e, tr := tinyEncoder(t)
	// Neuron 0: u0 = 2.1 → spike, v = 1.1; u1 = 0.55 + 0.6 = 1.15 →
	// spike, v = 0.15; u2 = 0.075 + 0.6 = 0.675, no spike. Rate 2/3.
	// Neuron 1: u0 = 0.7; u1 = 0.35 + 0.7 = 1.05 → spike, v = 0.05;
	// u2 = 0.025 + 0.1 + 0.6 − 0.4 = 0.325. Rate 1/3.
	out := make([]float32, 2)
	var tc trace
	e.Rates([]Train{tr}, out, &tc)
	if math.Abs(float64(out[0])-2.0/3) > 1e-6 || math.Abs(float64(out[1])-1.0/3) > 1e-6 {
		t.Errorf("rates %v, want [2/3 1/3]", out)
	}
	wantU := []float64{2.1, 0.7, 1.15, 1.05, 0.675, 0.325}
	for k, u := range tc.u {
		if math.Abs(float64(u)-wantU[k]) > 1e-5 {
			t.Errorf("potential %d is %v, want %v", k, u, wantU[k])
		}
	}
}

func TestBackwardMatchesRecursion(t *testing.T) {
	e, tr := tinyEncoder(t)
	out := make([]float32, 2)
	var tc trace
	e.Rates([]Train{tr}, out, &tc)
	gradRates := []float32{0.3, -1.2}
	gradW := make([]float32, 6)
	gradBias := make([]float32, 2)
	e.Backward([]Train{tr}, &tc, gradRates, gradW, gradBias)

	// gu_t = g/T·σ'(u_t − θ) + β·gu_{t+1} with σ'(x) = 1/(1 + 2|x|)².
	surrogate := func(u float64) float64 { d := 1 + 2*math.Abs(u-1); return 1 / (d * d) }
	wantW := make([]float64, 6)
	wantBias := make([]float64, 2)
	for h := range 2 {
		gu := make([]float64, 3)
		for s := 2; s >= 0; s-- {
			gu[s] = float64(gradRates[h]) / 3 * surrogate(float64(tc.u[s*2+h]))
			if s < 2 {
				gu[s] += 0.5 * gu[s+1]
			}
		}
		for s := range 3 {
			wantBias[h] += gu[s]
			for _, p := range tr.At(s) {
				wantW[int(p)*2+h] += gu[s]
			}
		}
	}
	for k := range gradW {
		if math.Abs(float64(gradW[k])-wantW[k]) > 1e-6 {
			t.Errorf("gradW[%d] = %v, want %v", k, gradW[k], wantW[k])
		}
	}
	for h := range gradBias {
		if math.Abs(float64(gradBias[h])-wantBias[h]) > 1e-6 {
			t.Errorf("gradBias[%d] = %v, want %v", h, gradBias[h], wantBias[h])
		}
	}
}

func TestWeightsPostPreRoundTrip(t *testing.T) {
	e, _ := tinyEncoder(t)
	w := e.WeightsPostPre()
	if want := []float32{1.5, 0.6, 0, 0, 0.6, -0.4}; !slices.Equal(w, want) {
		t.Errorf("WeightsPostPre = %v, want %v", w, want)
	}
	c := e.Clone()
	c.SetWeightsPostPre(w)
	if !slices.Equal(c.W, e.W) {
		t.Errorf("SetWeightsPostPre(WeightsPostPre()) = %v, want %v", c.W, e.W)
	}
}

// syntheticImages returns n images of 28 × 28 pixels: digit-like strokes
// of 10 classes, a bar whose angle and place depend on the class, with
// noise.
func syntheticImages(n int) Images {
	rng := rand.New(rand.NewPCG(9, 9))
	im := Images{Pixels: make([]uint8, n*784), N: n, Rows: 28, Cols: 28}
	for i := range n {
		class := i % 10
		img := im.image(i)
		angle := float64(class) * math.Pi / 10
		cx, cy := 14+rng.NormFloat64(), 14+rng.NormFloat64()
		for s := -9.0; s <= 9; s += 0.5 {
			x, y := int(cx+s*math.Cos(angle)), int(cy+s*math.Sin(angle))
			if x >= 0 && x < 28 && y >= 0 && y < 28 {
				img[y*28+x] = uint8(180 + rng.IntN(76))
			}
		}
	}
	return im
}

func smallConfig(method Method) Config {
	c := DefaultConfig(method)
	c.SetHidden(48)
	c.Layer.Steps = 4
	c.Batch = 32
	c.HeadDim = 16
	c.HeadHidden = 24
	c.Seed = 7
	return c
}

func TestTrainerReproducible(t *testing.T) {
	images := syntheticImages(96)
	for _, method := range []Method{InfoNCE, CSDP, CSDPPlain} {
		t.Run(string(method), func(t *testing.T) {
			var weights [][]float32
			for range 2 {
				tr, err := NewTrainer(smallConfig(method), cpuEngine(t))
				if err != nil {
					t.Fatal(err)
				}
				if err := tr.TrainEpoch(context.Background(), images, nil); err != nil {
					t.Fatal(err)
				}
				weights = append(weights, tr.Encoder.W)
				if len(tr.Losses) != 1 || math.IsNaN(tr.Losses[0]) {
					t.Fatalf("losses %v, want one number", tr.Losses)
				}
				if tr.Backend != "cpu" {
					t.Errorf("backend %q, want cpu", tr.Backend)
				}
			}
			if !slices.Equal(weights[0], weights[1]) {
				t.Error("two runs with the same seed differ")
			}
			initial, _ := NewEncoder(smallConfig(method).Layer, 7)
			if slices.Equal(weights[0], initial.W) {
				t.Error("training did not change the weights")
			}
		})
	}
}

func TestResumeEqualsUninterrupted(t *testing.T) {
	images := syntheticImages(100) // 3 full batches and a partial one
	for _, method := range []Method{InfoNCE, CSDP} {
		t.Run(string(method), func(t *testing.T) {
			straight, err := NewTrainer(smallConfig(method), cpuEngine(t))
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := straight.TrainEpoch(context.Background(), images, nil); err != nil {
					t.Fatal(err)
				}
			}

			// Interrupt in the middle of the second epoch, save, load and
			// finish.
			tr, err := NewTrainer(smallConfig(method), cpuEngine(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.TrainEpoch(context.Background(), images, nil); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			batches := 0
			err = tr.TrainEpoch(ctx, images, func() {
				if batches++; batches == 2 {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			if tr.Epoch != 1 || tr.Batch != 2 {
				t.Fatalf("stopped at epoch %d, batch %d, want 1, 2", tr.Epoch, tr.Batch)
			}
			path := filepath.Join(t.TempDir(), "checkpoint.gob")
			if err := tr.Save(path, map[string]float64{"seconds": 12.5}); err != nil {
				t.Fatal(err)
			}
			resumed, extra, err := LoadTrainer(path, cpuEngine(t))
			if err != nil {
				t.Fatal(err)
			}
			if extra["seconds"] != 12.5 {
				t.Errorf("extra values %v, want seconds 12.5", extra)
			}
			if err := resumed.TrainEpoch(context.Background(), images, nil); err != nil {
				t.Fatal(err)
			}

			if !slices.Equal(resumed.Encoder.W, straight.Encoder.W) || !slices.Equal(resumed.Encoder.Bias, straight.Encoder.Bias) {
				t.Error("the resumed encoder differs from the uninterrupted one")
			}
			if !slices.Equal(resumed.Losses, straight.Losses) {
				t.Errorf("losses %v after resuming, %v uninterrupted", resumed.Losses, straight.Losses)
			}
			if len(resumed.Head) != len(straight.Head) {
				t.Fatalf("%d head layers after resuming, %d uninterrupted", len(resumed.Head), len(straight.Head))
			}
			for k := range resumed.Head {
				if !slices.Equal(resumed.Head[k].W, straight.Head[k].W) {
					t.Errorf("head layer %d differs after resuming", k)
				}
			}
		})
	}
}

func TestInfoNCELossFalls(t *testing.T) {
	images := syntheticImages(256)
	c := smallConfig(InfoNCE)
	c.SetHidden(64)
	tr, err := NewTrainer(c, cpuEngine(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := tr.TrainEpoch(context.Background(), images, nil); err != nil {
			t.Fatal(err)
		}
	}
	if first, last := tr.Losses[0], tr.Losses[3]; !(last < first) {
		t.Errorf("loss went from %.4f to %.4f in 4 epochs, want a fall", first, last)
	}
}

func TestFeaturesShapeAndSeed(t *testing.T) {
	images := syntheticImages(30)
	e, err := NewEncoder(smallConfig(InfoNCE).Layer, 3)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Features(context.Background(), images, 5, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.Features(context.Background(), images, 5, 0, nil)
	c, _ := e.Features(context.Background(), images, 5, 1, nil)
	if len(a) != 30*48 {
		t.Fatalf("%d features, want 30 × 48", len(a))
	}
	if !slices.Equal(a, b) {
		t.Error("features with the same seed differ")
	}
	if slices.Equal(a, c) {
		t.Error("features of two sets are the same draw")
	}
	for k, r := range a {
		if r < 0 || r > 1 || math.Mod(float64(r)*4, 1) > 1e-6 {
			t.Fatalf("feature %d is %v, want a multiple of 1/4 in [0, 1]", k, r)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"hidden", func(c *Config) { c.Layer.Hidden = 0 }},
		{"steps", func(c *Config) { c.Layer.Steps = 0 }},
		{"beta", func(c *Config) { c.Layer.Beta = 1.5 }},
		{"threshold", func(c *Config) { c.Layer.Threshold = 0 }},
		{"batch", func(c *Config) { c.Batch = 1 }},
		{"method", func(c *Config) { c.Method = "hebb" }},
		{"temperature", func(c *Config) { c.Temperature = math.Inf(1) }},
	}
	for _, tt := range tests {
		c := DefaultConfig(InfoNCE)
		tt.change(&c)
		if _, err := NewTrainer(c, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v, want ErrConfig", tt.name, err)
		}
	}
	tr, _ := NewTrainer(smallConfig(InfoNCE), nil)
	wrong := Images{Pixels: make([]uint8, 10*100), N: 10, Rows: 10, Cols: 10}
	if err := tr.TrainEpoch(context.Background(), wrong, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("images of 10 × 10 pixels: error %v, want ErrConfig", err)
	}
}

func TestBlendMixesTwoImages(t *testing.T) {
	a := make([]uint8, 784)
	b := make([]uint8, 784)
	for i := range a {
		a[i], b[i] = 10, 200
	}
	out := Blend(a, b, 28, 28, rand.New(rand.NewPCG(1, 2)))
	var fromA, fromB int
	for _, v := range out {
		switch v {
		case 10:
			fromA++
		case 200:
			fromB++
		default:
			t.Fatalf("pixel %d is from neither image", v)
		}
	}
	if fromA < 100 || fromB < 100 {
		t.Errorf("%d pixels from a and %d from b, want large parts of both", fromA, fromB)
	}
}

func TestLoadTrainerRejectsDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoint.gob")
	tr, _ := NewTrainer(smallConfig(InfoNCE), nil)
	if err := tr.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	data, _ := readFile(path)
	if err := writeFile(path, data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadTrainer(path, nil); err == nil {
		t.Error("no error for a truncated checkpoint")
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o666) }

func TestHeadBackwardMatchesFiniteDifferences(t *testing.T) {
	c := smallConfig(InfoNCE)
	c.SetHidden(6)
	c.HeadHidden = 5
	c.HeadDim = 4
	tr, err := NewTrainer(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	const b = 3
	rng := rand.New(rand.NewPCG(5, 5))
	rates := make([]float32, b*6)
	for i := range rates {
		rates[i] = float32(rng.Float64())
	}
	weights := make([]float32, b*4) // L = Σ weights·output
	for i := range weights {
		weights[i] = float32(rng.NormFloat64())
	}
	loss := func() float64 {
		out := tr.headForward(rates, b)
		var sum float64
		for i, v := range out[len(out)-1] {
			sum += float64(weights[i]) * float64(v)
		}
		return sum
	}

	grads := make([]denseGrad, len(tr.Head))
	for k, l := range tr.Head {
		grads[k] = denseGrad{w: make([]float32, len(l.W)), b: make([]float32, len(l.B))}
	}
	gradRates := tr.headBackward(tr.headForward(rates, b), weights, b, grads)

	const eps = 1e-2
	numeric := func(x *float32) float64 {
		saved := *x
		*x = saved + eps
		up := loss()
		*x = saved - eps
		down := loss()
		*x = saved
		return (up - down) / (2 * eps)
	}
	check := func(name string, got float32, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > 2e-3*(1+math.Abs(want)) {
			t.Errorf("%s: backward %v, finite difference %v", name, got, want)
		}
	}
	for i := range rates {
		check("rates", gradRates[i], numeric(&rates[i]))
	}
	for k, l := range tr.Head {
		for i := range l.W {
			check("W", grads[k].w[i], numeric(&l.W[i]))
		}
		for i := range l.B {
			check("B", grads[k].b[i], numeric(&l.B[i]))
		}
	}
}
