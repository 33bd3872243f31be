package ssl

import (
	"fmt"
	"math"
)

// CSDP is a contrastive signal-dependent plasticity rule.
type CSDP struct {
	// LR is the learning rate: finite and ≥ 0.
	LR float64
	// Decay is the weight decay of the positive phase: finite and ≥ 0.
	Decay float64
	// Threshold is θ in σ(goodness − θ), used by the goodness-modulated
	// rule only: finite.
	Threshold float64
}

// Defaults of CSDP.
const (
	DefaultLR        = 0.01
	DefaultDecay     = 0.001
	DefaultThreshold = 1.0
)

// DefaultCSDP returns the rule with lr 0.01, decay 0.001 and threshold 1.
func DefaultCSDP() CSDP {
	return CSDP{LR: DefaultLR, Decay: DefaultDecay, Threshold: DefaultThreshold}
}

// Phase is the activity presented in one phase: pre-synaptic activity of
// shape (batch, nPre) and post-synaptic activity of shape (batch, nPost).
// A single sample is a batch of one.
type Phase[T Float] struct {
	Pre, Post Matrix[T]
}

// UpdateResult is the outcome of a CSDP update.
type UpdateResult[T Float] struct {
	// Weights are the updated weights, newly allocated.
	Weights Matrix[T]
	// Backend and Device name where the call ran.
	Backend, Device string
}

// CSDPPositive returns weights + lr·mean_s(post_s⊗pre_s) − decay·weights,
// the Hebbian update on real data.
func CSDPPositive[T Float](e *Engine, r CSDP, weights Matrix[T], pos Phase[T]) (UpdateResult[T], error) {
	return csdpUpdate(e, r, weights, "positive", &pos, nil, false)
}

// CSDPNegative returns weights − lr·mean_s(post_s⊗pre_s), the
// anti-Hebbian update on corrupted data.
func CSDPNegative[T Float](e *Engine, r CSDP, weights Matrix[T], neg Phase[T]) (UpdateResult[T], error) {
	return csdpUpdate(e, r, weights, "negative", nil, &neg, false)
}

// CSDPStep returns the positive update on pos followed by the negative
// update on neg:
// weights + lr·mean(pos.Post⊗pos.Pre) − decay·weights − lr·mean(neg.Post⊗neg.Pre).
func CSDPStep[T Float](e *Engine, r CSDP, weights Matrix[T], pos, neg Phase[T]) (UpdateResult[T], error) {
	return csdpUpdate(e, r, weights, "step", &pos, &neg, false)
}

// CSDPModulated returns the goodness-modulated update over the samples of
// both phases, real (label 1) in pos and corrupted (label 0) in neg:
//
//	weights − lr·(1/N)·Σ_s (σ(g_s − θ) − y_s)·2·z_s⊗pre_s − decay·weights
//
// where z_s is the post-synaptic activity of sample s, g_s = Σ z_s², and N
// counts the samples of both phases. It is the gradient step that lowers
// the logistic loss of classifying real against corrupted samples by their
// goodness, taken locally at each synapse.
func CSDPModulated[T Float](e *Engine, r CSDP, weights Matrix[T], pos, neg Phase[T]) (UpdateResult[T], error) {
	return csdpUpdate(e, r, weights, "modulated", &pos, &neg, true)
}

func csdpUpdate[T Float](e *Engine, r CSDP, weights Matrix[T], name string, pos, neg *Phase[T], modulated bool) (UpdateResult[T], error) {
	if err := checkRule(r, modulated); err != nil {
		return UpdateResult[T]{}, err
	}
	if err := checkMatrix("weights", weights); err != nil {
		return UpdateResult[T]{}, err
	}
	if pos != nil {
		if err := checkPhase("pos", weights, *pos); err != nil {
			return UpdateResult[T]{}, err
		}
	}
	if neg != nil {
		if err := checkPhase("neg", weights, *neg); err != nil {
			return UpdateResult[T]{}, err
		}
	}
	e = engine(e)
	nPost, nPre := weights.Rows, weights.Cols

	var samples int
	for _, p := range []*Phase[T]{pos, neg} {
		if p != nil {
			samples += p.Pre.Rows
		}
	}
	work := int64(samples) * int64(nPost) * int64(nPre)

	out := make([]T, len(weights.Data))
	backend, err := e.run("csdp "+name, work, func(backend Backend) error {
		if modulated {
			return modulatedUpdate(backend, r, weights, *pos, *neg, out)
		}
		// The positive phase scales the old weights by 1 − decay; the
		// negative phase then starts from out, so it scales by 1.
		first := true
		if pos != nil {
			if err := outerUpdate(backend, weights.Data, nPost, nPre, *pos, nil, r.LR/float64(max(pos.Pre.Rows, 1)), 1-r.Decay, out); err != nil {
				return err
			}
			first = false
		}
		if neg != nil {
			src := out
			if first {
				src = weights.Data
			}
			return outerUpdate(backend, src, nPost, nPre, *neg, nil, -r.LR/float64(max(neg.Pre.Rows, 1)), 1, out)
		}
		return nil
	})
	if err == nil {
		err = checkFinite("updated weights", Matrix[T]{Rows: nPost, Cols: nPre, Data: out})
	}
	if err != nil {
		return UpdateResult[T]{}, fmt.Errorf("ssl: CSDP %s update of %d × %d weights: %w", name, nPost, nPre, err)
	}
	return UpdateResult[T]{
		Weights: Matrix[T]{Rows: nPost, Cols: nPre, Data: out},
		Backend: backend.Name(),
		Device:  backend.Device(),
	}, nil
}

// modulatedUpdate computes the goodness-modulated update into out.
func modulatedUpdate[T Float](backend Backend, r CSDP, weights Matrix[T], pos, neg Phase[T], out []T) error {
	n := pos.Pre.Rows + neg.Pre.Rows
	if n == 0 {
		for i, w := range weights.Data {
			out[i] = T((1 - r.Decay) * float64(w))
		}
		return nil
	}
	alpha := -2 * r.LR / float64(n)
	src, beta := weights.Data, 1-r.Decay
	for _, phase := range []struct {
		Phase[T]
		label float64
	}{{pos, 1}, {neg, 0}} {
		goodness, err := rowGoodness(backend, phase.Post)
		if err != nil {
			return err
		}
		scale := make([]T, len(goodness))
		for s, g := range goodness {
			scale[s] = T(modulation(g-r.Threshold, phase.label))
		}
		if err := outerUpdate(backend, src, weights.Rows, weights.Cols, phase.Phase, scale, alpha, beta, out); err != nil {
			return err
		}
		src, beta = out, 1
	}
	return nil
}

func outerUpdate[T Float](backend Backend, weights []T, nPost, nPre int, p Phase[T], scale []T, alpha, beta float64, out []T) error {
	switch w := any(weights).(type) {
	case []float64:
		return backend.OuterUpdate64(w, nPost, nPre, any(p.Post.Data).([]float64), any(p.Pre.Data).([]float64), p.Pre.Rows, any(scale).([]float64), alpha, beta, any(out).([]float64))
	case []float32:
		return backend.OuterUpdate32(w, nPost, nPre, any(p.Post.Data).([]float32), any(p.Pre.Data).([]float32), p.Pre.Rows, any(scale).([]float32), alpha, beta, any(out).([]float32))
	}
	panic("unreachable")
}

func rowGoodness[T Float](backend Backend, x Matrix[T]) ([]float64, error) {
	out := make([]float64, x.Rows)
	var err error
	switch data := any(x.Data).(type) {
	case []float64:
		err = backend.Goodness64(data, x.Rows, x.Cols, out)
	case []float32:
		err = backend.Goodness32(data, x.Rows, x.Cols, out)
	}
	return out, err
}

// modulation returns σ(x) − label for a label of 0 or 1. For label 1 it
// is −σ(−x), which keeps its relative precision where σ(x) is close to 1
// and σ(x) − 1 would leave only rounding error.
func modulation(x, label float64) float64 {
	if label == 1 {
		return -sigmoid(-x)
	}
	return sigmoid(x) - label
}

// sigmoid returns 1/(1+e^−x) without overflow for any x.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	z := math.Exp(x)
	return z / (1 + z)
}

// GoodnessResult is the goodness of a batch of activity.
type GoodnessResult struct {
	// PerRow is Σ_j x_ij² for each row i.
	PerRow []float64
	// Total is Σ_ij x_ij², the sum of PerRow.
	Total float64
	// Backend and Device name where the call ran.
	Backend, Device string
}

// Goodness returns the goodness Σ x² of each row of x and of all of x.
func Goodness[T Float](e *Engine, x Matrix[T]) (GoodnessResult, error) {
	if err := checkMatrix("activations", x); err != nil {
		return GoodnessResult{}, err
	}
	e = engine(e)
	var perRow []float64
	backend, err := e.run("goodness", int64(len(x.Data)), func(backend Backend) error {
		var err error
		perRow, err = rowGoodness(backend, x)
		return err
	})
	if err != nil {
		return GoodnessResult{}, fmt.Errorf("ssl: goodness of %d × %d activations: %w", x.Rows, x.Cols, err)
	}
	var total float64
	for _, g := range perRow {
		total += g
	}
	if math.IsInf(total, 0) || math.IsNaN(total) {
		return GoodnessResult{}, fmt.Errorf("%w: goodness of %d × %d activations overflows float64", ErrNotFinite, x.Rows, x.Cols)
	}
	return GoodnessResult{PerRow: perRow, Total: total, Backend: backend.Name(), Device: backend.Device()}, nil
}

// Validate returns an error wrapping ErrInvalidParameter unless lr and
// decay are finite and ≥ 0 and, for the goodness-modulated rule, the
// threshold is finite.
func (r CSDP) Validate(modulated bool) error {
	return checkRule(r, modulated)
}

func checkRule(r CSDP, modulated bool) error {
	if err := checkParameter("lr", r.LR); err != nil {
		return err
	}
	if err := checkParameter("decay", r.Decay); err != nil {
		return err
	}
	if modulated && (math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0)) {
		return fmt.Errorf("%w: threshold is %v, must be finite", ErrInvalidParameter, r.Threshold)
	}
	return nil
}

// checkPhase validates one phase's activity against weights of shape
// (nPost, nPre).
func checkPhase[T Float](name string, weights Matrix[T], p Phase[T]) error {
	if err := checkMatrix(name+"_pre", p.Pre); err != nil {
		return err
	}
	if err := checkMatrix(name+"_post", p.Post); err != nil {
		return err
	}
	if p.Pre.Rows != p.Post.Rows {
		return fmt.Errorf("%w: %s_pre has %d samples and %s_post has %d, must be equal", ErrShape, name, p.Pre.Rows, name, p.Post.Rows)
	}
	if p.Pre.Cols != weights.Cols || p.Post.Cols != weights.Rows {
		return fmt.Errorf("%w: weights are (%d, %d), must be (n_post, n_pre) = (%d, %d) for %s_post of %d and %s_pre of %d neurons",
			ErrShape, weights.Rows, weights.Cols, p.Post.Cols, p.Pre.Cols, name, p.Post.Cols, name, p.Pre.Cols)
	}
	return nil
}
