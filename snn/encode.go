package snn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Train is the spike train of one image over Steps time steps: the
// indices of the pixels that spike at step t are
// Index[Offsets[t]:Offsets[t+1]], in increasing order.
type Train struct {
	Offsets []int32
	Index   []int32
}

// Steps returns the number of time steps of the train.
func (tr Train) Steps() int { return len(tr.Offsets) - 1 }

// At returns the pixels that spike at step t.
func (tr Train) At(t int) []int32 { return tr.Index[tr.Offsets[t]:tr.Offsets[t+1]] }

// Spikes returns the number of spikes of the train.
func (tr Train) Spikes() int { return len(tr.Index) }

// Augment is the set of random changes that make two views of an image
// for contrastive training. The zero value changes nothing: Encode then
// draws a plain rate code.
type Augment struct {
	// Shift is the largest translation, in pixels, along each axis: the
	// image moves by a uniform integer in [−Shift, Shift] in each
	// direction, with the uncovered border left blank.
	Shift int
	// Dropout is the probability that each input spike is deleted.
	Dropout float64
	// Jitter is the probability that each spike moves one time step,
	// earlier or later with equal chance. A spike moved off either end of
	// the train is deleted.
	Jitter float64
	// Noise is the probability of a background spike at each pixel and
	// step, added to the spikes of the image.
	Noise float64
}

// DefaultAugment returns the augmentation used for InfoNCE training: a
// shift of up to 2 pixels, 10% spike dropout, 10% temporal jitter and
// background noise of 0.5% per pixel and step.
func DefaultAugment() Augment {
	return Augment{Shift: 2, Dropout: 0.1, Jitter: 0.1, Noise: 0.005}
}

// Check returns an error naming the first invalid field.
func (a Augment) Check() error {
	if a.Shift < 0 || a.Shift > 8 {
		return fmt.Errorf("%w: shift is %d pixels, must be in [0, 8]", ErrConfig, a.Shift)
	}
	for _, p := range []struct {
		name  string
		value float64
	}{{"dropout", a.Dropout}, {"jitter", a.Jitter}, {"noise", a.Noise}} {
		if !(p.value >= 0 && p.value <= 1) {
			return fmt.Errorf("%w: %s is %v, must be a probability in [0, 1]", ErrConfig, p.name, p.value)
		}
	}
	return nil
}

// Encode returns the rate code of an image of rows × cols pixels over
// steps time steps: pixel intensity q = value/255 spikes at each step with
// probability q, independently (a Bernoulli spike train).
//
// With an augmentation, the image is first shifted. Each step's spikes are
// then drawn with probability q·(1 − Dropout) + (1 − q·(1 − Dropout))·Noise,
// the distribution of a Bernoulli draw followed by independent dropout and
// background noise. Finally each spike is jittered in time. All randomness
// comes from rng.
func Encode(img []uint8, rows, cols, steps int, aug *Augment, rng *rand.Rand) Train {
	var a Augment
	if aug != nil {
		a = *aug
	}
	dx, dy := 0, 0
	if a.Shift > 0 {
		dx = rng.IntN(2*a.Shift+1) - a.Shift
		dy = rng.IntN(2*a.Shift+1) - a.Shift
	}

	// thresholds[k] is the spike probability of the k-th lit pixel,
	// scaled to 2³²; the background pixels spike with probability Noise.
	keep := 1 - a.Dropout
	lit := make([]uint16, 0, 200)
	thresholds := make([]uint64, 0, 200)
	isLit := make([]bool, rows*cols)
	for r := range rows {
		sr := r - dy
		if sr < 0 || sr >= rows {
			continue
		}
		for c := range cols {
			sc := c - dx
			if sc < 0 || sc >= cols {
				continue
			}
			v := img[sr*cols+sc]
			if v == 0 {
				continue
			}
			q := float64(v) / 255 * keep
			p := q + (1-q)*a.Noise
			lit = append(lit, uint16(r*cols+c))
			thresholds = append(thresholds, uint64(p*(1<<32)))
			isLit[r*cols+c] = true
		}
	}

	perStep := make([][]uint16, steps)
	for t := range steps {
		var spikes []uint16
		for k, pixel := range lit {
			if uint64(rng.Uint32()) < thresholds[k] {
				spikes = append(spikes, pixel)
			}
		}
		if a.Noise > 0 {
			spikes = addNoise(spikes, isLit, a.Noise, rng)
		}
		perStep[t] = spikes
	}
	if a.Jitter > 0 {
		perStep = jitter(perStep, rows*cols, a.Jitter, rng)
	}

	tr := Train{Offsets: make([]int32, steps+1)}
	for t, spikes := range perStep {
		for _, p := range spikes {
			tr.Index = append(tr.Index, int32(p))
		}
		tr.Offsets[t+1] = int32(len(tr.Index))
	}
	return tr
}

// addNoise adds background spikes with probability p at each pixel that
// is not lit, skipping ahead by geometric draws, and returns the spikes in
// increasing order.
func addNoise(spikes []uint16, isLit []bool, p float64, rng *rand.Rand) []uint16 {
	n := len(isLit)
	var noise []uint16
	if p >= 1 {
		for i := range n {
			if !isLit[i] {
				noise = append(noise, uint16(i))
			}
		}
	} else {
		logKeep := math.Log1p(-p)
		for i := -1; ; {
			// The gap to the next background spike is geometric.
			i += 1 + int(math.Log(1-rng.Float64())/logKeep)
			if i >= n || i < 0 {
				break
			}
			if !isLit[i] {
				noise = append(noise, uint16(i))
			}
		}
	}
	return mergeSorted(spikes, noise)
}

// jitter moves each spike one step earlier or later with probability p.
// Two spikes of one pixel that land on the same step merge into one.
func jitter(perStep [][]uint16, pixels int, p float64, rng *rand.Rand) [][]uint16 {
	steps := len(perStep)
	moved := make([][]bool, steps)
	for t := range moved {
		moved[t] = make([]bool, pixels)
	}
	for t, spikes := range perStep {
		for _, pixel := range spikes {
			target := t
			if rng.Float64() < p {
				if rng.IntN(2) == 0 {
					target--
				} else {
					target++
				}
			}
			if target >= 0 && target < steps {
				moved[target][pixel] = true
			}
		}
	}
	out := make([][]uint16, steps)
	for t, row := range moved {
		for pixel, spike := range row {
			if spike {
				out[t] = append(out[t], uint16(pixel))
			}
		}
	}
	return out
}

// mergeSorted merges two increasing lists of distinct pixels.
func mergeSorted(a, b []uint16) []uint16 {
	if len(b) == 0 {
		return a
	}
	out := make([]uint16, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// Stream returns the random source of one image draw: the same seed, kind,
// epoch and image index always give the same numbers, whatever the order
// in which images are processed.
func Stream(seed uint64, kind, epoch, index int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(kind)<<56^uint64(epoch)<<32^uint64(index)))
}
