package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikessl/spikessl/npyfile"
)

// spikessl runs the command line in-process and returns its exit status,
// stdout and stderr.
func spikessl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// writeArray writes a .npy fixture into dir and returns its path.
func writeArray[T float32 | float64](t *testing.T, dir, name string, shape []int, data []T) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := npyfile.WriteFile(path, shape, data); err != nil {
		t.Fatal(err)
	}
	return path
}

func ramp(n int, start, step float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = start + step*float64(i%7) + 0.01*float64(i)
	}
	return x
}

func TestLossCommandJSON(t *testing.T) {
	dir := t.TempDir()
	a := writeArray(t, dir, "a.npy", []int{4, 3}, ramp(12, 0.1, 0.2))
	b := writeArray(t, dir, "b.npy", []int{4, 3}, ramp(12, 0.2, 0.1))
	grads := filepath.Join(dir, "grads")

	code, stdout, stderr := spikessl(t, "loss", "--a", a, "--b", b, "--backend", "cpu", "--json", "--grad-out", grads, "--temperature", "0.3", "--symmetric")
	if code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, stderr)
	}
	var report map[string]any
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("output %q is not JSON: %v", stdout, err)
	}
	for key, want := range map[string]any{"batch": 4.0, "features": 3.0, "temperature": 0.3, "symmetric": true, "backend": "cpu", "precision": "float64"} {
		if report[key] != want {
			t.Errorf("%s = %v, want %v", key, report[key], want)
		}
	}
	loss, ok := report["loss"].(float64)
	if !ok || !(loss > 0) {
		t.Errorf("loss = %v, want a positive number", report["loss"])
	}

	for _, name := range []string{"grad_a.npy", "grad_b.npy"} {
		arr, err := npyfile.ReadFile[float64](filepath.Join(grads, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(arr.Shape) != 2 || arr.Shape[0] != 4 || arr.Shape[1] != 3 {
			t.Errorf("%s shape = %v, want [4 3]", name, arr.Shape)
		}
	}

	// The plain output is the same loss.
	code, stdout, _ = spikessl(t, "loss", "--a", a, "--b", b, "--backend", "cpu", "--temperature", "0.3", "--symmetric")
	if code != 0 || strings.TrimSpace(stdout) == "" {
		t.Fatalf("exit status %d, output %q", code, stdout)
	}
	var plain float64
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &plain); err != nil || plain != loss {
		t.Errorf("plain output %q, want %v", stdout, loss)
	}
}

func TestCSDPCommand(t *testing.T) {
	dir := t.TempDir()
	w := writeArray(t, dir, "w.npy", []int{2, 3}, []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6})
	pre := writeArray(t, dir, "pre.npy", []int{3}, []float64{1, 0, 1})
	post := writeArray(t, dir, "post.npy", []int{2}, []float64{0.5, 1})
	out := filepath.Join(dir, "out.npy")

	code, _, stderr := spikessl(t, "csdp", "--weights", w, "--pos-pre", pre, "--pos-post", post, "--phase", "positive", "--lr", "0.1", "--decay", "0.5", "--out", out, "--backend", "cpu")
	if code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, stderr)
	}
	got, err := npyfile.ReadFile[float64](out)
	if err != nil {
		t.Fatal(err)
	}
	// W + 0.1·post⊗pre − 0.5·W.
	want := []float64{0.1, 0.1, 0.2, 0.3, 0.25, 0.4}
	for i := range want {
		if math.Abs(got.Data[i]-want[i]) > 1e-15 {
			t.Errorf("weights[%d] = %v, want %v", i, got.Data[i], want[i])
		}
	}
}

func TestGoodnessCommand(t *testing.T) {
	dir := t.TempDir()
	x := writeArray(t, dir, "x.npy", []int{2, 2}, []float32{1, 2, 3, 4})

	code, stdout, _ := spikessl(t, "goodness", "--activations", x, "--backend", "cpu")
	if code != 0 || strings.TrimSpace(stdout) != "30" {
		t.Errorf("total: exit status %d, output %q, want 30", code, stdout)
	}
	code, stdout, _ = spikessl(t, "goodness", "--activations", x, "--backend", "cpu", "--per-row", "--json")
	var report struct{ Goodness []float64 }
	if err := json.Unmarshal([]byte(stdout), &report); code != 0 || err != nil {
		t.Fatalf("exit status %d, output %q, error %v", code, stdout, err)
	}
	if len(report.Goodness) != 2 || report.Goodness[0] != 5 || report.Goodness[1] != 25 {
		t.Errorf("per-row goodness = %v, want [5 25]", report.Goodness)
	}
}

// TestInvalidInput checks that each invalid input exits with status 2 and
// one line on stderr that names what is wrong.
func TestInvalidInput(t *testing.T) {
	dir := t.TempDir()
	a := writeArray(t, dir, "a.npy", []int{4, 3}, ramp(12, 0.1, 0.2))
	b5 := writeArray(t, dir, "b5.npy", []int{5, 3}, ramp(15, 0.1, 0.2))
	cube := writeArray(t, dir, "cube.npy", []int{2, 2, 3}, ramp(12, 0.1, 0.2))
	vector := writeArray(t, dir, "vector.npy", []int{12}, ramp(12, 0.1, 0.2))
	empty := writeArray(t, dir, "empty.npy", []int{4, 0}, []float64{})
	nan := ramp(12, 0.1, 0.2)
	nan[7] = math.NaN()
	withNaN := writeArray(t, dir, "nan.npy", []int{4, 3}, nan)
	inf := ramp(12, 0.1, 0.2)
	inf[0] = math.Inf(1)
	withInf := writeArray(t, dir, "inf.npy", []int{4, 3}, inf)
	w := writeArray(t, dir, "w.npy", []int{3, 2}, ramp(6, 0, 0.1))
	pre := writeArray(t, dir, "pre.npy", []int{2, 3}, ramp(6, 0, 0.1))
	post := writeArray(t, dir, "post.npy", []int{2, 2}, ramp(4, 0, 0.1))
	post3 := writeArray(t, dir, "post3.npy", []int{3, 2}, ramp(6, 0, 0.1))

	truncated := filepath.Join(dir, "truncated.npy")
	whole, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, whole[:len(whole)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	notNpy := filepath.Join(dir, "text.npy")
	if err := os.WriteFile(notNpy, []byte("batch,features\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.npy")
	huge := writeArray(t, dir, "huge.npy", []int{2, 2}, []float64{1e100, 1, 1, 1})
	// A --grad-out folder whose grad_b.npy is a directory.
	gradDirs := filepath.Join(dir, "grads")
	if err := os.MkdirAll(filepath.Join(gradDirs, "grad_b.npy"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.npy")

	cases := []struct {
		name    string
		args    []string
		mention string
	}{
		{"temperature zero", []string{"loss", "--a", a, "--b", a, "--temperature", "0"}, "temperature is 0"},
		{"temperature negative", []string{"loss", "--a", a, "--b", a, "--temperature", "-1"}, "temperature is -1"},
		{"temperature NaN", []string{"loss", "--a", a, "--b", a, "--temperature", "NaN"}, "temperature is NaN"},
		{"temperature Inf", []string{"loss", "--a", a, "--b", a, "--temperature", "+Inf"}, "temperature is +Inf"},
		{"temperature not a number", []string{"loss", "--a", a, "--b", a, "--temperature", "warm"}, "temperature"},
		{"missing view flag", []string{"loss", "--a", a}, "--b is required"},
		{"missing file", []string{"loss", "--a", missing, "--b", a}, "missing.npy"},
		{"truncated file", []string{"loss", "--a", truncated, "--b", a}, "truncated.npy"},
		{"not a npy file", []string{"loss", "--a", notNpy, "--b", a}, "text.npy"},
		{"view not 2-D", []string{"loss", "--a", cube, "--b", a}, "must be 2-D"},
		{"view is a vector", []string{"loss", "--a", vector, "--b", a}, "must be 2-D"},
		{"shapes differ", []string{"loss", "--a", a, "--b", b5}, "view_b is (5, 3)"},
		{"zero features", []string{"loss", "--a", empty, "--b", empty}, "0 features"},
		{"NaN in view", []string{"loss", "--a", withNaN, "--b", a}, "--a: " + withNaN + ": element [2, 1] is NaN"},
		{"Inf in view", []string{"loss", "--a", a, "--b", withInf}, "--b: " + withInf + ": element [0, 0] is +Inf"},
		{"bad precision", []string{"loss", "--a", a, "--b", a, "--precision", "float16"}, "--precision"},
		{"bad backend", []string{"loss", "--a", a, "--b", a, "--backend", "cuda"}, "--backend"},
		{"unknown flag", []string{"loss", "--a", a, "--b", a, "--temp", "1"}, "temp"},
		{"extra argument", []string{"loss", "--a", a, "--b", a, "extra"}, "extra"},
		{"weights transposed", []string{"csdp", "--weights", w, "--pos-pre", pre, "--pos-post", post, "--phase", "positive", "--out", out}, "must be (n_post, n_pre) = (2, 3)"},
		{"batches differ", []string{"csdp", "--weights", pre, "--pos-pre", pre, "--pos-post", post3, "--phase", "positive", "--out", out}, "pos_pre has 2 samples and pos_post has 3"},
		{"negative lr", []string{"csdp", "--weights", w, "--pos-pre", pre, "--pos-post", post, "--lr", "-0.1", "--out", out}, "lr is -0.1"},
		{"NaN decay", []string{"csdp", "--weights", w, "--pos-pre", pre, "--pos-post", post, "--decay", "NaN", "--out", out}, "decay is NaN"},
		{"bad phase", []string{"csdp", "--weights", w, "--phase", "both", "--out", out}, "--phase"},
		{"bad rule", []string{"csdp", "--weights", w, "--rule", "hebb", "--out", out}, "--rule"},
		{"missing out", []string{"csdp", "--weights", w, "--pos-pre", pre, "--pos-post", post}, "--out is required"},
		{"missing activity file", []string{"csdp", "--weights", w, "--pos-pre", pre, "--phase", "positive", "--out", out}, "--pos-post is required"},
		{"goodness of cube", []string{"goodness", "--activations", cube}, "must be 1-D or 2-D"},
		{"goodness of NaN", []string{"goodness", "--activations", withNaN}, "is NaN"},
		{"unknown command", []string{"train"}, "unknown command"},
		{"out directory missing", []string{"csdp", "--weights", w, "--out", filepath.Join(dir, "nowhere", "w.npy")}, "does not exist"},
		{"out is a directory", []string{"csdp", "--weights", w, "--out", dir}, "is a directory"},
		{"grad-out is a file", []string{"loss", "--a", a, "--b", a, "--grad-out", a}, "is a file"},
		{"grad-out file is a directory", []string{"loss", "--a", a, "--b", a, "--grad-out", gradDirs}, "grad_b.npy is a directory"},
		{"float32 overflow", []string{"loss", "--a", huge, "--b", huge, "--precision", "float32"}, "outside the float32 range"},
		{"float32 temperature", []string{"loss", "--a", a, "--b", a, "--precision", "float32", "--temperature", "1e-40"}, "float32 limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := spikessl(t, c.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want empty", stdout)
			}
			if !strings.HasPrefix(stderr, "spikessl: ") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line starting with \"spikessl: \"", stderr)
			}
			if !strings.Contains(stderr, c.mention) {
				t.Errorf("stderr %q does not mention %q", stderr, c.mention)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed update left %s behind", out)
	}
}

// TestFailedUpdateKeepsOutput checks that an update that fails leaves an
// existing output file as it was.
func TestFailedUpdateKeepsOutput(t *testing.T) {
	dir := t.TempDir()
	w := writeArray(t, dir, "w.npy", []int{2, 3}, ramp(6, 0, 0.1))
	pre := writeArray(t, dir, "pre.npy", []int{1, 3}, ramp(3, 0, 0.1))
	post := writeArray(t, dir, "post.npy", []int{1, 3}, ramp(3, 0, 0.1))
	out := filepath.Join(dir, "out.npy")
	if err := os.WriteFile(out, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, _ := spikessl(t, "csdp", "--weights", w, "--pos-pre", pre, "--pos-post", post, "--phase", "positive", "--out", out)
	if code != 2 {
		t.Fatalf("exit status %d, want 2", code)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != "previous" {
		t.Errorf("output file now holds %q, %v; want it unchanged", got, err)
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := spikessl(t, "help")
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	for _, name := range []string{"loss", "csdp", "goodness"} {
		if !strings.Contains(stdout, name) {
			t.Errorf("help does not list %s", name)
		}
	}
	code, stdout, _ = spikessl(t, "loss", "-h")
	if code != 0 || !strings.Contains(stdout, "--temperature") && !strings.Contains(stdout, "-temperature") {
		t.Errorf("loss -h: exit status %d, output %q", code, stdout)
	}
	code, stdout, _ = spikessl(t, "help", "loss")
	if code != 0 || !strings.Contains(stdout, "-temperature") {
		t.Errorf("help loss: exit status %d, output %q; want the loss flags", code, stdout)
	}
}

// TestErrorNamesCommandOnce checks that an error from the package named
// like the command does not repeat the command's name.
func TestErrorNamesCommandOnce(t *testing.T) {
	code, _, stderr := spikessl(t, "mnist", "--data", filepath.Join(t.TempDir(), "missing"))
	if code == 0 {
		t.Fatal("mnist with a missing data folder exited 0")
	}
	if !strings.HasPrefix(stderr, "spikessl: mnist: ") || strings.Contains(stderr, "mnist: mnist:") {
		t.Errorf("stderr %q, want one \"spikessl: mnist: \" prefix", stderr)
	}
}

func TestVerboseAndNoArguments(t *testing.T) {
	code, stdout, stderr := spikessl(t)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "usage: spikessl") {
		t.Errorf("no arguments: exit status %d, stdout %q, stderr %q; want 2 and the usage on stderr", code, stdout, stderr)
	}

	dir := t.TempDir()
	x := writeArray(t, dir, "x.npy", []int{2}, []float64{3, 4})
	code, stdout, stderr = spikessl(t, "--verbose", "goodness", "--activations", x, "--backend", "cpu")
	if code != 0 || strings.TrimSpace(stdout) != "25" {
		t.Errorf("--verbose first: exit status %d, output %q", code, stdout)
	}
	if !strings.Contains(stderr, "backend chosen") {
		t.Errorf("--verbose stderr %q does not log the backend choice", stderr)
	}
}
