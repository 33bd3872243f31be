// Package probe fits a linear probe: multinomial logistic regression on
// frozen features, the standard measure of what a self-supervised encoder
// has learnt.
//
// Features are standardised with the mean and standard deviation of the
// training rows. A softmax classifier with L2 regularisation is then fitted
// by Adam on mini-batches in a seeded order, so the same data, options and
// seed give the same model.
package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"sync"

	"gonum.org/v1/gonum/blas/gonum"
)

// ErrInput marks invalid data or options.
var ErrInput = errors.New("probe: invalid input")

// Options configures Fit.
type Options struct {
	// Epochs is the number of passes over the training rows.
	Epochs int
	// BatchSize is the number of rows per Adam step. A batch larger than
	// the data uses all rows in each step.
	BatchSize int
	// LR is Adam's initial learning rate, which decays to zero along a
	// half cosine.
	LR float64
	// L2 is the weight of ½‖W‖² in the loss, per row.
	L2 float64
	// Seed fixes the order of the rows.
	Seed uint64
}

// DefaultOptions returns options suited to n training rows: 20 epochs of
// batches of 256 for tens of thousands of rows, and 300 full-batch steps
// with stronger regularisation for a few hundred.
func DefaultOptions(n int) Options {
	if n <= 1000 {
		return Options{Epochs: 300, BatchSize: n, LR: 0.01, L2: 1e-2, Seed: 1}
	}
	return Options{Epochs: 20, BatchSize: 256, LR: 1e-3, L2: 1e-5, Seed: 1}
}

// Model is a fitted linear probe.
type Model struct {
	// Features and Classes are the input and output sizes.
	Features, Classes int
	// Mean and Scale standardise each feature: (x − Mean)·Scale.
	Mean, Scale []float32
	// W is the (Classes, Features) weight matrix, row-major, and B the
	// bias of each class.
	W, B []float32
}

// Fit fits a probe on the n × d row-major features x and their labels,
// each in 0..classes−1.
func Fit(ctx context.Context, x []float32, n, d int, labels []uint8, classes int, opt Options) (*Model, error) {
	switch {
	case n <= 0 || d <= 0 || len(x) != n*d:
		return nil, fmt.Errorf("%w: %d features for %d rows of %d", ErrInput, len(x), n, d)
	case len(labels) != n:
		return nil, fmt.Errorf("%w: %d labels for %d rows", ErrInput, len(labels), n)
	case classes < 2:
		return nil, fmt.Errorf("%w: %d classes, need at least 2", ErrInput, classes)
	case opt.Epochs <= 0 || opt.BatchSize <= 0:
		return nil, fmt.Errorf("%w: epochs %d and batch size %d must be > 0", ErrInput, opt.Epochs, opt.BatchSize)
	case !(opt.LR > 0) || math.IsInf(opt.LR, 0) || !(opt.L2 >= 0) || math.IsInf(opt.L2, 0):
		return nil, fmt.Errorf("%w: learning rate %v must be finite and > 0, L2 %v finite and ≥ 0", ErrInput, opt.LR, opt.L2)
	}
	for i, l := range labels {
		if int(l) >= classes {
			return nil, fmt.Errorf("%w: label %d is %d, must be below %d classes", ErrInput, i, l, classes)
		}
	}
	for k, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: feature [%d, %d] is %v", ErrInput, k/d, k%d, v)
		}
	}

	m := &Model{Features: d, Classes: classes, W: make([]float32, classes*d), B: make([]float32, classes)}
	m.Mean, m.Scale = standardisation(x, n, d)
	xs := make([]float32, n*d)
	for i := range n {
		m.standardise(x[i*d:(i+1)*d], xs[i*d:(i+1)*d])
	}

	batch := min(opt.BatchSize, n)
	steps := opt.Epochs * ((n + batch - 1) / batch)
	adamW := newAdam(len(m.W))
	adamB := newAdam(len(m.B))
	grads := make([]gradient, shards)
	for s := range grads {
		grads[s] = gradient{w: make([]float32, len(m.W)), b: make([]float32, classes), logits: make([]float32, classes)}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x70726f6265))

	step := 0
	for range opt.Epochs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for start := 0; start < n; start += batch {
			rows := order[start:min(start+batch, n)]
			m.batchGradient(xs, labels, rows, grads)

			// Reduce the shards in a fixed order so that the result does
			// not depend on scheduling.
			gradW, gradB := grads[0].w, grads[0].b
			for _, g := range grads[1:] {
				for k, v := range g.w {
					gradW[k] += v
				}
				for c, v := range g.b {
					gradB[c] += v
				}
			}
			for k, w := range m.W {
				gradW[k] += float32(opt.L2) * w
			}

			lr := opt.LR * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(steps)))
			step++
			adamW.step(m.W, gradW, lr)
			adamB.step(m.B, gradB, lr)
		}
	}
	return m, nil
}

// shards is the fixed number of parts that a batch is split into for the
// gradient: a constant, so that sums do not depend on the machine.
const shards = 8

// gradient is one shard's gradient sums and scratch space.
type gradient struct {
	w, b, logits []float32
}

// batchGradient writes into grads the gradient of the mean cross-entropy
// over the standardised rows of xs listed in rows, shard s taking an equal
// contiguous part of rows.
func (m *Model) batchGradient(xs []float32, labels []uint8, rows []int, grads []gradient) {
	d, classes := m.Features, m.Classes
	inv := 1 / float32(len(rows))
	var wg sync.WaitGroup
	for s := range grads {
		lo, hi := s*len(rows)/len(grads), (s+1)*len(rows)/len(grads)
		g := &grads[s]
		wg.Go(func() {
			clear(g.w)
			clear(g.b)
			for _, i := range rows[lo:hi] {
				row := xs[i*d : (i+1)*d]
				m.rowLogits(row, g.logits)
				softmax(g.logits)
				g.logits[labels[i]]--
				// The gradient of the mean cross-entropy over the logits
				// is (softmax − one-hot)/batch.
				for c := range classes {
					coef := g.logits[c] * inv
					g.b[c] += coef
					axpy(coef, row, g.w[c*d:(c+1)*d])
				}
			}
		})
	}
	wg.Wait()
}

// rowLogits writes the logits of one standardised row into out.
func (m *Model) rowLogits(row, out []float32) {
	d := m.Features
	for c := range m.Classes {
		out[c] = m.B[c] + dot(row, m.W[c*d:(c+1)*d])
	}
}

// standardisation returns the mean of each feature and the inverse of its
// standard deviation, with deviations below 1e-3 of the largest treated
// as 1e-3 of it so that constant features stay finite.
func standardisation(x []float32, n, d int) (mean, scale []float32) {
	sum := make([]float64, d)
	sq := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			sum[j] += float64(v)
			sq[j] += float64(v) * float64(v)
		}
	}
	mean = make([]float32, d)
	scale = make([]float32, d)
	std := make([]float64, d)
	var largest float64
	for j := range d {
		mu := sum[j] / float64(n)
		std[j] = math.Sqrt(max(sq[j]/float64(n)-mu*mu, 0))
		largest = max(largest, std[j])
		mean[j] = float32(mu)
	}
	floor := max(1e-3*largest, 1e-12)
	for j := range d {
		scale[j] = float32(1 / max(std[j], floor))
	}
	return mean, scale
}

func (m *Model) standardise(src, dst []float32) {
	for j, v := range src {
		dst[j] = (v - m.Mean[j]) * m.Scale[j]
	}
}

// Predict returns the class of each of the n rows of x.
func (m *Model) Predict(x []float32, n int) ([]int, error) {
	if n < 0 || len(x) != n*m.Features {
		return nil, fmt.Errorf("%w: %d features for %d rows of %d", ErrInput, len(x), n, m.Features)
	}
	out := make([]int, n)
	var wg sync.WaitGroup
	for s := range shards {
		lo, hi := s*n/shards, (s+1)*n/shards
		wg.Go(func() {
			row := make([]float32, m.Features)
			logits := make([]float32, m.Classes)
			for i := lo; i < hi; i++ {
				m.standardise(x[i*m.Features:(i+1)*m.Features], row)
				m.rowLogits(row, logits)
				best := 0
				for c, v := range logits {
					if v > logits[best] {
						best = c
					}
				}
				out[i] = best
			}
		})
	}
	wg.Wait()
	return out, nil
}

// Accuracy returns the fraction of the n rows of x that the model assigns
// to their label.
func (m *Model) Accuracy(x []float32, n int, labels []uint8) (float64, error) {
	if len(labels) != n {
		return 0, fmt.Errorf("%w: %d labels for %d rows", ErrInput, len(labels), n)
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: no rows to score", ErrInput)
	}
	pred, err := m.Predict(x, n)
	if err != nil {
		return 0, err
	}
	correct := 0
	for i, p := range pred {
		if p == int(labels[i]) {
			correct++
		}
	}
	return float64(correct) / float64(n), nil
}

// softmax replaces row by its softmax, computed without overflow.
func softmax(row []float32) {
	top := row[0]
	for _, v := range row {
		top = max(top, v)
	}
	var sum float64
	for c, v := range row {
		e := math.Exp(float64(v - top))
		row[c] = float32(e)
		sum += e
	}
	for c := range row {
		row[c] = float32(float64(row[c]) / sum)
	}
}

// adam is the state of the Adam optimiser (β₁ 0.9, β₂ 0.999, ε 1e-8) for
// one parameter slice.
type adam struct {
	m, v []float32
	t    int
}

func newAdam(n int) *adam { return &adam{m: make([]float32, n), v: make([]float32, n)} }

func (a *adam) step(p, g []float32, lr float64) {
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	a.t++
	c1 := 1 - math.Pow(beta1, float64(a.t))
	c2 := 1 - math.Pow(beta2, float64(a.t))
	rate := float32(lr * math.Sqrt(c2) / c1)
	for k := range p {
		a.m[k] = beta1*a.m[k] + (1-beta1)*g[k]
		a.v[k] = beta2*a.v[k] + (1-beta2)*g[k]*g[k]
		p[k] -= rate * a.m[k] / (float32(math.Sqrt(float64(a.v[k]))) + eps)
	}
}

// dot returns x·y and axpy adds a·x to y, both with gonum's BLAS
// (assembly kernels on amd64) whatever BLAS is installed in gonum's blas32
// package, so that a fit does not depend on when another package installs
// one.
func dot(x, y []float32) float32 {
	return pureGo.Sdot(len(x), x, 1, y, 1)
}

func axpy(a float32, x, y []float32) {
	pureGo.Saxpy(len(x), a, x, 1, y, 1)
}

var pureGo gonum.Implementation
