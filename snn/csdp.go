package snn

import (
	"math"
	"math/rand/v2"

	"github.com/spikessl/spikessl/ssl"
)

// csdpStep applies one CSDP update for a batch: the real images are the
// positive phase, and mask blends of each image with another image drawn
// at random from the set are the negative phase. It returns the logistic
// loss of telling the two phases apart by goodness, before the update.
func (t *Trainer) csdpStep(images Images, idx []int) (float64, error) {
	c := t.Config
	enc := t.Encoder
	b, h, inputs := len(idx), c.Layer.Hidden, c.Layer.Inputs

	real := t.encodeAll(images, idx, streamReal, nil)
	blended := encodeParallel(b, func(k int) Train {
		i := idx[k]
		rng := Stream(c.Seed, streamBlend, t.Epoch, i)
		j := rng.IntN(images.N - 1)
		if j >= i {
			j++
		}
		img := Blend(images.image(i), images.image(j), images.Rows, images.Cols, rng)
		return Encode(img, images.Rows, images.Cols, c.Layer.Steps, nil, rng)
	})

	pos := ssl.Phase[float32]{
		Pre:  ssl.Matrix[float32]{Rows: b, Cols: inputs, Data: InputRates(real, inputs)},
		Post: ssl.Matrix[float32]{Rows: b, Cols: h, Data: make([]float32, b*h)},
	}
	neg := ssl.Phase[float32]{
		Pre:  ssl.Matrix[float32]{Rows: b, Cols: inputs, Data: InputRates(blended, inputs)},
		Post: ssl.Matrix[float32]{Rows: b, Cols: h, Data: make([]float32, b*h)},
	}
	enc.Rates(real, pos.Post.Data, nil)
	enc.Rates(blended, neg.Post.Data, nil)

	loss, err := t.goodnessLoss(pos.Post, neg.Post)
	if err != nil {
		return 0, err
	}
	weights := ssl.Matrix[float32]{Rows: h, Cols: inputs, Data: enc.WeightsPostPre()}
	var res ssl.UpdateResult[float32]
	if c.Method == CSDPPlain {
		res, err = ssl.CSDPStep(t.engine, c.Rule, weights, pos, neg)
	} else {
		res, err = ssl.CSDPModulated(t.engine, c.Rule, weights, pos, neg)
	}
	if err != nil {
		return 0, err
	}
	enc.SetWeightsPostPre(res.Weights.Data)
	t.Backend, t.Device = res.Backend, res.Device
	return loss, nil
}

// goodnessLoss returns the mean logistic loss of σ(goodness − θ) as the
// probability that a sample is real, over both phases.
func (t *Trainer) goodnessLoss(pos, neg ssl.Matrix[float32]) (float64, error) {
	theta := t.Config.Rule.Threshold
	var sum float64
	for _, phase := range []struct {
		post ssl.Matrix[float32]
		real bool
	}{{pos, true}, {neg, false}} {
		g, err := ssl.Goodness(t.engine, phase.post)
		if err != nil {
			return 0, err
		}
		for _, gs := range g.PerRow {
			x := gs - theta
			if !phase.real {
				x = -x
			}
			sum += softplus(-x) // −log σ(x)
		}
	}
	return sum / float64(pos.Rows+neg.Rows), nil
}

// softplus returns log(1 + eˣ) without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// InputRates returns the (len(trains), inputs) input spike rates: the
// number of spikes of each pixel divided by the number of steps.
func InputRates(trains []Train, inputs int) []float32 {
	out := make([]float32, len(trains)*inputs)
	for s, tr := range trains {
		row := out[s*inputs : (s+1)*inputs]
		inv := 1 / float32(tr.Steps())
		for _, p := range tr.Index {
			row[p] += inv
		}
	}
	return out
}

// Blend returns the mask blend m·a + (1 − m)·b of two images, a corrupted
// image for the negative phase. The mask is random noise smoothed six
// times with the filter [¼ ½ ¼] along rows and columns and thresholded at
// ½, so it keeps large regions of each image and the result has strokes
// of both digits.
func Blend(a, b []uint8, rows, cols int, rng *rand.Rand) []uint8 {
	mask := make([]float64, rows*cols)
	for i := range mask {
		mask[i] = rng.Float64()
	}
	tmp := make([]float64, rows*cols)
	for range 6 {
		smooth(mask, tmp, rows, cols, 1)
		smooth(tmp, mask, rows, cols, cols)
	}
	out := make([]uint8, rows*cols)
	for i, m := range mask {
		if m >= 0.5 {
			out[i] = a[i]
		} else {
			out[i] = b[i]
		}
	}
	return out
}

// smooth applies the filter [¼ ½ ¼] along one axis, stride 1 for rows and
// cols for columns, repeating the edge values.
func smooth(src, dst []float64, rows, cols, stride int) {
	n := cols
	if stride != 1 {
		n = rows
	}
	for i := range src {
		pos := i % cols
		if stride != 1 {
			pos = i / cols
		}
		prev, next := i-stride, i+stride
		if pos == 0 {
			prev = i
		}
		if pos == n-1 {
			next = i
		}
		dst[i] = 0.25*src[prev] + 0.5*src[i] + 0.25*src[next]
	}
}
