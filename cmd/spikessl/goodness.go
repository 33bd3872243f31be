package main

import (
	"context"
	"fmt"

	"github.com/spikessl/spikessl/ssl"
)

func init() {
	register(command{
		name:    "goodness",
		summary: "goodness Σx² of activations (.npy), in total or per row",
		run:     runGoodness,
	})
}

func runGoodness(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "goodness", "--activations X.npy [--per-row] [--json]")
	path := fs.String("activations", "", "activations: .npy file of shape (n) or (batch, n)")
	perRow := fs.Bool("per-row", false, "print one goodness per row instead of the total")
	precisionName := fs.String("precision", "", "float64 or float32 (default float64, or float32 with --backend opencl)")
	backend := fs.String("backend", "auto", "where to compute: auto, cpu or opencl")
	asJSON := fs.Bool("json", false, "print one JSON object whose goodness is the number or the list")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	prec, err := parseBackendPrecision(*backend, *precisionName)
	if err != nil {
		return err
	}

	var result ssl.GoodnessResult
	if prec == float32Precision {
		result, err = computeGoodness[float32](env, *path, *backend)
	} else {
		result, err = computeGoodness[float64](env, *path, *backend)
	}
	if err != nil {
		return err
	}

	if *asJSON {
		var goodness any = result.Total
		if *perRow {
			goodness = result.PerRow
		}
		return writeJSON(env.stdout, map[string]any{
			"goodness":  goodness,
			"rows":      len(result.PerRow),
			"backend":   result.Backend,
			"device":    result.Device,
			"precision": string(prec),
		})
	}
	if !*perRow {
		_, err = fmt.Fprintf(env.stdout, "%.17g\n", result.Total)
		return err
	}
	for _, g := range result.PerRow {
		if _, err := fmt.Fprintf(env.stdout, "%.17g\n", g); err != nil {
			return err
		}
	}
	return nil
}

func computeGoodness[T ssl.Float](env *environment, path, backend string) (ssl.GoodnessResult, error) {
	x, err := readMatrix[T]("activations", path, true)
	if err != nil {
		return ssl.GoodnessResult{}, err
	}
	e, err := openEngine(env, backend)
	if err != nil {
		return ssl.GoodnessResult{}, err
	}
	defer e.Close()
	result, err := ssl.Goodness(e, x)
	return result, classify(err)
}
