package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikessl/spikessl/npyfile"
)

// writeIDX writes an unsigned-byte IDX file.
func writeIDX(t *testing.T, path string, dims []int, data []byte) {
	t.Helper()
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	if err := os.WriteFile(path, b.Bytes(), 0o666); err != nil {
		t.Fatal(err)
	}
}

// writeDigits writes a small MNIST-shaped data set into a new folder:
// 28 × 28 images of 10 classes, each a bar whose angle depends on the
// class, so that a probe can learn them.
func writeDigits(t *testing.T, train, test int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	set := func(n int) ([]byte, []byte) {
		images := make([]byte, n*784)
		labels := make([]byte, n)
		for i := range n {
			class := i % 10
			labels[i] = byte(class)
			angle := float64(class) * math.Pi / 10
			cx, cy := 14+rng.NormFloat64(), 14+rng.NormFloat64()
			for s := -9.0; s <= 9; s += 0.5 {
				x, y := int(cx+s*math.Cos(angle)), int(cy+s*math.Sin(angle))
				if x >= 0 && x < 28 && y >= 0 && y < 28 {
					images[i*784+y*28+x] = byte(180 + rng.IntN(76))
				}
			}
		}
		return images, labels
	}
	images, labels := set(train)
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), []int{train, 28, 28}, images)
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), []int{train}, labels)
	images, labels = set(test)
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), []int{test, 28, 28}, images)
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), []int{test}, labels)
	return dir
}

// smallRun is the flags of a short run on the small data set.
func smallRun(data, out string, extra ...string) []string {
	args := []string{"mnist", "--data", data, "--out", out, "--hidden", "32", "--steps", "4", "--batch", "64", "--backend", "cpu"}
	return append(args, extra...)
}

func readResults(t *testing.T, dir string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	return res
}

func TestMNISTCommandEndToEnd(t *testing.T) {
	data := writeDigits(t, 300, 100)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := spikessl(t, smallRun(data, out, "--epochs", "2")...)
	if code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"spiking encoder, infonce", "untrained encoder", "raw pixels", "100 labels"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table %q lacks %q", stdout, want)
		}
	}
	if !strings.Contains(stderr, "epoch 2/2: loss") {
		t.Errorf("stderr %q lacks the progress lines", stderr)
	}

	res := readResults(t, out)
	for key, want := range map[string]any{"method": "infonce", "hidden": 32.0, "steps": 4.0, "epochs": 2.0, "batch": 64.0, "seed": 1.0, "backend": "cpu", "train_images": 300.0, "test_images": 100.0} {
		if res[key] != want {
			t.Errorf("%s = %v, want %v", key, res[key], want)
		}
	}
	if s, ok := res["seconds"].(float64); !ok || s <= 0 {
		t.Errorf("seconds = %v, want > 0", res["seconds"])
	}
	if losses, ok := res["loss_per_epoch"].([]any); !ok || len(losses) != 2 {
		t.Errorf("loss_per_epoch = %v, want 2 values", res["loss_per_epoch"])
	}
	checkAccuracy := func(name string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s = %v, want an object", name, v)
			return
		}
		for _, key := range []string{"all_labels", "labels_100"} {
			if a, ok := m[key].(float64); !ok || a < 0 || a > 1 {
				t.Errorf("%s.%s = %v, want a fraction", name, key, m[key])
			}
		}
	}
	checkAccuracy("accuracy", res["accuracy"])
	baselines, _ := res["baselines"].(map[string]any)
	checkAccuracy("baselines.pixels", baselines["pixels"])
	checkAccuracy("baselines.untrained_encoder", baselines["untrained_encoder"])
	// The bars of this data set are separable from their pixels.
	if pixels := baselines["pixels"].(map[string]any)["all_labels"].(float64); pixels < 0.9 {
		t.Errorf("probe on pixels reaches %.2f on separable bars, want ≥ 0.9", pixels)
	}

	weights, err := npyfile.ReadFile[float32](filepath.Join(out, "encoder_weights.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(weights.Shape, []int{32, 784}) {
		t.Errorf("weights have shape %v, want [32 784]", weights.Shape)
	}
	png, err := os.ReadFile(filepath.Join(out, "results.png"))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("results.png is not a PNG file (error %v)", err)
	}
}

func TestMNISTResumeEqualsUninterrupted(t *testing.T) {
	data := writeDigits(t, 200, 50)
	straight := filepath.Join(t.TempDir(), "straight")
	if code, _, stderr := spikessl(t, smallRun(data, straight, "--epochs", "2")...); code != 0 {
		t.Fatalf("uninterrupted run: exit status %d, stderr %q", code, stderr)
	}

	// An interrupted run (the context is cancelled before the first batch)
	// saves a checkpoint and fails; --resume then finishes the run.
	resumed := filepath.Join(t.TempDir(), "resumed")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, smallRun(data, resumed, "--epochs", "2"), &stdout, &stderr)
	if code != 130 || !strings.Contains(stderr.String(), "--resume") {
		t.Fatalf("interrupted run: exit status %d, stderr %q; want 130 and a hint to resume", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(resumed, "checkpoint.gob")); err != nil {
		t.Fatalf("no checkpoint after the interruption: %v", err)
	}
	if code, _, stderr := spikessl(t, smallRun(data, resumed, "--epochs", "3", "--resume")...); code != 2 || !strings.Contains(stderr, "--epochs is 3 but the checkpoint") {
		t.Errorf("resume with other epochs: exit status %d, stderr %q; want 2 and a mismatch", code, stderr)
	}
	// The flags that are left out come from the checkpoint.
	if code, _, stderr := spikessl(t, "mnist", "--data", data, "--out", resumed, "--backend", "cpu", "--resume"); code != 0 {
		t.Fatalf("resumed run: exit status %d, stderr %q", code, stderr)
	}

	a, b := readResults(t, straight), readResults(t, resumed)
	for _, key := range []string{"loss_per_epoch", "accuracy", "baselines", "hidden", "epochs"} {
		ja, _ := json.Marshal(a[key])
		jb, _ := json.Marshal(b[key])
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: %s uninterrupted, %s resumed", key, ja, jb)
		}
	}
	wa, err := npyfile.ReadFile[float32](filepath.Join(straight, "encoder_weights.npy"))
	if err != nil {
		t.Fatal(err)
	}
	wb, err := npyfile.ReadFile[float32](filepath.Join(resumed, "encoder_weights.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(wa.Data, wb.Data) {
		t.Error("the resumed weights differ from the uninterrupted ones")
	}
}

func TestMNISTCommandErrors(t *testing.T) {
	data := writeDigits(t, 120, 20)
	broken := t.TempDir()
	writeIDX(t, filepath.Join(broken, "train-images-idx3-ubyte"), []int{1000, 28, 28}, make([]byte, 100))
	for _, name := range []string{"train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if err := os.WriteFile(filepath.Join(broken, name), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	// A checkpoint of one epoch on all 120 images, to resume on 110.
	resumeOut := filepath.Join(out, "resume")
	if code, _, stderr := spikessl(t, smallRun(data, resumeOut, "--epochs", "1")...); code != 0 {
		t.Fatalf("run for the checkpoint: exit status %d, stderr %q", code, stderr)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"zero hidden", smallRun(data, out, "--hidden", "0"), 2, "hidden is 0"},
		{"unknown method", smallRun(data, out, "--method", "hebb"), 2, `--method "hebb" is invalid`},
		{"zero epochs", smallRun(data, out, "--epochs", "0"), 2, "--epochs is 0"},
		{"bad backend", smallRun(data, out, "--backend", "tpu"), 2, `--backend "tpu" is invalid`},
		{"missing data", smallRun(filepath.Join(out, "none"), out), 1, "not found"},
		{"truncated images", smallRun(broken, out), 1, "train-images-idx3-ubyte: data is truncated"},
		{"resume without checkpoint", smallRun(data, filepath.Join(out, "fresh"), "--resume"), 1, "--resume"},
		{"resume on other images", smallRun(data, resumeOut, "--limit", "110", "--resume"), 2, "training images differ"},
		{"positional argument", append(smallRun(data, out), "extra"), 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		code, _, stderr := spikessl(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit status %d, stderr %q; want %d and %q", tt.name, code, stderr, tt.code, tt.want)
		}
	}
}
