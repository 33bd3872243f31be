package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spikessl/spikessl/cblas"
	"github.com/spikessl/spikessl/npyfile"
)

// peerScripts are the reference implementations run by --peers.
//
//go:embed peers/*.py
var peerScripts embed.FS

// peer is a reference implementation in Python.
type peer struct {
	name   string
	script string
	// module is what the interpreter must import.
	module string
	ops    []string
}

var peers = []peer{
	{name: "numpy", script: "infonce_numpy.py", module: "numpy", ops: []string{"loss"}},
	{name: "torch", script: "infonce_torch.py", module: "torch", ops: []string{"loss", "grad"}},
}

// peerOutput is the JSON object a peer script prints.
type peerOutput struct {
	Peer         string    `json:"peer"`
	Version      string    `json:"version"`
	BLAS         string    `json:"blas"`
	Times        []float64 `json:"times"`
	Loss         float64   `json:"loss"`
	PeakRSSBytes int64     `json:"peak_rss_bytes"`
}

func (r record) peer() bool {
	for _, p := range peers {
		if r.Backend == p.name {
			return true
		}
	}
	return false
}

// runPeers times each peer on the InfoNCE configurations of cfg that it
// supports, up to cfg.peerMaxBatch, on the views that spikessl was timed
// on. A missing interpreter or module is reported on stderr and skipped.
func runPeers(ctx context.Context, cfg config, stderr io.Writer) ([]record, error) {
	dir, err := os.MkdirTemp("", "gpubench-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory for the peer inputs: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, peerScripts); err != nil {
		return nil, fmt.Errorf("writing the peer scripts to %s: %w", dir, err)
	}

	var records []record
	for _, p := range peers {
		python, err := findPython(ctx, cfg.python, p.module)
		if err != nil {
			fmt.Fprintf(stderr, "gpubench: %s peer skipped: %v\n", p.name, err)
			continue
		}
		for _, precision := range cfg.precisions {
			for _, op := range cfg.ops {
				if !contains(p.ops, op) {
					continue
				}
				for _, features := range cfg.features {
					for _, batch := range cfg.batches {
						if batch > cfg.peerMaxBatch {
							continue
						}
						a, b, err := writeViews(dir, batch, features, precision)
						if err != nil {
							return nil, err
						}
						r := runPeer(ctx, cfg, python, filepath.Join(dir, "peers", p.script), p.name, op, a, b, batch, features, precision)
						printProgress(stderr, r)
						records = append(records, r)
						if err := ctx.Err(); err != nil {
							return nil, err
						}
					}
				}
			}
		}
	}
	return records, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// findPython returns the interpreter that imports module: explicit if not
// empty, else the first of python3 on PATH and /usr/bin/python3 that does.
func findPython(ctx context.Context, explicit, module string) (string, error) {
	candidates := []string{"python3", "/usr/bin/python3"}
	if explicit != "" {
		candidates = []string{explicit}
	}
	var failures []string
	for _, python := range candidates {
		out, err := exec.CommandContext(ctx, python, "-c", "import "+module).CombinedOutput()
		if err == nil {
			return python, nil
		}
		failures = append(failures, fmt.Sprintf("%s: %s", python, lastLine(out, err)))
	}
	return "", fmt.Errorf("no Python interpreter imports %s (%s); install it, for example with apt-get install python3-%s",
		module, strings.Join(failures, "; "), module)
}

// writeViews writes the views of one configuration as a.npy and b.npy in
// dir and returns their paths.
func writeViews(dir string, batch, features int, precision string) (string, string, error) {
	a := filepath.Join(dir, "a.npy")
	b := filepath.Join(dir, "b.npy")
	shape := []int{batch, features}
	var errA, errB error
	if precision == "float32" {
		va, vb := views[float32](batch, features)
		errA, errB = npyfile.WriteFile(a, shape, va), npyfile.WriteFile(b, shape, vb)
	} else {
		va, vb := views[float64](batch, features)
		errA, errB = npyfile.WriteFile(a, shape, va), npyfile.WriteFile(b, shape, vb)
	}
	if err := errors.Join(errA, errB); err != nil {
		return "", "", fmt.Errorf("writing the peer inputs: %w", err)
	}
	return a, b, nil
}

// runPeer runs one peer script and turns its output into a record.
func runPeer(ctx context.Context, cfg config, python, script, name, op, a, b string, batch, features int, precision string) record {
	r := record{
		Name: benchmarkName(op, name, batch, features, precision),
		Op:   op, Backend: name, Device: cpuModel(),
		Batch: batch, Features: features, Precision: precision,
		Threads: threads(),
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.peerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script,
		"--a", a, "--b", b, "--op", op,
		"--temperature", strconv.FormatFloat(cfg.temperature, 'g', -1, 64),
		"--repeat", strconv.Itoa(cfg.repeat),
		"--threads", strconv.Itoa(threads()))
	cmd.Env = os.Environ()
	if _, set := os.LookupEnv(cblas.CoreTypeEnvVar); !set && cfg.peerCoreType != "" {
		cmd.Env = append(cmd.Env, cblas.CoreTypeEnvVar+"="+cfg.peerCoreType)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", cfg.peerTimeout)
		}
		r.Error = fmt.Sprintf("%s %s: %s", python, filepath.Base(script), lastLine(stderr.Bytes(), err))
		return r
	}
	var out peerOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Times) == 0 {
		r.Error = fmt.Sprintf("%s printed no timing record: %q", filepath.Base(script), lastLine(stdout.Bytes(), err))
		return r
	}
	r.Device = fmt.Sprintf("%s %s (%s)", out.Peer, out.Version, python)
	r.BLAS = out.BLAS
	r.Loss = out.Loss
	r.PeakRSSBytes = out.PeakRSSBytes
	r.summarize(out.Times)
	return r
}

// lastLine returns the last non-empty line of out, or err's message when
// out has none.
func lastLine(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return last
	}
	if err != nil {
		return err.Error()
	}
	return "no output"
}
