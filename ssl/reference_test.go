package ssl_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/spikessl/spikessl/ssl"
)

// referenceCases are values computed in float64 from the defining
// formulas, independently of this module.
type referenceCases struct {
	InfoNCE []struct {
		Name        string
		Note        string
		Temperature float64
		ViewA       [][]float64 `json:"view_a"`
		ViewB       [][]float64 `json:"view_b"`
		Loss        float64
		GradA       [][]float64 `json:"grad_a"`
		GradB       [][]float64 `json:"grad_b"`
	}
	CSDP []struct {
		Name            string
		LR, Decay       float64
		Weights         [][]float64
		PosPre          json.RawMessage `json:"pos_pre"`
		PosPost         json.RawMessage `json:"pos_post"`
		NegPre          json.RawMessage `json:"neg_pre"`
		NegPost         json.RawMessage `json:"neg_post"`
		PositiveUpdate  [][]float64     `json:"positive_update"`
		NegativeUpdate  [][]float64     `json:"negative_update"`
		ContrastiveStep [][]float64     `json:"contrastive_step"`
		GoodnessPosPost float64         `json:"goodness_pos_post"`
	}
}

func loadReference(t *testing.T) referenceCases {
	t.Helper()
	data, err := os.ReadFile("../testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases referenceCases
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases.InfoNCE) == 0 || len(cases.CSDP) == 0 {
		t.Fatal("reference file has no cases")
	}
	return cases
}

// matrixOf converts rows of float64 to a Matrix of T.
func matrixOf[T ssl.Float](rows [][]float64) ssl.Matrix[T] {
	m := ssl.Matrix[T]{Rows: len(rows)}
	if len(rows) > 0 {
		m.Cols = len(rows[0])
	}
	for _, row := range rows {
		for _, x := range row {
			m.Data = append(m.Data, T(x))
		}
	}
	return m
}

// activity decodes a vector (one sample) or a matrix (a batch).
func activity[T ssl.Float](t *testing.T, raw json.RawMessage) ssl.Matrix[T] {
	t.Helper()
	var rows [][]float64
	if err := json.Unmarshal(raw, &rows); err == nil {
		return matrixOf[T](rows)
	}
	var vector []float64
	if err := json.Unmarshal(raw, &vector); err != nil {
		t.Fatal(err)
	}
	return matrixOf[T]([][]float64{vector})
}

// relativeError returns max|got − want| / max(max|want|, tiny).
func relativeError[T ssl.Float](got ssl.Matrix[T], want [][]float64) float64 {
	var diff, scale float64
	k := 0
	for _, row := range want {
		for _, w := range row {
			diff = max(diff, math.Abs(float64(got.Data[k])-w))
			scale = max(scale, math.Abs(w))
			k++
		}
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

func relative(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestReferenceInfoNCE(t *testing.T) {
	cases := loadReference(t)
	cpu, err := ssl.New(ssl.Options{Backend: ssl.BackendCPU})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases.InfoNCE {
		t.Run(c.Name+"/float64", func(t *testing.T) {
			checkReferenceInfoNCE[float64](t, cpu, c.ViewA, c.ViewB, c.Temperature, c.Loss, c.GradA, c.GradB, 1e-12)
		})
		t.Run(c.Name+"/float32", func(t *testing.T) {
			checkReferenceInfoNCE[float32](t, cpu, c.ViewA, c.ViewB, c.Temperature, c.Loss, c.GradA, c.GradB, 1e-5)
		})
	}
}

func checkReferenceInfoNCE[T ssl.Float](t *testing.T, e *ssl.Engine, a, b [][]float64, temperature, loss float64, gradA, gradB [][]float64, tol float64) {
	t.Helper()
	opt := ssl.InfoNCEOptions{Temperature: temperature}
	got, err := ssl.InfoNCEGrad(e, matrixOf[T](a), matrixOf[T](b), opt)
	if err != nil {
		t.Fatal(err)
	}
	if r := relative(got.Loss, loss); r > tol {
		t.Errorf("loss = %.17g, want %.17g (relative error %.3g > %.0e)", got.Loss, loss, r, tol)
	}
	if r := relativeError(got.GradA, gradA); r > tol {
		t.Errorf("grad_a relative error %.3g > %.0e", r, tol)
	}
	if r := relativeError(got.GradB, gradB); r > tol {
		t.Errorf("grad_b relative error %.3g > %.0e", r, tol)
	}

	lossOnly, err := ssl.InfoNCELoss(e, matrixOf[T](a), matrixOf[T](b), opt)
	if err != nil {
		t.Fatal(err)
	}
	if lossOnly.Loss != got.Loss {
		t.Errorf("InfoNCELoss = %.17g, InfoNCEGrad loss = %.17g, want equal", lossOnly.Loss, got.Loss)
	}
}

func TestReferenceCSDP(t *testing.T) {
	cases := loadReference(t)
	cpu, err := ssl.New(ssl.Options{Backend: ssl.BackendCPU})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases.CSDP {
		t.Run(c.Name+"/float64", func(t *testing.T) {
			checkReferenceCSDP[float64](t, cpu, c.LR, c.Decay, c.Weights, c.PosPre, c.PosPost, c.NegPre, c.NegPost, c.PositiveUpdate, c.NegativeUpdate, c.ContrastiveStep, c.GoodnessPosPost, 1e-12)
		})
		t.Run(c.Name+"/float32", func(t *testing.T) {
			checkReferenceCSDP[float32](t, cpu, c.LR, c.Decay, c.Weights, c.PosPre, c.PosPost, c.NegPre, c.NegPost, c.PositiveUpdate, c.NegativeUpdate, c.ContrastiveStep, c.GoodnessPosPost, 1e-5)
		})
	}
}

func checkReferenceCSDP[T ssl.Float](t *testing.T, e *ssl.Engine, lr, decay float64, weights [][]float64, posPre, posPost, negPre, negPost json.RawMessage, wantPos, wantNeg, wantStep [][]float64, goodness, tol float64) {
	t.Helper()
	rule := ssl.CSDP{LR: lr, Decay: decay}
	w := matrixOf[T](weights)
	before := w.Clone()
	pos := ssl.Phase[T]{Pre: activity[T](t, posPre), Post: activity[T](t, posPost)}
	neg := ssl.Phase[T]{Pre: activity[T](t, negPre), Post: activity[T](t, negPost)}

	got, err := ssl.CSDPPositive(e, rule, w, pos)
	if err != nil {
		t.Fatal(err)
	}
	if r := relativeError(got.Weights, wantPos); r > tol {
		t.Errorf("positive update relative error %.3g > %.0e", r, tol)
	}
	got, err = ssl.CSDPNegative(e, rule, w, neg)
	if err != nil {
		t.Fatal(err)
	}
	if r := relativeError(got.Weights, wantNeg); r > tol {
		t.Errorf("negative update relative error %.3g > %.0e", r, tol)
	}
	got, err = ssl.CSDPStep(e, rule, w, pos, neg)
	if err != nil {
		t.Fatal(err)
	}
	if r := relativeError(got.Weights, wantStep); r > tol {
		t.Errorf("contrastive step relative error %.3g > %.0e", r, tol)
	}
	for i := range w.Data {
		if w.Data[i] != before.Data[i] {
			t.Fatalf("weights[%d] changed from %v to %v", i, before.Data[i], w.Data[i])
		}
	}

	g, err := ssl.Goodness(e, pos.Post)
	if err != nil {
		t.Fatal(err)
	}
	if r := relative(g.Total, goodness); r > tol {
		t.Errorf("goodness = %.17g, want %.17g", g.Total, goodness)
	}
}
