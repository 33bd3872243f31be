package snn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/spikessl/spikessl/ssl"
)

// infoNCEStep trains on one batch by InfoNCE between two augmented views
// of each image with learning rate lr and returns the loss.
func (t *Trainer) infoNCEStep(images Images, idx []int, lr float64) (float64, error) {
	c := t.Config
	enc := t.Encoder
	b, h := len(idx), c.Layer.Hidden
	viewA := t.encodeAll(images, idx, streamViewA, &c.Augment)
	viewB := t.encodeAll(images, idx, streamViewB, &c.Augment)

	ratesA := make([]float32, b*h)
	ratesB := make([]float32, b*h)
	var traceA, traceB trace
	enc.Rates(viewA, ratesA, &traceA)
	enc.Rates(viewB, ratesB, &traceB)

	// Each view's activations through the head: acts[0] is the rates,
	// acts[k+1] the output of head layer k, after its ReLU unless it is
	// the last layer.
	actsA := t.headForward(ratesA, b)
	actsB := t.headForward(ratesB, b)
	zA, zB := actsA[len(actsA)-1], actsB[len(actsB)-1]
	d := len(zA) / b
	res, err := ssl.InfoNCEGrad(t.engine, ssl.Matrix[float32]{Rows: b, Cols: d, Data: zA}, ssl.Matrix[float32]{Rows: b, Cols: d, Data: zB},
		ssl.InfoNCEOptions{Temperature: c.Temperature, Symmetric: true})
	if err != nil {
		return 0, err
	}

	grads := make([]denseGrad, len(t.Head))
	for k, l := range t.Head {
		grads[k] = denseGrad{w: make([]float32, len(l.W)), b: make([]float32, len(l.B))}
	}
	gradRatesA := t.headBackward(actsA, res.GradA.Data, b, grads)
	gradRatesB := t.headBackward(actsB, res.GradB.Data, b, grads)
	for k, l := range t.Head {
		l.AdamW.Step(l.W, grads[k].w, lr)
		l.AdamB.Step(l.B, grads[k].b, lr)
	}

	gradW := make([]float32, len(enc.W))
	gradBias := make([]float32, h)
	enc.Backward(viewA, &traceA, gradRatesA, gradW, gradBias)
	enc.Backward(viewB, &traceB, gradRatesB, gradW, gradBias)
	t.AdamW.Step(enc.W, gradW, lr)
	t.AdamBias.Step(enc.Bias, gradBias, lr)
	t.Backend, t.Device = res.Backend, res.Device
	if res.Loss != res.Loss {
		return 0, fmt.Errorf("InfoNCE loss is NaN")
	}
	return res.Loss, nil
}

// pureGo is gonum's BLAS, used for the head whatever BLAS is installed in
// gonum's blas32 package, because another package may install a system
// library at any time and the result of a run must not depend on when.
var pureGo gonum.Implementation

// Dense is one layer of the projection head, y = x·W + B, with its
// optimiser state.
type Dense struct {
	In, Out int
	// W is (In, Out), row-major.
	W, B         []float32
	AdamW, AdamB *Adam
}

func newDense(in, out int, rng *rand.Rand) *Dense {
	l := &Dense{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out), AdamW: NewAdam(in * out), AdamB: NewAdam(out)}
	std := 1 / math.Sqrt(float64(in))
	for i := range l.W {
		l.W[i] = float32(rng.NormFloat64() * std)
	}
	return l
}

// denseGrad is the gradient of one Dense layer.
type denseGrad struct{ w, b []float32 }

// headForward returns the activations of b rows of rates through the head.
func (t *Trainer) headForward(rates []float32, b int) [][]float32 {
	acts := [][]float32{rates}
	for k, l := range t.Head {
		x := acts[k]
		y := make([]float32, b*l.Out)
		for r := range b {
			copy(y[r*l.Out:(r+1)*l.Out], l.B)
		}
		pureGo.Sgemm(blas.NoTrans, blas.NoTrans, b, l.Out, l.In, 1, x, l.In, l.W, l.Out, 1, y, l.Out)
		if k < len(t.Head)-1 {
			for i, v := range y {
				y[i] = max(v, 0)
			}
		}
		acts = append(acts, y)
	}
	return acts
}

// headBackward adds the head's gradients for one view to grads and returns
// the gradient with respect to the rates, given the gradient gradOut of
// the head's output.
func (t *Trainer) headBackward(acts [][]float32, gradOut []float32, b int, grads []denseGrad) []float32 {
	g := gradOut
	for k := len(t.Head) - 1; k >= 0; k-- {
		l := t.Head[k]
		x := acts[k]
		pureGo.Sgemm(blas.Trans, blas.NoTrans, l.In, l.Out, b, 1, x, l.In, g, l.Out, 1, grads[k].w, l.Out)
		for r := range b {
			for j, v := range g[r*l.Out : (r+1)*l.Out] {
				grads[k].b[j] += v
			}
		}
		gradX := make([]float32, b*l.In)
		pureGo.Sgemm(blas.NoTrans, blas.Trans, b, l.In, l.Out, 1, g, l.Out, l.W, l.Out, 0, gradX, l.In)
		if k > 0 {
			// The input of layer k is a ReLU output: zero where it is zero.
			for i, v := range x {
				if v <= 0 {
					gradX[i] = 0
				}
			}
		}
		g = gradX
	}
	return g
}
