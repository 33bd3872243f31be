package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spikessl/spikessl/npyfile"
	"github.com/spikessl/spikessl/ssl"
)

func init() {
	register(command{
		name:    "loss",
		summary: "InfoNCE loss of two views (.npy), optionally with gradients",
		run:     runLoss,
	})
}

// lossReport is the --json output of the loss command.
type lossReport struct {
	Loss        float64 `json:"loss"`
	Batch       int     `json:"batch"`
	Features    int     `json:"features"`
	Temperature float64 `json:"temperature"`
	Symmetric   bool    `json:"symmetric"`
	Backend     string  `json:"backend"`
	Device      string  `json:"device"`
	Precision   string  `json:"precision"`
	GradA       string  `json:"grad_a,omitempty"`
	GradB       string  `json:"grad_b,omitempty"`
}

func runLoss(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "loss", "--a A.npy --b B.npy [flags]")
	pathA := fs.String("a", "", "view A: .npy file of shape (batch, features)")
	pathB := fs.String("b", "", "view B: .npy file of the same shape as view A")
	temperature := fs.Float64("temperature", ssl.DefaultTemperature, "temperature dividing the cosine similarities (finite, > 0)")
	symmetric := fs.Bool("symmetric", false, "average the row-wise and column-wise loss (CLIP style)")
	precisionName := fs.String("precision", "", "float64 or float32 (default float64, or float32 with --backend opencl)")
	backend := fs.String("backend", "auto", "where to compute: auto, cpu or opencl")
	gradOut := fs.String("grad-out", "", "directory to write grad_a.npy and grad_b.npy into (created if missing)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the loss alone")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	prec, err := parseBackendPrecision(*backend, *precisionName)
	if err != nil {
		return err
	}
	opt := ssl.InfoNCEOptions{Temperature: *temperature, Symmetric: *symmetric}
	req := lossRequest{pathA: *pathA, pathB: *pathB, opt: opt, gradOut: *gradOut, backend: *backend}

	var report lossReport
	if prec == float32Precision {
		report, err = computeLoss[float32](env, req)
	} else {
		report, err = computeLoss[float64](env, req)
	}
	if err != nil {
		return err
	}
	report.Precision = string(prec)

	if *asJSON {
		return writeJSON(env.stdout, report)
	}
	_, err = fmt.Fprintf(env.stdout, "%.17g\n", report.Loss)
	return err
}

type lossRequest struct {
	pathA, pathB string
	opt          ssl.InfoNCEOptions
	gradOut      string
	backend      string
}

// BUG(spikessl): loss --grad-out writes grad_a.npy and grad_b.npy to
// temporary files and renames them only when both are written, but the two
// renames are not atomic together: if the second fails, a new grad_a.npy
// stays beside the directory's previous grad_b.npy.

func computeLoss[T ssl.Float](env *environment, req lossRequest) (lossReport, error) {
	// Check the temperature before reading what may be large files.
	if err := classify(req.opt.Validate()); err != nil {
		return lossReport{}, err
	}
	if req.gradOut != "" {
		if err := checkOutputDir("grad-out", req.gradOut); err != nil {
			return lossReport{}, err
		}
		for _, name := range []string{"grad_a.npy", "grad_b.npy"} {
			if info, err := os.Stat(outputPath(req.gradOut, name)); err == nil && info.IsDir() {
				return lossReport{}, usagef("--grad-out %s: %s is a directory, must be a file or absent", req.gradOut, name)
			}
		}
	}
	a, err := readMatrix[T]("a", req.pathA, false)
	if err != nil {
		return lossReport{}, err
	}
	b, err := readMatrix[T]("b", req.pathB, false)
	if err != nil {
		return lossReport{}, err
	}
	e, err := openEngine(env, req.backend)
	if err != nil {
		return lossReport{}, err
	}
	defer e.Close()

	var result ssl.LossResult[T]
	if req.gradOut != "" {
		result, err = ssl.InfoNCEGrad(e, a, b, req.opt)
	} else {
		result, err = ssl.InfoNCELoss(e, a, b, req.opt)
	}
	if err != nil {
		return lossReport{}, classify(err)
	}
	report := lossReport{
		Loss:        result.Loss,
		Batch:       a.Rows,
		Features:    a.Cols,
		Temperature: req.opt.Temperature,
		Symmetric:   req.opt.Symmetric,
		Backend:     result.Backend,
		Device:      result.Device,
	}
	if req.gradOut != "" {
		if err := ensureDir("grad-out", req.gradOut); err != nil {
			return lossReport{}, err
		}
		report.GradA = outputPath(req.gradOut, "grad_a.npy")
		report.GradB = outputPath(req.gradOut, "grad_b.npy")
		err := npyfile.WriteFiles(
			npyfile.File[T]{Path: report.GradA, Shape: []int{a.Rows, a.Cols}, Data: result.GradA.Data},
			npyfile.File[T]{Path: report.GradB, Shape: []int{b.Rows, b.Cols}, Data: result.GradB.Data},
		)
		if err != nil {
			return lossReport{}, err
		}
	}
	return report, nil
}
