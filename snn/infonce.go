package snn

import (
	"fmt"

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

	zA, zB, d := ratesA, ratesB, h
	if c.HeadDim > 0 {
		d = c.HeadDim
		zA = t.project(ratesA, b)
		zB = t.project(ratesB, b)
	}
	res, err := ssl.InfoNCEGrad(t.engine, ssl.Matrix[float32]{Rows: b, Cols: d, Data: zA}, ssl.Matrix[float32]{Rows: b, Cols: d, Data: zB},
		ssl.InfoNCEOptions{Temperature: c.Temperature, Symmetric: true})
	if err != nil {
		return 0, err
	}

	gradRatesA, gradRatesB := res.GradA.Data, res.GradB.Data
	if c.HeadDim > 0 {
		gradHead := make([]float32, len(t.Head))
		gradHeadBias := make([]float32, d)
		gradRatesA = t.projectBack(ratesA, res.GradA.Data, b, gradHead, gradHeadBias)
		gradRatesB = t.projectBack(ratesB, res.GradB.Data, b, gradHead, gradHeadBias)
		t.AdamHead.Step(t.Head, gradHead, lr)
		t.AdamHeadBias.Step(t.HeadBias, gradHeadBias, lr)
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
// gonum's blas32 package: another package may install a system library at
// any time, and the result of a run must not depend on when.
var pureGo gonum.Implementation

// project returns rates·Head + HeadBias for b rows of rates.
func (t *Trainer) project(rates []float32, b int) []float32 {
	h, d := t.Config.Layer.Hidden, t.Config.HeadDim
	z := make([]float32, b*d)
	for r := range b {
		copy(z[r*d:(r+1)*d], t.HeadBias)
	}
	pureGo.Sgemm(blas.NoTrans, blas.NoTrans, b, d, h, 1, rates, h, t.Head, d, 1, z, d)
	return z
}

// projectBack adds the head's gradients for one view to gradHead and
// gradHeadBias and returns the gradient with respect to the rates.
func (t *Trainer) projectBack(rates, gradZ []float32, b int, gradHead, gradHeadBias []float32) []float32 {
	h, d := t.Config.Layer.Hidden, t.Config.HeadDim
	impl := pureGo
	impl.Sgemm(blas.Trans, blas.NoTrans, h, d, b, 1, rates, h, gradZ, d, 1, gradHead, d)
	for r := range b {
		for j, g := range gradZ[r*d : (r+1)*d] {
			gradHeadBias[j] += g
		}
	}
	gradRates := make([]float32, b*h)
	impl.Sgemm(blas.NoTrans, blas.Trans, b, h, d, 1, gradZ, d, t.Head, d, 0, gradRates, h)
	return gradRates
}
