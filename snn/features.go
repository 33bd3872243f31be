package snn

import "context"

// Features returns the (images.N, Hidden) spike rates of the encoder for
// plain rate codes of the images, image i drawn from the stream
// (seed, set, i): the frozen features that a linear probe reads. Use a
// different set for each image set so that their draws differ. It calls
// progress with the number of images done after each chunk.
func (e *Encoder) Features(ctx context.Context, images Images, seed uint64, set int, progress func(done int)) ([]float32, error) {
	if err := images.check(e.Layer); err != nil {
		return nil, err
	}
	const chunk = 1024
	out := make([]float32, images.N*e.Hidden)
	for lo := 0; lo < images.N; lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+chunk, images.N)
		trains := encodeParallel(hi-lo, func(k int) Train {
			rng := Stream(seed, streamProbe, set, lo+k)
			return Encode(images.image(lo+k), images.Rows, images.Cols, e.Steps, nil, rng)
		})
		e.Rates(trains, out[lo*e.Hidden:hi*e.Hidden], nil)
		if progress != nil {
			progress(hi)
		}
	}
	return out, nil
}
