package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

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
	// module is the Python module the interpreter must import.
	module string
	ops    []string
}

var peers = []peer{
	{name: "numpy", script: "infonce_numpy.py", module: "numpy", ops: []string{"loss"}},
	{name: "torch", script: "infonce_torch.py", module: "torch", ops: []string{"loss", "grad"}},
}

// peerHello is the JSON line a peer script prints when it is ready.
type peerHello struct {
	Peer    string   `json:"peer"`
	Version string   `json:"version"`
	BLAS    string   `json:"blas"`
	Ops     []string `json:"ops"`
}

// peerReply is the JSON line a peer script prints for each request.
type peerReply struct {
	Seconds      float64 `json:"seconds"`
	Loss         float64 `json:"loss"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	Error        string  `json:"error"`
}

func (r record) peer() bool {
	for _, p := range peers {
		if r.Backend == p.name {
			return true
		}
	}
	return false
}

// onCPU reports whether the row ran on the CPU: the cpu backend, its sgemm,
// the peers and an OpenCL device of type CPU.
func (r record) onCPU() bool {
	return r.Backend == "cpu" || r.peer() || r.cpuDevice
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
