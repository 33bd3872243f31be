package ssl

import (
	"bytes"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
	"github.com/spikessl/spikessl/kernels"
)

// withDevice replaces openDevice for the duration of a test.
func withDevice(t *testing.T, open func(gpu.Options) (Backend, error)) {
	t.Helper()
	saved := openDevice
	openDevice = open
	t.Cleanup(func() { openDevice = saved })
}

// faultEngine returns an engine of kind whose device comes from open,
// which runs every problem on that device, and the buffer its warnings
// are logged to.
func faultEngine(t *testing.T, kind BackendKind, open func(gpu.Options) (Backend, error)) (*Engine, *syncBuffer, error) {
	t.Helper()
	withDevice(t, open)
	logs := &syncBuffer{}
	e, err := New(Options{
		Backend:        kind,
		MinDeviceWork:  1,
		AllowCPUDevice: true,
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err == nil {
		t.Cleanup(func() { _ = e.Close() })
	}
	return e, logs, err
}

// syncBuffer is a bytes.Buffer safe for concurrent writes by a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// requireDevice skips the test, or fails it under SPIKESSL_REQUIRE_OPENCL,
// when no OpenCL device can be opened.
func requireDevice(t *testing.T) {
	t.Helper()
	b, err := gpu.Open(gpu.Options{})
	if err != nil {
		gputest.NoDevice(t, err)
	}
	_ = b.Close()
}

func brokenInfoNCE(opt gpu.Options) (Backend, error) {
	opt.Source = func(program string) string {
		if program == "infonce" {
			return kernels.InfoNCE + "\nstatic float broken(float x) { return undefined_function(x); }\n"
		}
		return kernels.Sources()[program]
	}
	return openDevice0(opt)
}

// openDevice0 is the real openDevice, saved before any test replaces it.
var openDevice0 = openDevice

func randomViews(seed uint64, batch, features int) (Matrix[float32], Matrix[float32]) {
	r := rand.New(rand.NewPCG(seed, 1))
	a := Matrix[float32]{Rows: batch, Cols: features, Data: make([]float32, batch*features)}
	b := Matrix[float32]{Rows: batch, Cols: features, Data: make([]float32, batch*features)}
	for i := range a.Data {
		a.Data[i] = r.Float32()
		b.Data[i] = r.Float32()
	}
	return a, b
}

func TestAutoRedoesFailedBuildOnCPU(t *testing.T) {
	requireDevice(t)
	before := gpu.LiveObjects()
	e, logs, err := faultEngine(t, BackendAuto, brokenInfoNCE)
	if err != nil {
		t.Fatal(err)
	}
	a, b := randomViews(1, 50, 12)
	opt := InfoNCEOptions{Temperature: 0.3, Symmetric: true}
	got, err := InfoNCEGrad(e, a, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := InfoNCEGrad(cpuOnly(t), a, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got.Backend != "cpu" {
		t.Errorf("ran on %q, want cpu after the device failed", got.Backend)
	}
	if got.Loss != want.Loss || !slices.Equal(got.GradA.Data, want.GradA.Data) || !slices.Equal(got.GradB.Data, want.GradB.Data) {
		t.Error("the result redone on the CPU differs from the CPU engine's")
	}
	log := logs.String()
	for _, want := range []string{"level=WARN", "device failed", "clBuildProgram", "undefined_function", "device disabled"} {
		if !strings.Contains(log, want) {
			t.Errorf("warning log does not contain %q:\n%s", want, log)
		}
	}

	// The build failure would recur, so later calls go to the CPU at once.
	again, err := InfoNCEGrad(e, a, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	if again.Backend != "cpu" {
		t.Errorf("second call ran on %q, want cpu", again.Backend)
	}
	if logs.String() != log {
		t.Errorf("second call logged again:\n%s", strings.TrimPrefix(logs.String(), log))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if after := gpu.LiveObjects(); after != before {
		t.Errorf("%d OpenCL objects live after Close, %d before", after, before)
	}
}

func TestOpenCLReportsFailedBuild(t *testing.T) {
	requireDevice(t)
	e, _, err := faultEngine(t, BackendOpenCL, brokenInfoNCE)
	if err != nil {
		t.Fatal(err)
	}
	a, b := randomViews(2, 20, 4)
	_, err = InfoNCELoss(e, a, b, DefaultInfoNCE())
	var buildErr *gpu.BuildError
	if !errors.As(err, &buildErr) {
		t.Fatalf("error %v, want a *gpu.BuildError", err)
	}
	if !strings.Contains(err.Error(), "CL_BUILD_PROGRAM_FAILURE") || !strings.Contains(err.Error(), "undefined_function") {
		t.Errorf("error does not name the status and the build log's error:\n%v", err)
	}
}

// failingBackend runs its first calls on the device and fails the later
// ones with CL_OUT_OF_RESOURCES, after writing NaN into the outputs as a
// device lost mid-call might.
type failingBackend struct {
	*gpu.Backend
	mu        sync.Mutex
	succeeded int // calls to let through before failing
}

func (f *failingBackend) fail() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.succeeded > 0 {
		f.succeeded--
		return false
	}
	return true
}

var errLost = &gpu.CallError{Call: "clEnqueueNDRangeKernel", Status: -5}

func (f *failingBackend) OuterUpdate32(weights []float32, nPost, nPre int, post, pre []float32, batch int, scale []float32, alpha, beta float64, out []float32) error {
	if f.fail() {
		for i := range out {
			out[i] = float32(nan())
		}
		return errLost
	}
	return f.Backend.OuterUpdate32(weights, nPost, nPre, post, pre, batch, scale, alpha, beta, out)
}

func (f *failingBackend) InfoNCE32(a, b []float32, batch, features int, temperature float64, symmetric bool, gradA, gradB []float32) (float64, error) {
	if f.fail() {
		for i := range gradA {
			gradA[i] = float32(nan())
		}
		return 0, errLost
	}
	return f.Backend.InfoNCE32(a, b, batch, features, temperature, symmetric, gradA, gradB)
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestAutoRedoesFailedStepOnCPU(t *testing.T) {
	requireDevice(t)
	before := gpu.LiveObjects()
	// The positive phase of the step succeeds on the device and the
	// negative phase fails, so the whole step must be redone on the CPU.
	e, logs, err := faultEngine(t, BackendAuto, func(opt gpu.Options) (Backend, error) {
		b, err := gpu.Open(opt)
		if err != nil {
			return nil, err
		}
		return &failingBackend{Backend: b, succeeded: 1}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pre, post := randomViews(3, 30, 10)
	weights := Matrix[float32]{Rows: 10, Cols: 10, Data: slices.Clone(pre.Data[:100])}
	saved := weights.Clone()
	pos := Phase[float32]{Pre: pre, Post: post}
	neg := Phase[float32]{Pre: post, Post: pre}

	got, err := CSDPStep(e, DefaultCSDP(), weights, pos, neg)
	if err != nil {
		t.Fatal(err)
	}
	want, err := CSDPStep(cpuOnly(t), DefaultCSDP(), weights, pos, neg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Backend != "cpu" {
		t.Errorf("ran on %q, want cpu after the device failed", got.Backend)
	}
	if !slices.Equal(got.Weights.Data, want.Weights.Data) {
		t.Error("the step redone on the CPU differs from the CPU engine's")
	}
	if !slices.Equal(weights.Data, saved.Data) {
		t.Error("the caller's weights were modified")
	}
	if !strings.Contains(logs.String(), "CL_OUT_OF_RESOURCES") {
		t.Errorf("warning log does not name the failure:\n%s", logs)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if after := gpu.LiveObjects(); after != before {
		t.Errorf("%d OpenCL objects live after Close, %d before", after, before)
	}
}

func TestMaxAllocUnderAuto(t *testing.T) {
	requireDevice(t)
	before := gpu.LiveObjects()
	capped := func(opt gpu.Options) (Backend, error) {
		opt.MaxAlloc = 4096
		return openDevice0(opt)
	}
	e, logs, err := faultEngine(t, BackendAuto, capped)
	if err != nil {
		t.Fatal(err)
	}

	// 100 × 20 float32 views need 8000-byte buffers: the device rejects
	// them and the CPU computes the loss.
	a, b := randomViews(4, 100, 20)
	got, err := InfoNCELoss(e, a, b, DefaultInfoNCE())
	if err != nil {
		t.Fatal(err)
	}
	want, err := InfoNCELoss(cpuOnly(t), a, b, DefaultInfoNCE())
	if err != nil {
		t.Fatal(err)
	}
	if got.Backend != "cpu" || got.Loss != want.Loss {
		t.Errorf("ran on %q with loss %v, want cpu with %v", got.Backend, got.Loss, want.Loss)
	}
	if !strings.Contains(logs.String(), "CL_DEVICE_MAX_MEM_ALLOC_SIZE") {
		t.Errorf("warning log does not name the limit:\n%s", logs)
	}

	// 1000 samples of 8 and 16 neurons are sent in pieces and stay on the
	// device.
	pre, post := randomViews(5, 1000, 16)
	post.Cols, post.Data = 8, post.Data[:8000]
	weights := Matrix[float32]{Rows: 8, Cols: 16, Data: slices.Clone(pre.Data[:128])}
	update, err := CSDPPositive(e, DefaultCSDP(), weights, Phase[float32]{Pre: pre, Post: post})
	if err != nil {
		t.Fatal(err)
	}
	if update.Backend != "opencl" {
		t.Errorf("split update ran on %q, want opencl", update.Backend)
	}
	wantUpdate, err := CSDPPositive(cpuOnly(t), DefaultCSDP(), weights, Phase[float32]{Pre: pre, Post: post})
	if err != nil {
		t.Fatal(err)
	}
	if r := gputest.RelativeError(update.Weights.Data, wantUpdate.Weights.Data); r > 1e-5 {
		t.Errorf("split update: relative error %.3g > 1e-5", r)
	}

	// BackendOpenCL reports the limit instead.
	strict, _, err := faultEngine(t, BackendOpenCL, capped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := InfoNCELoss(strict, a, b, DefaultInfoNCE()); !errors.Is(err, gpu.ErrTooLarge) || !strings.Contains(err.Error(), "4096 bytes") {
		t.Errorf("BackendOpenCL: error %v, want gpu.ErrTooLarge naming the 4096-byte limit", err)
	}
	_ = e.Close()
	_ = strict.Close()
	if after := gpu.LiveObjects(); after != before {
		t.Errorf("%d OpenCL objects live after Close, %d before", after, before)
	}
}

func cpuOnly(t *testing.T) *Engine {
	t.Helper()
	e, err := New(Options{Backend: BackendCPU})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
