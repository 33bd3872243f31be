package snn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("snn: invalid configuration")

// Layer configures a layer of leaky integrate-and-fire neurons.
type Layer struct {
	// Inputs and Hidden are the numbers of input pixels and of neurons.
	Inputs, Hidden int
	// Steps is the number of simulation time steps T.
	Steps int
	// Beta is the membrane decay per step, in (0, 1].
	Beta float64
	// Threshold is the membrane potential at which a neuron spikes; a
	// spike subtracts it from the potential (reset by subtraction).
	Threshold float64
	// Slope is k of the fast-sigmoid surrogate gradient
	// ∂s/∂u ≈ 1/(1 + k·|u − Threshold|)², used by training only.
	Slope float64
	// InitStd is the standard deviation of the initial weights, drawn
	// from a normal distribution; the biases start at zero.
	InitStd float64
}

// Check returns an error naming the first invalid field.
func (l Layer) Check() error {
	switch {
	case l.Inputs <= 0 || l.Inputs > math.MaxUint16+1:
		return fmt.Errorf("%w: inputs is %d, must be in [1, 65536]", ErrConfig, l.Inputs)
	case l.Hidden <= 0 || l.Hidden > 1<<16:
		return fmt.Errorf("%w: hidden is %d, must be in [1, 65536]", ErrConfig, l.Hidden)
	case l.Steps <= 0 || l.Steps > 1024:
		return fmt.Errorf("%w: steps is %d, must be in [1, 1024]", ErrConfig, l.Steps)
	case !(l.Beta > 0 && l.Beta <= 1):
		return fmt.Errorf("%w: beta is %v, must be in (0, 1]", ErrConfig, l.Beta)
	case !(l.Threshold > 0) || math.IsInf(l.Threshold, 0):
		return fmt.Errorf("%w: threshold is %v, must be finite and > 0", ErrConfig, l.Threshold)
	case !(l.Slope > 0) || math.IsInf(l.Slope, 0):
		return fmt.Errorf("%w: surrogate slope is %v, must be finite and > 0", ErrConfig, l.Slope)
	case !(l.InitStd > 0) || math.IsInf(l.InitStd, 0):
		return fmt.Errorf("%w: initial weight deviation is %v, must be finite and > 0", ErrConfig, l.InitStd)
	}
	return nil
}

// Encoder is a layer of leaky integrate-and-fire neurons driven by input
// spike trains. At each step t the potential of each neuron is
// u_t = β·v_{t−1} + b + Σ_{p spiking at t} W[p], the neuron spikes when
// u_t ≥ θ, and v_t = u_t − θ·s_t. Its output is the spike rate, the
// number of spikes divided by T.
type Encoder struct {
	Layer
	// W is the (Inputs, Hidden) weight matrix, row-major, so that row p
	// holds the weights from input p to every neuron.
	W []float32
	// Bias is the constant input current of each neuron.
	Bias []float32
}

// NewEncoder returns an encoder with weights drawn from
// N(0, InitStd²) by a generator seeded with seed.
func NewEncoder(l Layer, seed uint64) (*Encoder, error) {
	if err := l.Check(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c6966))
	w := make([]float32, l.Inputs*l.Hidden)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * l.InitStd)
	}
	return &Encoder{Layer: l, W: w, Bias: make([]float32, l.Hidden)}, nil
}

// Clone returns a deep copy of e.
func (e *Encoder) Clone() *Encoder {
	return &Encoder{Layer: e.Layer, W: append([]float32(nil), e.W...), Bias: append([]float32(nil), e.Bias...)}
}

// WeightsPostPre returns the weights as an (Hidden, Inputs) row-major
// matrix, post-synaptic neurons first, the layout of package ssl.
func (e *Encoder) WeightsPostPre() []float32 {
	out := make([]float32, len(e.W))
	for p := range e.Inputs {
		row := e.W[p*e.Hidden : (p+1)*e.Hidden]
		for h, w := range row {
			out[h*e.Inputs+p] = w
		}
	}
	return out
}

// SetWeightsPostPre sets the weights from an (Hidden, Inputs) row-major
// matrix.
func (e *Encoder) SetWeightsPostPre(w []float32) {
	for h := range e.Hidden {
		row := w[h*e.Inputs : (h+1)*e.Inputs]
		for p, v := range row {
			e.W[p*e.Hidden+h] = v
		}
	}
}

// trace is the record of a forward pass that Backward needs: the
// potential before the spike at each step, (batch, Steps, Hidden).
type trace struct {
	u []float32
}

// Rates writes into out the (len(trains), Hidden) spike rates of the
// trains. With tr not nil it also records the potentials for Backward.
func (e *Encoder) Rates(trains []Train, out []float32, tr *trace) {
	if tr != nil {
		need := len(trains) * e.Steps * e.Hidden
		if cap(tr.u) < need {
			tr.u = make([]float32, need)
		}
		tr.u = tr.u[:need]
	}
	e.overNeurons(func(lo, hi int) {
		e.forward(trains, lo, hi, out, tr)
	})
}

// overNeurons runs body on disjoint ranges of neurons in parallel. Each
// output belongs to one neuron, so results do not depend on the split.
func (e *Encoder) overNeurons(body func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(e.Hidden/64, 1))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*e.Hidden/workers, (w+1)*e.Hidden/workers
		wg.Go(func() { body(lo, hi) })
	}
	wg.Wait()
}

// forward simulates neurons lo..hi−1 on each train.
func (e *Encoder) forward(trains []Train, lo, hi int, out []float32, tr *trace) {
	n := hi - lo
	v := make([]float32, n)
	cur := make([]float32, n)
	count := make([]float32, n)
	beta, theta := float32(e.Beta), float32(e.Threshold)
	bias := e.Bias[lo:hi]
	for s, train := range trains {
		clear(v)
		clear(count)
		for t := range e.Steps {
			copy(cur, bias)
			gatherAdd(cur, e.W[lo:], e.Hidden, train.At(t))
			var u []float32
			if tr != nil {
				u = tr.u[(s*e.Steps+t)*e.Hidden+lo : (s*e.Steps+t)*e.Hidden+hi]
			}
			for j := range n {
				uj := beta*v[j] + cur[j]
				if u != nil {
					u[j] = uj
				}
				if uj >= theta {
					count[j]++
					uj -= theta
				}
				v[j] = uj
			}
		}
		row := out[s*e.Hidden+lo : s*e.Hidden+hi]
		for j := range n {
			row[j] = count[j] / float32(e.Steps)
		}
	}
}

// Backward adds to gradW and gradBias the gradient of a loss whose
// gradient with respect to the rates of the trains is gradRates, through
// the potentials that Rates recorded in tr. The spike's derivative is the
// fast-sigmoid surrogate, and the reset is treated as a constant, the
// usual choice that keeps the gradient from flowing back through the
// spike of the previous step.
func (e *Encoder) Backward(trains []Train, tr *trace, gradRates, gradW, gradBias []float32) {
	// byPixel lists, for each input pixel, the rows s·T + t of the
	// (sample, step) pairs at which it spiked, in increasing order, so
	// that each row of gradW is one gathered sum.
	offsets := make([]int32, e.Inputs+1)
	for _, train := range trains {
		for _, p := range train.Index {
			offsets[p+1]++
		}
	}
	for p := range e.Inputs {
		offsets[p+1] += offsets[p]
	}
	byPixel := make([]int32, offsets[e.Inputs])
	next := append([]int32(nil), offsets[:e.Inputs]...)
	for s, train := range trains {
		for t := range e.Steps {
			for _, p := range train.At(t) {
				byPixel[next[p]] = int32(s*e.Steps + t)
				next[p]++
			}
		}
	}
	all := make([]int32, len(trains)*e.Steps)
	for k := range all {
		all[k] = int32(k)
	}

	e.overNeurons(func(lo, hi int) {
		n := hi - lo
		// gu holds ∂L/∂u for every (sample, step) row and neuron lo..hi−1.
		gu := make([]float32, len(trains)*e.Steps*n)
		beta, theta, k := float32(e.Beta), float32(e.Threshold), float32(e.Slope)
		inv := 1 / float32(e.Steps)
		for s := range trains {
			g := gradRates[s*e.Hidden+lo : s*e.Hidden+hi]
			// gu_t = (∂L/∂r)/T · σ'(u_t − θ) + β·gu_{t+1}.
			for t := e.Steps - 1; t >= 0; t-- {
				u := tr.u[(s*e.Steps+t)*e.Hidden+lo : (s*e.Steps+t)*e.Hidden+hi]
				row := gu[(s*e.Steps+t)*n : (s*e.Steps+t+1)*n]
				var later []float32
				if t+1 < e.Steps {
					later = gu[(s*e.Steps+t+1)*n : (s*e.Steps+t+2)*n]
				}
				for j := range n {
					x := u[j] - theta
					if x < 0 {
						x = -x
					}
					d := 1 + k*x
					grad := g[j] * inv / (d * d)
					if later != nil {
						grad += beta * later[j]
					}
					row[j] = grad
				}
			}
		}
		gatherAdd(gradBias[lo:hi], gu, n, all)
		for p := range e.Inputs {
			rows := byPixel[offsets[p]:offsets[p+1]]
			if len(rows) > 0 {
				gatherAdd(gradW[p*e.Hidden+lo:p*e.Hidden+hi], gu, n, rows)
			}
		}
	})
}
