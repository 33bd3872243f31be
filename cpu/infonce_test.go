package cpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikessl/spikessl/cpu"
)

// directInfoNCE computes the loss and gradients in float64 from the full
// batch × batch matrix of logits, as the definitions state them. Each row
// (and column) is written as a shifted sum over its other entries, r, and
// its diagonal term d, so that the loss log1p(r/d) and the diagonal
// gradient P_ii − 1 = −r/(d + r) keep their relative precision when the
// positive pair dominates.
func directInfoNCE(a, b []float64, batch, features int, temperature float64, symmetric bool) (loss float64, gradA, gradB []float64) {
	gradA = make([]float64, batch*features)
	gradB = make([]float64, batch*features)
	if batch < 2 {
		return 0, gradA, gradB
	}
	normalize := func(x []float64) ([]float64, []float64) {
		u := make([]float64, len(x))
		norms := make([]float64, batch)
		for i := range batch {
			var s float64
			for _, v := range x[i*features : (i+1)*features] {
				s += v * v
			}
			norms[i] = math.Sqrt(s)
			for j := range features {
				u[i*features+j] = x[i*features+j] / max(norms[i], cpu.NormEpsilon)
			}
		}
		return u, norms
	}

	u, nu := normalize(a)
	v, nv := normalize(b)

	s := make([]float64, batch*batch)
	for i := range batch {
		for j := range batch {
			var d float64
			for k := range features {
				d += u[i*features+k] * v[j*features+k]
			}
			s[i*batch+j] = d / temperature
		}
	}

	// g holds dLoss/ds.
	g := make([]float64, batch*batch)
	weight := 1.0 / float64(batch)
	if symmetric {
		weight /= 2
	}
	// term adds the loss and dLoss/ds of one row (or column) whose logits
	// are at(0), …, at(batch−1) with the diagonal at(k), calling add(j, g)
	// for each entry's share g of dLoss/ds.
	term := func(k int, at func(int) float64, add func(j int, g float64)) {
		m := math.Inf(-1)
		for j := range batch {
			m = max(m, at(j))
		}
		d := math.Exp(at(k) - m)
		var r float64
		for j := range batch {
			if j != k {
				r += math.Exp(at(j) - m)
			}
		}
		if d > 1e-300 {
			loss += weight * math.Log1p(r/d)
		} else {
			loss += weight * (math.Log(r) + m - at(k))
		}
		for j := range batch {
			if j != k {
				add(j, weight*math.Exp(at(j)-m)/(d+r))
			}
		}
		add(k, -weight*r/(d+r))
	}
	for i := range batch {
		term(i, func(j int) float64 { return s[i*batch+j] }, func(j int, x float64) { g[i*batch+j] += x })
	}
	if symmetric {
		for j := range batch {
			term(j, func(i int) float64 { return s[i*batch+j] }, func(i int, x float64) { g[i*batch+j] += x })
		}
	}

	gradU := make([]float64, batch*features)
	gradV := make([]float64, batch*features)
	for i := range batch {
		for j := range batch {
			for k := range features {
				gradU[i*features+k] += g[i*batch+j] * v[j*features+k] / temperature
				gradV[j*features+k] += g[i*batch+j] * u[i*features+k] / temperature
			}
		}
	}

	chain := func(grad, gradN, n, norms []float64) {
		for i := range batch {
			if norms[i] <= cpu.NormEpsilon {
				for k := range features {
					grad[i*features+k] = gradN[i*features+k] / cpu.NormEpsilon
				}
				continue
			}
			var p float64
			for k := range features {
				p += n[i*features+k] * gradN[i*features+k]
			}
			for k := range features {
				grad[i*features+k] = (gradN[i*features+k] - n[i*features+k]*p) / norms[i]
			}
		}
	}

	chain(gradA, gradU, u, nu)
	chain(gradB, gradV, v, nv)
	return loss, gradA, gradB
}

func randomViews(seed uint64, batch, features int) (a, b []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	a = make([]float64, batch*features)
	b = make([]float64, batch*features)
	for i := range a {
		// Spike rates in [0, 1], with view b a noisy copy of view a so the
		// positives stand out as they do in training.
		a[i] = rng.Float64()
		b[i] = min(1, max(0, a[i]+0.3*rng.NormFloat64()))
	}
	return a, b
}

func toFloat64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func toFloat32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func maxRelativeError[T cpu.Float](got []T, want []float64) float64 {
	var diff, scale float64
	for i, w := range want {
		diff = max(diff, math.Abs(float64(got[i])-w))
		scale = max(scale, math.Abs(w))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// TestInfoNCETileEdges checks the tiled computation against the direct one
// at batch sizes on both sides of the tile edges.
func TestInfoNCETileEdges(t *testing.T) {
	const tile = 8
	for _, batch := range []int{1, 2, tile - 1, tile, tile + 1, 3*tile + 5} {
		for _, features := range []int{1, 3, 128, 257} {
			for _, symmetric := range []bool{false, true} {
				name := fmt.Sprintf("batch=%d/features=%d/symmetric=%v", batch, features, symmetric)
				t.Run(name, func(t *testing.T) {
					a, b := randomViews(uint64(batch*1000+features), batch, features)
					wantLoss, wantA, wantB := directInfoNCE(a, b, batch, features, 0.5, symmetric)
					opt := cpu.InfoNCEOptions{Temperature: 0.5, Symmetric: symmetric, TileRows: tile, TileCols: tile, Workers: 3}

					gradA := make([]float64, len(a))
					gradB := make([]float64, len(b))
					loss, err := cpu.InfoNCE(a, b, batch, features, opt, gradA, gradB)
					if err != nil {
						t.Fatal(err)
					}
					if d := math.Abs(loss - wantLoss); d > 1e-12*math.Max(1, wantLoss) {
						t.Errorf("float64 loss = %.17g, want %.17g", loss, wantLoss)
					}
					if r := maxRelativeError(gradA, wantA); r > 1e-12 {
						t.Errorf("float64 grad_a relative error %.3g", r)
					}
					if r := maxRelativeError(gradB, wantB); r > 1e-12 {
						t.Errorf("float64 grad_b relative error %.3g", r)
					}

					gradA32 := make([]float32, len(a))
					gradB32 := make([]float32, len(b))
					loss32, err := cpu.InfoNCE(toFloat32(a), toFloat32(b), batch, features, opt, gradA32, gradB32)
					if err != nil {
						t.Fatal(err)
					}
					if d := math.Abs(loss32 - wantLoss); d > 1e-5*math.Max(1, wantLoss) {
						t.Errorf("float32 loss = %.9g, want %.9g", loss32, wantLoss)
					}
					if r := maxRelativeError(gradA32, wantA); r > 1e-4 {
						t.Errorf("float32 grad_a relative error %.3g", r)
					}
					if r := maxRelativeError(gradB32, wantB); r > 1e-4 {
						t.Errorf("float32 grad_b relative error %.3g", r)
					}
				})
			}
		}
	}
}

// TestInfoNCEDominantPairs checks views whose positive pairs dominate, at
// low temperatures, where a row's loss is far below its log-sum-exp and
// P_ii is close to 1. Forming the loss as lse − s_ii, or the diagonal of
// dL/ds as P_ii − 1, leaves only rounding error there.
func TestInfoNCEDominantPairs(t *testing.T) {
	const batch, features = 300, 64
	rng := rand.New(rand.NewPCG(21, 22))
	a := make([]float64, batch*features)
	noise := make([]float64, batch*features)
	for i := range a {
		a[i] = rng.NormFloat64()
		noise[i] = rng.NormFloat64()
	}
	cases := []struct {
		noise, temperature float64
	}{
		{0.3, 0.1},
		{0.3, 0.05},
		{0.5, 0.03},
		{0.5, 0.02},
		{1, 0.02},
		{0.3, 0.01},
	}
	for _, c := range cases {
		b := make([]float64, len(a))
		for i := range b {
			b[i] = a[i] + c.noise*noise[i]
		}
		// Round the views to float32 first, so that both precisions
		// compute the same loss.
		a32, b32 := toFloat32(a), toFloat32(b)
		a64, b64 := toFloat64(a32), toFloat64(b32)
		for _, symmetric := range []bool{false, true} {
			for _, tile := range []int{0, 8} {
				name := fmt.Sprintf("noise=%v/temperature=%v/symmetric=%v/tile=%d", c.noise, c.temperature, symmetric, tile)
				t.Run(name, func(t *testing.T) {
					wantLoss, wantA, wantB := directInfoNCE(a64, b64, batch, features, c.temperature, symmetric)
					opt := cpu.InfoNCEOptions{Temperature: c.temperature, Symmetric: symmetric, TileRows: tile, TileCols: tile}

					loss := checkDirect(t, "float64", a64, b64, batch, features, opt, wantLoss, wantA, wantB, 1e-9, 1e-9)
					loss32 := checkDirect(t, "float32", a32, b32, batch, features, opt, wantLoss, wantA, wantB, 3e-5, 1e-4)
					t.Logf("loss %.3g: relative errors float64 %.2g, float32 %.2g", wantLoss, math.Abs(loss-wantLoss)/wantLoss, math.Abs(loss32-wantLoss)/wantLoss)
				})
			}
		}
	}
}

// checkDirect runs InfoNCE on the views x and y, with gradients and
// without, checks the loss and the gradients against the direct
// computation within lossTol and gradTol relative, and returns the loss.
func checkDirect[T cpu.Float](t *testing.T, precision string, x, y []T, batch, features int, opt cpu.InfoNCEOptions, wantLoss float64, wantA, wantB []float64, lossTol, gradTol float64) float64 {
	t.Helper()
	gradA, gradB := make([]T, len(x)), make([]T, len(x))
	loss, err := cpu.InfoNCE(x, y, batch, features, opt, gradA, gradB)
	if err != nil {
		t.Fatal(err)
	}
	lossOnly, err := cpu.InfoNCE(x, y, batch, features, opt, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	if r := math.Abs(loss-wantLoss) / wantLoss; r > lossTol {
		t.Errorf("%s loss = %.17g, want %.17g (relative error %.3g)", precision, loss, wantLoss, r)
	}
	if r := math.Abs(lossOnly-wantLoss) / wantLoss; r > lossTol {
		t.Errorf("%s loss without gradients = %.17g, want %.17g (relative error %.3g)", precision, lossOnly, wantLoss, r)
	}
	if r := maxRelativeError(gradA, wantA); r > gradTol {
		t.Errorf("%s grad_a relative error %.3g", precision, r)
	}
	if r := maxRelativeError(gradB, wantB); r > gradTol {
		t.Errorf("%s grad_b relative error %.3g", precision, r)
	}
	return loss
}

// TestInfoNCEFiniteDifference checks the analytic gradients against central
// differences of the loss.
func TestInfoNCEFiniteDifference(t *testing.T) {
	const batch, features, h = 6, 5, 1e-6
	for _, symmetric := range []bool{false, true} {
		t.Run(fmt.Sprintf("symmetric=%v", symmetric), func(t *testing.T) {
			a, b := randomViews(42, batch, features)
			opt := cpu.InfoNCEOptions{Temperature: 0.3, Symmetric: symmetric}
			gradA := make([]float64, len(a))
			gradB := make([]float64, len(b))
			if _, err := cpu.InfoNCE(a, b, batch, features, opt, gradA, gradB); err != nil {
				t.Fatal(err)
			}
			lossAt := func(a, b []float64) float64 {
				loss, err := cpu.InfoNCE(a, b, batch, features, opt, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				return loss
			}
			for _, view := range []struct {
				name string
				x    []float64
				grad []float64
			}{{"a", a, gradA}, {"b", b, gradB}} {
				for k := range view.x {
					saved := view.x[k]
					view.x[k] = saved + h
					up := lossAt(a, b)
					view.x[k] = saved - h
					down := lossAt(a, b)
					view.x[k] = saved
					numeric := (up - down) / (2 * h)
					if d := math.Abs(numeric - view.grad[k]); d > 1e-6 {
						t.Errorf("grad_%s[%d] = %.10g, finite difference %.10g", view.name, k, view.grad[k], numeric)
					}
				}
			}
		})
	}
}

// TestInfoNCEScaleInvariance checks that scaling rows changes neither the
// loss nor, up to the inverse scale, the gradients, and that each gradient
// row is orthogonal to its input row, at magnitudes whose squares overflow.
func TestInfoNCEScaleInvariance(t *testing.T) {
	const batch, features = 16, 8
	a, b := randomViews(3, batch, features)
	opt := cpu.InfoNCEOptions{Temperature: 0.5}
	gradA := make([]float64, len(a))
	want, err := cpu.InfoNCE(a, b, batch, features, opt, gradA, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		scale float64
		tol   float64
		run   func(a, b []float64) (float64, []float64, error)
	}{
		{"float64/1e30", 1e30, 1e-12, func(a, b []float64) (float64, []float64, error) {
			g := make([]float64, len(a))
			loss, err := cpu.InfoNCE(a, b, batch, features, opt, g, nil)
			return loss, g, err
		}},
		{"float64/1e200", 1e200, 1e-12, func(a, b []float64) (float64, []float64, error) {
			g := make([]float64, len(a))
			loss, err := cpu.InfoNCE(a, b, batch, features, opt, g, nil)
			return loss, g, err
		}},
		// Norms beyond the largest float64, and gradients of about 1e-310,
		// whose subnormal spacing allows a relative error near 1e-13.
		{"float64/1.7e308", 1.7e308, 1e-11, func(a, b []float64) (float64, []float64, error) {
			g := make([]float64, len(a))
			loss, err := cpu.InfoNCE(a, b, batch, features, opt, g, nil)
			return loss, g, err
		}},
		{"float32/1e20", 1e20, 1e-5, func(a, b []float64) (float64, []float64, error) {
			g := make([]float32, len(a))
			loss, err := cpu.InfoNCE(toFloat32(a), toFloat32(b), batch, features, opt, g, nil)
			g64 := make([]float64, len(g))
			for i, v := range g {
				g64[i] = float64(v)
			}
			return loss, g64, err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sa := make([]float64, len(a))
			sb := make([]float64, len(b))
			for i := range a {
				sa[i] = a[i] * c.scale
				sb[i] = b[i] * c.scale
			}
			loss, grad, err := c.run(sa, sb)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(loss-want) > c.tol*want {
				t.Errorf("loss = %.17g, want %.17g", loss, want)
			}
			for i := range grad {
				if math.IsNaN(grad[i]) || math.IsInf(grad[i], 0) {
					t.Fatalf("grad_a[%d] = %v", i, grad[i])
				}
				grad[i] *= c.scale
			}
			if r := maxRelativeError(grad, gradA); r > 10*c.tol {
				t.Errorf("scaled grad_a relative error %.3g", r)
			}
		})
	}
}

func TestInfoNCEEdgeValues(t *testing.T) {
	cases := []struct {
		name        string
		temperature float64
		scale       float64
	}{
		{"temperature 0.01", 0.01, 1},
		{"logits of 100", 0.01, 1},
		{"temperature 1e-4", 1e-4, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := randomViews(11, 32, 4)
			for _, symmetric := range []bool{false, true} {
				opt := cpu.InfoNCEOptions{Temperature: c.temperature, Symmetric: symmetric, TileRows: 8, TileCols: 8}
				gradA := make([]float32, len(a))
				gradB := make([]float32, len(b))
				loss, err := cpu.InfoNCE(toFloat32(a), toFloat32(b), 32, 4, opt, gradA, gradB)
				if err != nil {
					t.Fatal(err)
				}
				want, _, _ := directInfoNCE(a, b, 32, 4, c.temperature, symmetric)
				if math.IsNaN(loss) || math.IsInf(loss, 0) || math.Abs(loss-want) > 1e-5*want {
					t.Errorf("symmetric=%v: loss = %v, want %v", symmetric, loss, want)
				}
				for i, g := range gradA {
					if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
						t.Fatalf("grad_a[%d] = %v", i, g)
					}
				}
			}
		})
	}
}

// TestInfoNCEDeterministic checks that repeated and concurrent calls give
// bit-identical results.
func TestInfoNCEDeterministic(t *testing.T) {
	const batch, features = 300, 17
	a, b := randomViews(5, batch, features)
	opt := cpu.InfoNCEOptions{Temperature: 0.2, Symmetric: true, TileRows: 16, TileCols: 64}
	run := func() (float64, []float64) {
		grad := make([]float64, len(a))
		loss, err := cpu.InfoNCE(a, b, batch, features, opt, grad, nil)
		if err != nil {
			t.Error(err)
		}
		return loss, grad
	}
	wantLoss, wantGrad := run()
	results := make(chan bool, 4)
	for range 4 {
		go func() {
			loss, grad := run()
			same := loss == wantLoss
			for i := range grad {
				same = same && grad[i] == wantGrad[i]
			}
			results <- same
		}()
	}
	for range 4 {
		if !<-results {
			t.Error("a concurrent call gave a different result")
		}
	}
}

func TestInfoNCEInvalidArguments(t *testing.T) {
	a := make([]float64, 6)
	cases := []struct {
		name        string
		a, b        []float64
		batch, feat int
		temperature float64
		grad        []float64
	}{
		{"short view", a[:5], a, 2, 3, 0.5, nil},
		{"short gradient", a, a, 2, 3, 0.5, make([]float64, 5)},
		{"zero temperature", a, a, 2, 3, 0, nil},
		{"negative temperature", a, a, 2, 3, -1, nil},
		{"NaN temperature", a, a, 2, 3, math.NaN(), nil},
		{"infinite temperature", a, a, 2, 3, math.Inf(1), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := cpu.InfoNCE(c.a, c.b, c.batch, c.feat, cpu.InfoNCEOptions{Temperature: c.temperature}, c.grad, nil)
			if err == nil {
				t.Fatal("got nil error")
			}
		})
	}
}
