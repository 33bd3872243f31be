package probe

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// blobs returns n rows of d features in classes Gaussian clusters whose
// centres lie 6 standard deviations apart, and the labels.
func blobs(n, d, classes int, seed uint64) ([]float32, []uint8) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float64, classes*d)
	for i := range centres {
		centres[i] = 6 * rng.NormFloat64()
	}
	x := make([]float32, n*d)
	labels := make([]uint8, n)
	for i := range n {
		c := i % classes
		labels[i] = uint8(c)
		for j := range d {
			x[i*d+j] = float32(centres[c*d+j] + rng.NormFloat64())
		}
	}
	return x, labels
}

func TestFitSeparableData(t *testing.T) {
	tests := []struct {
		name          string
		n, d, classes int
	}{
		{"many rows", 3000, 20, 10},
		{"few rows", 100, 50, 10},
		{"two classes", 400, 5, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, labels := blobs(tt.n, tt.d, tt.classes, 1)
			model, err := Fit(context.Background(), x, tt.n, tt.d, labels, tt.classes, DefaultOptions(tt.n))
			if err != nil {
				t.Fatal(err)
			}
			testX, testLabels := blobs(1000, tt.d, tt.classes, 1) // same centres, fresh noise
			acc, err := model.Accuracy(testX[:1000*tt.d], 1000, testLabels)
			if err != nil {
				t.Fatal(err)
			}
			if acc < 0.99 {
				t.Errorf("accuracy %.4f on separable data, want ≥ 0.99", acc)
			}
		})
	}
}

func TestFitReproducible(t *testing.T) {
	x, labels := blobs(600, 8, 3, 2)
	opt := DefaultOptions(600)
	opt.Epochs = 3
	a, err := Fit(context.Background(), x, 600, 8, labels, 3, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(context.Background(), x, 600, 8, labels, 3, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.W, b.W) || !slices.Equal(a.B, b.B) {
		t.Error("two fits with the same seed differ")
	}
	opt.Seed++
	c, err := Fit(context.Background(), x, 600, 8, labels, 3, opt)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.W, c.W) {
		t.Error("fits with different seeds are identical")
	}
}

func TestFitDoesNotModifyInput(t *testing.T) {
	x, labels := blobs(200, 4, 2, 3)
	before := slices.Clone(x)
	if _, err := Fit(context.Background(), x, 200, 4, labels, 2, DefaultOptions(200)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, before) {
		t.Error("Fit modified its features")
	}
}

func TestFitInvalidInput(t *testing.T) {
	x, labels := blobs(10, 2, 2, 4)
	nan := slices.Clone(x)
	nan[3] = float32(math.NaN())
	bad := slices.Clone(labels)
	bad[4] = 7
	opt := DefaultOptions(10)
	tests := []struct {
		name    string
		x       []float32
		n, d    int
		labels  []uint8
		classes int
		opt     Options
	}{
		{"shape", x, 10, 3, labels, 2, opt},
		{"no rows", nil, 0, 2, nil, 2, opt},
		{"label count", x, 10, 2, labels[:9], 2, opt},
		{"one class", x, 10, 2, labels, 1, opt},
		{"label out of range", x, 10, 2, bad, 2, opt},
		{"NaN feature", nan, 10, 2, labels, 2, opt},
		{"zero epochs", x, 10, 2, labels, 2, Options{BatchSize: 10, LR: 0.1}},
		{"zero rate", x, 10, 2, labels, 2, Options{Epochs: 1, BatchSize: 10}},
	}
	for _, tt := range tests {
		_, err := Fit(context.Background(), tt.x, tt.n, tt.d, tt.labels, tt.classes, tt.opt)
		if !errors.Is(err, ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", tt.name, err)
		}
	}
}

func TestFitCancelled(t *testing.T) {
	x, labels := blobs(100, 2, 2, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, x, 100, 2, labels, 2, DefaultOptions(100)); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}
