package snn

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/spikessl/spikessl/ssl"
)

// Method is a self-supervised training method.
type Method string

// The training methods.
const (
	// InfoNCE trains the encoder and a linear projection head by
	// back-propagation through time of the InfoNCE loss between two
	// augmented views of each image.
	InfoNCE Method = "infonce"
	// CSDP trains the encoder with the goodness-modulated contrastive
	// signal-dependent plasticity rule: real images are the positive
	// phase, mask blends of two images the negative phase.
	CSDP Method = "csdp"
	// CSDPPlain is CSDP with the plain rule: a Hebbian step on real and an
	// anti-Hebbian step on blended images, with no goodness modulation.
	CSDPPlain Method = "csdp-plain"
)

// ParseMethod returns the Method named s.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case InfoNCE, CSDP, CSDPPlain:
		return m, nil
	}
	return "", fmt.Errorf("%w: method %q, must be infonce, csdp or csdp-plain", ErrConfig, s)
}

// Config configures a Trainer.
type Config struct {
	Layer  Layer
	Method Method
	// Batch is the number of images per update.
	Batch int
	// Seed fixes the initial weights and every random draw of training.
	Seed uint64
	// Augment makes the two views of InfoNCE.
	Augment Augment

	// HeadDim is the output size of the projection head that feeds
	// InfoNCE. With 0 the spike rates feed the loss directly.
	HeadDim int
	// HeadHidden is the width of the head's hidden ReLU layer. With 0 the
	// head is linear.
	HeadHidden int
	// Temperature is the InfoNCE temperature.
	Temperature float64
	// LR is Adam's initial learning rate for InfoNCE training.
	LR float64
	// Epochs is the length of the run. With Cosine, the InfoNCE learning
	// rate decays from LR to 0 along a half cosine over Epochs epochs.
	Epochs int
	// Cosine selects the cosine decay of the learning rate; without it,
	// the default, the rate stays LR. In the measurements of docs/mnist.md
	// the constant rate reached the higher probe accuracy after 6 epochs.
	Cosine bool

	// Rule is the CSDP rule of the two CSDP methods.
	Rule ssl.CSDP
}

// DefaultConfig returns the defaults of method for 28 × 28 images: 1536
// neurons for InfoNCE and 1024 for the CSDP methods.
func DefaultConfig(method Method) Config {
	c := Config{
		Layer: Layer{
			Inputs: 28 * 28, Hidden: 1536, Steps: 8,
			Beta: 0.9, Threshold: 1, Slope: 5, InitStd: 0.1,
		},
		Method:      method,
		Batch:       256,
		Seed:        1,
		Augment:     DefaultAugment(),
		HeadDim:     128,
		Temperature: 0.2,
		LR:          1e-3,
		Epochs:      6,
		Rule:        ssl.CSDP{LR: 0.01, Decay: 1e-4},
	}
	if method != InfoNCE {
		// Measured with 6 epochs: at 1536 neurons CSDP gains 0.4 points
		// over the untrained encoder, at 1024 more (docs/mnist.md).
		c.Layer.Hidden = 1024
	}
	c.SetHidden(c.Layer.Hidden)
	return c
}

// SetHidden sets the number of neurons and scales the CSDP goodness
// threshold with it to 0.1·hidden, because the goodness Σ z² of a sample
// grows with the number of neurons. An untrained layer of 1024 neurons has
// a mean spike rate of about 0.26 on MNIST, so its goodness is of the
// order of 100.
func (c *Config) SetHidden(hidden int) {
	c.Layer.Hidden = hidden
	c.Rule.Threshold = 0.1 * float64(hidden)
}

// Check returns an error naming the first invalid field.
func (c Config) Check() error {
	if err := c.Layer.Check(); err != nil {
		return err
	}
	if _, err := ParseMethod(string(c.Method)); err != nil {
		return err
	}
	if err := c.Augment.Check(); err != nil {
		return err
	}
	switch {
	case c.Batch < 2:
		return fmt.Errorf("%w: batch is %d, must be at least 2", ErrConfig, c.Batch)
	case c.HeadDim < 0 || c.HeadHidden < 0:
		return fmt.Errorf("%w: head sizes are %d and %d, must be ≥ 0", ErrConfig, c.HeadDim, c.HeadHidden)
	case !(c.Temperature > 0) || math.IsInf(c.Temperature, 0):
		return fmt.Errorf("%w: temperature is %v, must be finite and > 0", ErrConfig, c.Temperature)
	case c.Epochs < 1:
		return fmt.Errorf("%w: epochs is %d, must be at least 1", ErrConfig, c.Epochs)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("%w: learning rate is %v, must be finite and > 0", ErrConfig, c.LR)
	}
	return nil
}

// Kinds of random streams, so that no two draws share one.
const (
	streamOrder = iota + 1
	streamViewA
	streamViewB
	streamReal
	streamBlend
	streamProbe
)

// Trainer trains an Encoder without labels. Its exported state is
// everything that training depends on, so that a Trainer saved between
// two batches and loaded again continues exactly as if uninterrupted.
type Trainer struct {
	Config  Config
	Encoder *Encoder

	// Head is the projection head's layers: none, one linear layer, or two
	// with a ReLU between them.
	Head []*Dense
	// AdamW and AdamBias are the optimiser states of the encoder.
	AdamW, AdamBias *Adam

	// Epoch is the current epoch, counted from 0, and Batch the next
	// batch within it.
	Epoch, Batch int
	// LossSum and Batches accumulate the current epoch's loss.
	LossSum float64
	Batches int
	// Losses is the mean loss of each finished epoch.
	Losses []float64
	// Backend and Device name where the last ssl call ran.
	Backend, Device string

	engine *ssl.Engine
}

// NewTrainer returns a Trainer at the start of training. Calls to ssl run
// on engine; nil means ssl's default engine.
func NewTrainer(c Config, engine *ssl.Engine) (*Trainer, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	enc, err := NewEncoder(c.Layer, c.Seed)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Config: c, Encoder: enc, engine: engine}
	if c.Method == InfoNCE {
		h := c.Layer.Hidden
		t.AdamW = NewAdam(len(enc.W))
		t.AdamBias = NewAdam(h)
		rng := Stream(c.Seed, streamOrder, -1, 0)
		switch {
		case c.HeadDim > 0 && c.HeadHidden > 0:
			t.Head = []*Dense{newDense(h, c.HeadHidden, rng), newDense(c.HeadHidden, c.HeadDim, rng)}
		case c.HeadDim > 0:
			t.Head = []*Dense{newDense(h, c.HeadDim, rng)}
		}
	}
	return t, nil
}

// SetEngine sets the ssl engine of a loaded Trainer.
func (t *Trainer) SetEngine(e *ssl.Engine) { t.engine = e }

// Images is a set of grey-scale images, N of Rows × Cols bytes each.
type Images struct {
	Pixels        []uint8
	N, Rows, Cols int
}

func (im Images) image(i int) []uint8 {
	p := im.Rows * im.Cols
	return im.Pixels[i*p : (i+1)*p]
}

// Check returns an error unless the images match the layer's inputs.
func (im Images) check(l Layer) error {
	if im.N < 0 || len(im.Pixels) != im.N*im.Rows*im.Cols {
		return fmt.Errorf("%w: %d pixels for %d images of %d × %d", ErrConfig, len(im.Pixels), im.N, im.Rows, im.Cols)
	}
	if im.Rows*im.Cols != l.Inputs {
		return fmt.Errorf("%w: images of %d × %d pixels for a layer of %d inputs", ErrConfig, im.Rows, im.Cols, l.Inputs)
	}
	return nil
}

// BatchesPerEpoch returns the number of batches of an epoch over n
// images. The last partial batch is kept when it has at least 2 images.
func (t *Trainer) BatchesPerEpoch(n int) int {
	b := n / t.Config.Batch
	if n%t.Config.Batch >= 2 {
		b++
	}
	return b
}

// TrainEpoch runs the rest of the current epoch over the images and moves
// to the next epoch. It calls progress after each batch. When ctx is
// cancelled it returns ctx's error between two batches, leaving the
// Trainer in a state that Save can store and TrainEpoch can continue.
func (t *Trainer) TrainEpoch(ctx context.Context, images Images, progress func()) error {
	if err := images.check(t.Config.Layer); err != nil {
		return err
	}
	order := Stream(t.Config.Seed, streamOrder, t.Epoch, 0).Perm(images.N)
	batches := t.BatchesPerEpoch(images.N)
	for t.Batch < batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		lo := t.Batch * t.Config.Batch
		idx := order[lo:min(lo+t.Config.Batch, images.N)]
		var loss float64
		var err error
		if t.Config.Method == InfoNCE {
			loss, err = t.infoNCEStep(images, idx, t.learningRate(batches))
		} else {
			loss, err = t.csdpStep(images, idx)
		}
		if err != nil {
			return fmt.Errorf("snn: epoch %d, batch %d: %w", t.Epoch+1, t.Batch+1, err)
		}
		t.LossSum += loss
		t.Batches++
		t.Batch++
		if progress != nil {
			progress()
		}
	}
	t.Losses = append(t.Losses, t.LossSum/float64(max(t.Batches, 1)))
	t.Epoch++
	t.Batch, t.LossSum, t.Batches = 0, 0, 0
	return nil
}

// learningRate returns the InfoNCE learning rate of the current batch.
func (t *Trainer) learningRate(batchesPerEpoch int) float64 {
	c := t.Config
	if !c.Cosine {
		return c.LR
	}
	step := float64(t.Epoch*batchesPerEpoch + t.Batch)
	total := float64(c.Epochs * batchesPerEpoch)
	return c.LR * 0.5 * (1 + math.Cos(math.Pi*min(step/total, 1)))
}

// encodeAll encodes images idx in parallel, drawing image i from the
// stream (kind, epoch, i).
func (t *Trainer) encodeAll(images Images, idx []int, kind int, aug *Augment) []Train {
	return encodeParallel(len(idx), func(k int) Train {
		i := idx[k]
		rng := Stream(t.Config.Seed, kind, t.Epoch, i)
		return Encode(images.image(i), images.Rows, images.Cols, t.Config.Layer.Steps, aug, rng)
	})
}

// encodeParallel calls encode for 0..n−1 on all processors.
func encodeParallel(n int, encode func(k int) Train) []Train {
	out := make([]Train, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w; k < n; k += workers {
				out[k] = encode(k)
			}
		})
	}
	wg.Wait()
	return out
}
