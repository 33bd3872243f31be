package ssl_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/spikessl/spikessl/ssl"
)

func cpuEngine(t testing.TB) *ssl.Engine {
	t.Helper()
	e, err := ssl.New(ssl.Options{Backend: ssl.BackendCPU})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func filled(rows, cols int, value float64) ssl.Matrix[float64] {
	m := ssl.Matrix[float64]{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
	for i := range m.Data {
		m.Data[i] = value + float64(i)
	}
	return m
}

func withValue(m ssl.Matrix[float64], k int, v float64) ssl.Matrix[float64] {
	m = m.Clone()
	m.Data[k] = v
	return m
}

func TestInfoNCEInvalidInput(t *testing.T) {
	e := cpuEngine(t)
	good := filled(4, 3, 0.1)
	cases := []struct {
		name        string
		a, b        ssl.Matrix[float64]
		temperature float64
		target      error
		mention     string
	}{
		{"temperature zero", good, good, 0, ssl.ErrInvalidParameter, "temperature is 0"},
		{"temperature negative", good, good, -0.5, ssl.ErrInvalidParameter, "temperature is -0.5"},
		{"temperature NaN", good, good, math.NaN(), ssl.ErrInvalidParameter, "temperature is NaN"},
		{"temperature +Inf", good, good, math.Inf(1), ssl.ErrInvalidParameter, "temperature is +Inf"},
		{"temperature -Inf", good, good, math.Inf(-1), ssl.ErrInvalidParameter, "temperature is -Inf"},
		{"shapes differ", good, filled(5, 3, 0.1), 0.5, ssl.ErrShape, "view_b is (5, 3)"},
		{"features differ", good, filled(4, 2, 0.1), 0.5, ssl.ErrShape, "view_a is (4, 3)"},
		{"zero features", filled(4, 0, 0), filled(4, 0, 0), 0.5, ssl.ErrShape, "0 features"},
		{"NaN in view_a", withValue(good, 4, math.NaN()), good, 0.5, ssl.ErrNotFinite, "view_a[1, 1] is NaN"},
		{"Inf in view_b", good, withValue(good, 11, math.Inf(-1)), 0.5, ssl.ErrNotFinite, "view_b[3, 2] is -Inf"},
		{"data shorter than shape", ssl.Matrix[float64]{Rows: 4, Cols: 3, Data: good.Data[:11]}, good, 0.5, ssl.ErrShape, "view_a has 11 values"},
		{"negative rows", ssl.Matrix[float64]{Rows: -1, Cols: 3}, good, 0.5, ssl.ErrShape, "shape (-1, 3)"},
		{"temperature subnormal", good, good, 1e-310, ssl.ErrInvalidParameter, "below the float64 limit of 1.11e-308: use a larger temperature"},
		{"temperature whose logits span overflows", good, good, 1e-308, ssl.ErrInvalidParameter, "below the float64 limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ssl.InfoNCEGrad(e, c.a, c.b, ssl.InfoNCEOptions{Temperature: c.temperature})
			if err == nil {
				t.Fatal("got nil error")
			}
			if c.target != nil && !errors.Is(err, c.target) {
				t.Errorf("error %q does not wrap %q", err, c.target)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not mention %q", err, c.mention)
			}
		})
	}
}

func TestCSDPInvalidInput(t *testing.T) {
	e := cpuEngine(t)
	weights := filled(3, 4, 0.1) // (n_post, n_pre)
	pos := ssl.Phase[float64]{Pre: filled(2, 4, 0), Post: filled(2, 3, 0)}
	cases := []struct {
		name    string
		rule    ssl.CSDP
		weights ssl.Matrix[float64]
		pos     ssl.Phase[float64]
		target  error
		mention string
	}{
		{"weights transposed", ssl.DefaultCSDP(), filled(4, 3, 0.1), pos, ssl.ErrShape, "must be (n_post, n_pre) = (3, 4)"},
		{"batches differ", ssl.DefaultCSDP(), weights, ssl.Phase[float64]{Pre: filled(3, 4, 0), Post: filled(2, 3, 0)}, ssl.ErrShape, "pos_pre has 3 samples and pos_post has 2"},
		{"negative lr", ssl.CSDP{LR: -0.1}, weights, pos, ssl.ErrInvalidParameter, "lr is -0.1"},
		{"NaN lr", ssl.CSDP{LR: math.NaN()}, weights, pos, ssl.ErrInvalidParameter, "lr is NaN"},
		{"infinite decay", ssl.CSDP{LR: 0.1, Decay: math.Inf(1)}, weights, pos, ssl.ErrInvalidParameter, "decay is +Inf"},
		{"negative decay", ssl.CSDP{LR: 0.1, Decay: -1e-3}, weights, pos, ssl.ErrInvalidParameter, "decay is -0.001"},
		{"NaN weight", ssl.DefaultCSDP(), withValue(weights, 5, math.NaN()), pos, ssl.ErrNotFinite, "weights[1, 1] is NaN"},
		{"Inf activity", ssl.DefaultCSDP(), weights, ssl.Phase[float64]{Pre: withValue(filled(2, 4, 0), 0, math.Inf(1)), Post: filled(2, 3, 0)}, ssl.ErrNotFinite, "pos_pre[0, 0] is +Inf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.weights.Clone()
			_, err := ssl.CSDPStep(e, c.rule, c.weights, c.pos, c.pos)
			if err == nil {
				t.Fatal("got nil error")
			}
			if !errors.Is(err, c.target) {
				t.Errorf("error %q does not wrap %q", err, c.target)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not mention %q", err, c.mention)
			}
			for i := range before.Data {
				if !(c.weights.Data[i] == before.Data[i] || math.IsNaN(before.Data[i])) {
					t.Fatalf("weights[%d] changed", i)
				}
			}
		})
	}

	t.Run("NaN threshold", func(t *testing.T) {
		_, err := ssl.CSDPModulated(e, ssl.CSDP{LR: 0.1, Threshold: math.NaN()}, weights, pos, pos)
		if !errors.Is(err, ssl.ErrInvalidParameter) {
			t.Fatalf("error %v does not wrap ErrInvalidParameter", err)
		}
	})
}

func TestParseBackendKind(t *testing.T) {
	for _, c := range []struct {
		in   string
		want ssl.BackendKind
		ok   bool
	}{
		{"", ssl.BackendAuto, true},
		{"auto", ssl.BackendAuto, true},
		{"cpu", ssl.BackendCPU, true},
		{"opencl", ssl.BackendOpenCL, true},
		{"cuda", "", false},
		{"CPU", "", false},
	} {
		got, err := ssl.ParseBackendKind(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseBackendKind(%q) = %q, %v; want %q, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestFloat32Limits(t *testing.T) {
	e := cpuEngine(t)
	views := ssl.Matrix[float32]{Rows: 2, Cols: 2, Data: []float32{1, 0, 0, 1}}

	_, err := ssl.InfoNCELoss(e, views, views, ssl.InfoNCEOptions{Temperature: 1e-40})
	if !errors.Is(err, ssl.ErrInvalidParameter) || !strings.Contains(err.Error(), "float32 limit") {
		t.Errorf("temperature 1e-40 in float32: error %v, want ErrInvalidParameter naming the float32 limit", err)
	}
	if _, err := ssl.InfoNCELoss(e, views, views, ssl.InfoNCEOptions{Temperature: 1e-37}); err != nil {
		t.Errorf("temperature 1e-37 in float32: %v", err)
	}
	// Just above the limit the loss is finite, but the gradients of rows
	// with small norms, about 1/(temperature·norm), are not.
	small := ssl.Matrix[float32]{Rows: 2, Cols: 2, Data: []float32{1e-3, 2e-3, -2e-3, 1e-3}}
	_, err = ssl.InfoNCEGrad(e, small, views, ssl.InfoNCEOptions{Temperature: 6e-39})
	if !errors.Is(err, ssl.ErrNotFinite) || !strings.Contains(err.Error(), "grad_a[") {
		t.Errorf("temperature 6e-39 in float32: error %v, want ErrNotFinite naming a grad_a element", err)
	}

	weights := ssl.Matrix[float32]{Rows: 1, Cols: 2, Data: []float32{0.5, 0.5}}
	phase := ssl.Phase[float32]{Pre: ssl.RowVector([]float32{1, 1}), Post: ssl.RowVector([]float32{1})}
	before := weights.Clone()
	for _, rule := range []ssl.CSDP{{LR: 1e39}, {LR: 0.1, Decay: 1e308}} {
		_, err := ssl.CSDPStep(e, rule, weights, phase, ssl.Phase[float32]{Pre: ssl.Matrix[float32]{Cols: 2}, Post: ssl.Matrix[float32]{Cols: 1}})
		if !errors.Is(err, ssl.ErrNotFinite) || !strings.Contains(err.Error(), "too large for float32") {
			t.Errorf("rule %+v: error %v, want ErrNotFinite naming float32", rule, err)
		}
	}
	for i := range weights.Data {
		if weights.Data[i] != before.Data[i] {
			t.Fatalf("weights[%d] changed", i)
		}
	}
}

func TestNewMatrixShape(t *testing.T) {
	_, err := ssl.NewMatrix(2, 3, make([]float64, 5))
	if !errors.Is(err, ssl.ErrShape) {
		t.Errorf("NewMatrix(2, 3, 5 values): error %v, want ErrShape", err)
	}
	m, err := ssl.NewMatrix(2, 3, make([]float64, 6))
	if err != nil || m.Rows != 2 || m.Cols != 3 {
		t.Errorf("NewMatrix(2, 3, 6 values) = %+v, %v", m, err)
	}
}

func TestGoodnessOverflow(t *testing.T) {
	x := ssl.Matrix[float64]{Rows: 1, Cols: 2, Data: []float64{1e200, 1e200}}
	_, err := ssl.Goodness(cpuEngine(t), x)
	if !errors.Is(err, ssl.ErrNotFinite) {
		t.Errorf("goodness of 1e200: error %v, want ErrNotFinite", err)
	}
}
