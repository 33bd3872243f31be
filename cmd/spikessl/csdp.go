package main

import (
	"context"

	"github.com/spikessl/spikessl/ssl"
)

func init() {
	register(command{
		name:    "csdp",
		summary: "CSDP weight update from pre- and post-synaptic activity (.npy)",
		run:     runCSDP,
	})
}

// csdpReport is the --json output of the csdp command.
type csdpReport struct {
	Phase     string  `json:"phase"`
	Rule      string  `json:"rule"`
	LR        float64 `json:"lr"`
	Decay     float64 `json:"decay"`
	Threshold float64 `json:"threshold,omitempty"`
	NPost     int     `json:"n_post"`
	NPre      int     `json:"n_pre"`
	Out       string  `json:"out"`
	Backend   string  `json:"backend"`
	Device    string  `json:"device"`
	Precision string  `json:"precision"`
}

type csdpRequest struct {
	weights, posPre, posPost, negPre, negPost string
	phase, rule                               string
	update                                    ssl.CSDP
	out, backend                              string
}

func runCSDP(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "csdp", "--weights W.npy --pos-pre F --pos-post F --neg-pre F --neg-post F --out OUT.npy [flags]")
	var req csdpRequest
	fs.StringVar(&req.weights, "weights", "", "weights: .npy file of shape (n_post, n_pre)")
	fs.StringVar(&req.posPre, "pos-pre", "", "pre-synaptic activity on real data: (n_pre) or (batch, n_pre)")
	fs.StringVar(&req.posPost, "pos-post", "", "post-synaptic activity on real data: (n_post) or (batch, n_post)")
	fs.StringVar(&req.negPre, "neg-pre", "", "pre-synaptic activity on corrupted data: (n_pre) or (batch, n_pre)")
	fs.StringVar(&req.negPost, "neg-post", "", "post-synaptic activity on corrupted data: (n_post) or (batch, n_post)")
	fs.Float64Var(&req.update.LR, "lr", ssl.DefaultLR, "learning rate (finite, ≥ 0)")
	fs.Float64Var(&req.update.Decay, "decay", ssl.DefaultDecay, "weight decay of the positive phase (finite, ≥ 0)")
	fs.Float64Var(&req.update.Threshold, "threshold", ssl.DefaultThreshold, "goodness threshold θ of the modulated rule")
	fs.StringVar(&req.phase, "phase", "step", "positive, negative, or step (both)")
	fs.StringVar(&req.rule, "rule", "plain", "plain (Hebbian/anti-Hebbian) or modulated (goodness-modulated)")
	fs.StringVar(&req.out, "out", "", "output .npy file for the updated weights")
	precisionName := fs.String("precision", "", "float64 or float32 (default float64, or float32 with --backend opencl)")
	fs.StringVar(&req.backend, "backend", "auto", "where to compute: auto, cpu or opencl")
	asJSON := fs.Bool("json", false, "print one JSON object describing the update")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	switch req.phase {
	case "positive", "negative", "step":
	default:
		return usagef("--phase %q is invalid: must be positive, negative or step", req.phase)
	}
	if req.rule != "plain" && req.rule != "modulated" {
		return usagef("--rule %q is invalid: must be plain or modulated", req.rule)
	}
	if req.out == "" {
		return usagef("--out is required")
	}
	if err := checkOutputFile("out", req.out); err != nil {
		return err
	}
	if err := req.update.Validate(req.rule == "modulated"); err != nil {
		return asUsage(err)
	}
	prec, err := parseBackendPrecision(req.backend, *precisionName)
	if err != nil {
		return err
	}

	var report csdpReport
	if prec == float32Precision {
		report, err = computeCSDP[float32](env, req)
	} else {
		report, err = computeCSDP[float64](env, req)
	}
	if err != nil {
		return err
	}
	report.Precision = string(prec)
	if *asJSON {
		return writeJSON(env.stdout, report)
	}
	return nil
}

// readPhase reads one phase's pre- and post-synaptic activity.
func readPhase[T ssl.Float](name, prePath, postPath string) (ssl.Phase[T], error) {
	pre, err := readMatrix[T](name+"-pre", prePath, true)
	if err != nil {
		return ssl.Phase[T]{}, err
	}
	post, err := readMatrix[T](name+"-post", postPath, true)
	if err != nil {
		return ssl.Phase[T]{}, err
	}
	return ssl.Phase[T]{Pre: pre, Post: post}, nil
}

func computeCSDP[T ssl.Float](env *environment, req csdpRequest) (csdpReport, error) {
	weights, err := readMatrix[T]("weights", req.weights, false)
	if err != nil {
		return csdpReport{}, err
	}
	// Each phase reads only the files it needs. The modulated rule with a
	// single phase sums over that phase's samples alone.
	empty := ssl.Phase[T]{
		Pre:  ssl.Matrix[T]{Cols: weights.Cols},
		Post: ssl.Matrix[T]{Cols: weights.Rows},
	}
	pos, neg := empty, empty
	if req.phase != "negative" {
		if pos, err = readPhase[T]("pos", req.posPre, req.posPost); err != nil {
			return csdpReport{}, err
		}
	}
	if req.phase != "positive" {
		if neg, err = readPhase[T]("neg", req.negPre, req.negPost); err != nil {
			return csdpReport{}, err
		}
	}

	e, err := openEngine(env, req.backend)
	if err != nil {
		return csdpReport{}, err
	}
	defer e.Close()

	var result ssl.UpdateResult[T]
	switch {
	case req.rule == "modulated":
		result, err = ssl.CSDPModulated(e, req.update, weights, pos, neg)
	case req.phase == "positive":
		result, err = ssl.CSDPPositive(e, req.update, weights, pos)
	case req.phase == "negative":
		result, err = ssl.CSDPNegative(e, req.update, weights, neg)
	default:
		result, err = ssl.CSDPStep(e, req.update, weights, pos, neg)
	}
	if err != nil {
		return csdpReport{}, classify(err)
	}
	if err := writeMatrix(req.out, result.Weights); err != nil {
		return csdpReport{}, err
	}

	report := csdpReport{
		Phase:   req.phase,
		Rule:    req.rule,
		LR:      req.update.LR,
		Decay:   req.update.Decay,
		NPost:   weights.Rows,
		NPre:    weights.Cols,
		Out:     req.out,
		Backend: result.Backend,
		Device:  result.Device,
	}
	if req.rule == "modulated" {
		report.Threshold = req.update.Threshold
	}
	return report, nil
}
