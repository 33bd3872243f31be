package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
)

func TestParseArgsDefaults(t *testing.T) {
	cfg, err := parseArgs(nil, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.ops, ",") != "loss,grad,sgemm" {
		t.Errorf("ops = %v, want loss,grad,sgemm", cfg.ops)
	}
	if len(cfg.batches) != 3 || cfg.batches[0] != 1024 || cfg.batches[2] != 8192 {
		t.Errorf("batches = %v, want [1024 4096 8192]", cfg.batches)
	}
	if cfg.repeat != 5 {
		t.Errorf("repeat = %d, want 5", cfg.repeat)
	}
}

func TestParseArgsLists(t *testing.T) {
	cfg, err := parseArgs([]string{"--batch", "4096, 1024,4096", "--precision", "float64,float32", "--ops", "csdp"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.batches) != 2 || cfg.batches[0] != 1024 || cfg.batches[1] != 4096 {
		t.Errorf("batches = %v, want [1024 4096]", cfg.batches)
	}
	if strings.Join(cfg.precisions, ",") != "float64,float32" {
		t.Errorf("precisions = %v", cfg.precisions)
	}
}

func TestParseArgsInvalid(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		message string
	}{
		{"unknown op", []string{"--ops", "loss,train"}, `"train" is not one of loss, grad, csdp, sgemm`},
		{"zero batch", []string{"--batch", "0"}, `--batch: "0" is not a positive integer`},
		{"word batch", []string{"--batch", "1024,big"}, `"big" is not a positive integer`},
		{"empty features", []string{"--features", ""}, `--features: "" is not a positive integer`},
		{"unknown backend", []string{"--backends", "cuda"}, `"cuda" is not one of cpu, opencl`},
		{"unknown precision", []string{"--precision", "float16"}, `"float16" is not one of float32, float64`},
		{"zero repeat", []string{"--repeat", "0"}, "--repeat is 0"},
		{"negative settle", []string{"--settle", "-1s"}, "--settle is -1s"},
		{"negative temperature", []string{"--temperature", "-1"}, "--temperature is -1"},
		{"plot not png", []string{"--plot", "out.svg"}, "must name a .png file"},
		{"positional argument", []string{"extra"}, `unexpected argument "extra"`},
		{"unknown flag", []string{"--gpu"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseArgs(tc.args, new(bytes.Buffer))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q does not contain %q", err, tc.message)
			}
		})
	}
}

func TestRunInvalidFlagExitStatus(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--repeat", "-3"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit status %d, want 2", code)
	}
	if !strings.HasPrefix(stderr.String(), "gpubench: ") || !strings.Contains(stderr.String(), "usage: gpubench") {
		t.Fatalf("stderr %q lacks the error and usage lines", stderr.String())
	}
}

func TestSummarize(t *testing.T) {
	cases := []struct {
		times              []float64
		median, minT, maxT float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{5}, 5, 5, 5},
	}
	for _, tc := range cases {
		r := record{Op: "loss", Batch: 1000, Features: 100}
		r.summarize(tc.times)
		if r.MedianSeconds != tc.median || r.MinSeconds != tc.minT || r.MaxSeconds != tc.maxT {
			t.Errorf("times %v: median, min, max = %v, %v, %v, want %v, %v, %v",
				tc.times, r.MedianSeconds, r.MinSeconds, r.MaxSeconds, tc.median, tc.minT, tc.maxT)
		}
		if want := 2 * 1000 * 1000 * 100 / tc.median / 1e9; math.Abs(r.GFLOPS-want) > 1e-12 {
			t.Errorf("times %v: GFLOP/s = %v, want %v", tc.times, r.GFLOPS, want)
		}
	}
}

func TestSchedule(t *testing.T) {
	interleaved := schedule(2, 3, false)
	sequential := schedule(2, 3, true)
	wantInterleaved := []step{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 2}, {1, 2}}
	wantSequential := []step{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}}
	if !slices.Equal(interleaved, wantInterleaved) {
		t.Errorf("interleaved schedule %v, want %v", interleaved, wantInterleaved)
	}
	if !slices.Equal(sequential, wantSequential) {
		t.Errorf("sequential schedule %v, want %v", sequential, wantSequential)
	}
}

func TestFlops(t *testing.T) {
	cases := []struct {
		op   string
		want float64
	}{
		{"loss", 2 * 4096 * 4096 * 128},
		{"grad", 6 * 4096 * 4096 * 128},
		{"csdp", 4 * 4096 * 128 * 128},
		{"sgemm", 2 * 4096 * 4096 * 128},
	}
	for _, tc := range cases {
		if got := flops(tc.op, 4096, 128); got != tc.want {
			t.Errorf("flops(%s) = %v, want %v", tc.op, got, tc.want)
		}
	}
}

// runJSON runs gpubench with args plus --json and returns the records.
func runJSON(t *testing.T, args ...string) []record {
	t.Helper()
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "out.json")
	plotPath := filepath.Join(dir, "out.png")
	args = append(args, "--json", jsonPath, "--plot", plotPath, "--settle", "0")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var records []record
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatalf("decoding %s: %v", jsonPath, err)
	}
	png, err := os.ReadFile(plotPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG file", plotPath)
	}
	if !strings.Contains(stdout.String(), "op=loss/backend=cpu/batch=16/features=8/precision=float32") {
		t.Fatalf("table lacks the loss row:\n%s", stdout.String())
	}
	return records
}

func TestRunCPU(t *testing.T) {
	records := runJSON(t, "--backends", "cpu", "--ops", "loss,grad,csdp", "--batch", "16,40",
		"--features", "8", "--repeat", "2")
	if len(records) != 6 {
		t.Fatalf("%d records, want 6 (3 operations × 2 batch sizes)", len(records))
	}
	losses := map[int]float64{}
	for _, r := range records {
		if r.Error != "" {
			t.Fatalf("%s: %s", r.Name, r.Error)
		}
		if r.Name != benchmarkName(r.Op, "cpu", r.Batch, 8, "float32") {
			t.Errorf("record name %q does not match its fields", r.Name)
		}
		if r.Repeat != 2 || !(r.MinSeconds > 0) || r.MinSeconds > r.MedianSeconds || r.MedianSeconds > r.MaxSeconds {
			t.Errorf("%s: repeat %d, times min %v, median %v, max %v", r.Name, r.Repeat, r.MinSeconds, r.MedianSeconds, r.MaxSeconds)
		}
		if !(r.GFLOPS > 0) || r.PeakRSSBytes <= 0 || r.BLAS == "" || r.Device == "" {
			t.Errorf("%s: GFLOP/s %v, peak RSS %d, BLAS %q, device %q", r.Name, r.GFLOPS, r.PeakRSSBytes, r.BLAS, r.Device)
		}
		if len(fmaLoops()) > 0 && !(r.CPUPeakGFLOPS > 0) {
			t.Errorf("%s: CPU peak %v, want the measured peak", r.Name, r.CPUPeakGFLOPS)
		}
		switch r.Op {
		case "loss":
			losses[r.Batch] = r.Loss
		case "grad":
			if r.Loss != losses[r.Batch] || !(r.Loss > 0) {
				t.Errorf("%s: loss %v, the loss alone gave %v", r.Name, r.Loss, losses[r.Batch])
			}
		}
	}
}

// TestRunPeers checks that the peers run on the same inputs: their loss
// must match spikessl's.
func TestRunPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Python")
	}
	if _, err := findPython(context.Background(), "", "numpy"); err != nil {
		t.Skip(err)
	}
	records := runJSON(t, "--backends", "cpu", "--ops", "loss", "--batch", "16", "--features", "8", "--repeat", "1", "--peers")
	var ours, numpy *record
	for i := range records {
		switch records[i].Backend {
		case "cpu":
			ours = &records[i]
		case "numpy":
			numpy = &records[i]
		}
	}
	if ours == nil || numpy == nil {
		t.Fatalf("records %+v lack the cpu or numpy row", records)
	}
	if numpy.Error != "" {
		t.Fatalf("numpy peer failed: %s", numpy.Error)
	}
	if math.Abs(numpy.Loss-ours.Loss) > 1e-5*ours.Loss {
		t.Fatalf("NumPy loss %v, spikessl %v", numpy.Loss, ours.Loss)
	}
}

// TestRunSgemmColumn checks that the loss rows are compared with the
// reference product of their shape.
func TestRunSgemmColumn(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--backends", "cpu", "--ops", "loss,sgemm", "--batch", "64", "--features", "8", "--repeat", "1"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr.String())
	}
	lines := strings.Split(stdout.String(), "\n")
	var header, loss string
	for _, line := range lines {
		switch {
		case strings.Contains(line, "÷ sgemm"):
			header = line
		case strings.Contains(line, "op=loss/"):
			loss = line
		}
	}
	if header == "" {
		t.Fatalf("table has no ÷ sgemm column:\n%s", stdout.String())
	}
	if fields := strings.Fields(loss); len(fields) == 0 || fields[len(fields)-1] == "-" {
		t.Fatalf("loss row %q has no ratio to sgemm", loss)
	}
}

// TestMeasureCPUPeak runs the multiply-add loops and checks the fields of
// the result.
func TestMeasureCPUPeak(t *testing.T) {
	loops := fmaLoops()
	p := measureCPUPeak(2)
	if len(loops) == 0 {
		if p.gflops != 0 || p.isa != "" {
			t.Fatalf("peak %+v without a loop, want zero", p)
		}
		t.Skip("no multiply-add loop for this CPU")
	}
	if !(p.gflops > 0) || math.IsInf(p.gflops, 0) || p.threads != 2 {
		t.Fatalf("peak %+v", p)
	}
	if !slices.ContainsFunc(loops, func(l fmaLoop) bool { return l.isa == p.isa }) {
		t.Errorf("peak names %q, not one of the loops", p.isa)
	}
	if got := p.forPrecision("float64"); got != p.gflops/2 {
		t.Errorf("float64 peak %v, want half of %v", got, p.gflops)
	}
}

// TestRunOpenCL checks the OpenCL rows against the CPU rows, and that an
// OpenCL device of type CPU gets the CPU's peak.
func TestRunOpenCL(t *testing.T) {
	device := gputest.Open(t, gpu.Options{}).Info()
	records := runJSON(t, "--backends", "cpu,opencl", "--ops", "loss,grad", "--batch", "16", "--features", "8", "--repeat", "1")
	losses := map[string]float64{}
	for _, r := range records {
		if r.Error != "" {
			t.Fatalf("%s: %s", r.Name, r.Error)
		}
		losses[r.Backend+"/"+r.Op] = r.Loss
		if r.Backend != "opencl" {
			continue
		}
		wantPeak := device.Type == gpu.TypeCPU && len(fmaLoops()) > 0
		if got := r.CPUPeakGFLOPS > 0; got != wantPeak {
			t.Errorf("%s on a device of type %s: CPU peak %v", r.Name, device.Type, r.CPUPeakGFLOPS)
		}
	}
	for _, op := range []string{"loss", "grad"} {
		cpuLoss, openCLLoss := losses["cpu/"+op], losses["opencl/"+op]
		if !(cpuLoss > 0) || math.Abs(openCLLoss-cpuLoss) > 1e-5*cpuLoss {
			t.Errorf("%s: OpenCL loss %v, CPU loss %v", op, openCLLoss, cpuLoss)
		}
	}
}
