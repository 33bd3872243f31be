package ssl_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
	"github.com/spikessl/spikessl/ssl"
)

// openCLEngine returns an engine with BackendOpenCL, closed when the test
// ends, or skips the test when no device can be opened.
func openCLEngine(t *testing.T) *ssl.Engine {
	t.Helper()
	e, err := ssl.New(ssl.Options{Backend: ssl.BackendOpenCL})
	if err != nil {
		gputest.NoDevice(t, err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("closing the engine: %v", err)
		}
	})
	return e
}

func TestReferenceOpenCL(t *testing.T) {
	cases := loadReference(t)
	e := openCLEngine(t)
	device, _ := e.Device()
	for _, c := range cases.InfoNCE {
		t.Run(c.Name+"/float32", func(t *testing.T) {
			checkOpenCLInfoNCE[float32](t, e, c.ViewA, c.ViewB, c.Temperature, c.Loss, c.GradA, c.GradB, 1e-5, 1e-4)
		})
		t.Run(c.Name+"/float64", func(t *testing.T) {
			if !device.(*gpu.Backend).Info().FP64 {
				t.Skipf("%s lacks cl_khr_fp64", device.Device())
			}
			checkOpenCLInfoNCE[float64](t, e, c.ViewA, c.ViewB, c.Temperature, c.Loss, c.GradA, c.GradB, 1e-12, 1e-10)
		})
	}
	for _, c := range cases.CSDP {
		t.Run(c.Name+"/float32", func(t *testing.T) {
			checkReferenceCSDP[float32](t, e, c.LR, c.Decay, c.Weights, c.PosPre, c.PosPost, c.NegPre, c.NegPost, c.PositiveUpdate, c.NegativeUpdate, c.ContrastiveStep, c.GoodnessPosPost, 1e-5)
		})
		t.Run(c.Name+"/float64", func(t *testing.T) {
			if !device.(*gpu.Backend).Info().FP64 {
				t.Skipf("%s lacks cl_khr_fp64", device.Device())
			}
			checkReferenceCSDP[float64](t, e, c.LR, c.Decay, c.Weights, c.PosPre, c.PosPost, c.NegPre, c.NegPost, c.PositiveUpdate, c.NegativeUpdate, c.ContrastiveStep, c.GoodnessPosPost, 1e-12)
		})
	}
}

// checkOpenCLInfoNCE compares the device's InfoNCE with reference values:
// the loss within lossTol relative, the gradients within gradTol
// norm-wise.
func checkOpenCLInfoNCE[T ssl.Float](t *testing.T, e *ssl.Engine, a, b [][]float64, temperature, loss float64, gradA, gradB [][]float64, lossTol, gradTol float64) {
	t.Helper()
	got, err := ssl.InfoNCEGrad(e, matrixOf[T](a), matrixOf[T](b), ssl.InfoNCEOptions{Temperature: temperature})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) >= 2 && got.Backend != "opencl" {
		t.Errorf("ran on backend %q, want opencl", got.Backend)
	}
	if r := relative(got.Loss, loss); r > lossTol {
		t.Errorf("loss = %.17g, want %.17g (relative error %.3g > %.0e)", got.Loss, loss, r, lossTol)
	}
	if r := relativeError(got.GradA, gradA); r > gradTol {
		t.Errorf("grad_a relative error %.3g > %.0e", r, gradTol)
	}
	if r := relativeError(got.GradB, gradB); r > gradTol {
		t.Errorf("grad_b relative error %.3g > %.0e", r, gradTol)
	}
}

// TestCSDPOpenCLMatchesCPU runs every CSDP form on the device and on the
// CPU in float64, on the same float32 activity.
func TestCSDPOpenCLMatchesCPU(t *testing.T) {
	e := openCLEngine(t)
	cpu := cpuEngine(t)
	rule := ssl.CSDP{LR: 0.05, Decay: 0.01, Threshold: 2}
	const nPost = 17
	for _, batch := range []int{1, 2, 3, 63, 64, 65, 127, 128, 129, 1000, 4097} {
		for _, nPre := range []int{1, 3, 128, 257} {
			t.Run(fmt.Sprintf("batch=%d/features=%d", batch, nPre), func(t *testing.T) {
				seed := uint64(batch*31 + nPre)
				weights := ssl.Matrix[float32]{Rows: nPost, Cols: nPre, Data: gputest.Normal[float32](seed, nPost*nPre)}
				pos := ssl.Phase[float32]{
					Pre:  ssl.Matrix[float32]{Rows: batch, Cols: nPre, Data: gputest.Uniform[float32](seed+1, batch*nPre)},
					Post: ssl.Matrix[float32]{Rows: batch, Cols: nPost, Data: gputest.Uniform[float32](seed+2, batch*nPost)},
				}
				// The corrupted phase has fewer samples, so that the two
				// phases' means differ.
				negBatch := max(1, batch/2)
				neg := ssl.Phase[float32]{
					Pre:  ssl.Matrix[float32]{Rows: negBatch, Cols: nPre, Data: gputest.Uniform[float32](seed+3, negBatch*nPre)},
					Post: ssl.Matrix[float32]{Rows: negBatch, Cols: nPost, Data: gputest.Uniform[float32](seed+4, negBatch*nPost)},
				}
				weights64, pos64, neg64 := widen(weights), widenPhase(pos), widenPhase(neg)
				for _, form := range []struct {
					name  string
					run32 func(*ssl.Engine) (ssl.UpdateResult[float32], error)
					run64 func(*ssl.Engine) (ssl.UpdateResult[float64], error)
				}{
					{"positive",
						func(e *ssl.Engine) (ssl.UpdateResult[float32], error) { return ssl.CSDPPositive(e, rule, weights, pos) },
						func(e *ssl.Engine) (ssl.UpdateResult[float64], error) {
							return ssl.CSDPPositive(e, rule, weights64, pos64)
						}},
					{"negative",
						func(e *ssl.Engine) (ssl.UpdateResult[float32], error) { return ssl.CSDPNegative(e, rule, weights, neg) },
						func(e *ssl.Engine) (ssl.UpdateResult[float64], error) {
							return ssl.CSDPNegative(e, rule, weights64, neg64)
						}},
					{"step",
						func(e *ssl.Engine) (ssl.UpdateResult[float32], error) {
							return ssl.CSDPStep(e, rule, weights, pos, neg)
						},
						func(e *ssl.Engine) (ssl.UpdateResult[float64], error) {
							return ssl.CSDPStep(e, rule, weights64, pos64, neg64)
						}},
					{"modulated",
						func(e *ssl.Engine) (ssl.UpdateResult[float32], error) {
							return ssl.CSDPModulated(e, rule, weights, pos, neg)
						},
						func(e *ssl.Engine) (ssl.UpdateResult[float64], error) {
							return ssl.CSDPModulated(e, rule, weights64, pos64, neg64)
						}},
				} {
					got, err := form.run32(e)
					if err != nil {
						t.Fatalf("%s: %v", form.name, err)
					}
					if got.Backend != "opencl" {
						t.Errorf("%s: ran on backend %q, want opencl", form.name, got.Backend)
					}
					want, err := form.run64(cpu)
					if err != nil {
						t.Fatalf("%s on the CPU: %v", form.name, err)
					}
					if r := gputest.RelativeError(got.Weights.Data, want.Weights.Data); r > 1e-4 {
						t.Errorf("%s: relative error %.3g > 1e-4", form.name, r)
					}
					// The change of the weights, not only the weights,
					// must match: it is small next to the weights.
					if r := gputest.RelativeError(delta(got.Weights.Data, weights.Data), delta(want.Weights.Data, weights64.Data)); r > 1e-3 {
						t.Errorf("%s: update relative error %.3g > 1e-3", form.name, r)
					}
				}
			})
		}
	}
}

func widen(m ssl.Matrix[float32]) ssl.Matrix[float64] {
	return ssl.Matrix[float64]{Rows: m.Rows, Cols: m.Cols, Data: gputest.To64(m.Data)}
}

func widenPhase(p ssl.Phase[float32]) ssl.Phase[float64] {
	return ssl.Phase[float64]{Pre: widen(p.Pre), Post: widen(p.Post)}
}

// delta returns after − before in float64.
func delta[T, U ssl.Float](after []T, before []U) []float64 {
	out := make([]float64, len(after))
	for i := range after {
		out[i] = float64(after[i]) - float64(before[i])
	}
	return out
}

func TestInfoNCEOpenCLMatchesCPU(t *testing.T) {
	e := openCLEngine(t)
	cpu := cpuEngine(t)
	for _, size := range [][2]int{{3, 5}, {130, 40}, {600, 64}} {
		for _, symmetric := range []bool{false, true} {
			t.Run(fmt.Sprintf("batch=%d/features=%d/symmetric=%v", size[0], size[1], symmetric), func(t *testing.T) {
				n := size[0] * size[1]
				a := ssl.Matrix[float32]{Rows: size[0], Cols: size[1], Data: gputest.Uniform[float32](1, n)}
				b := ssl.Matrix[float32]{Rows: size[0], Cols: size[1], Data: gputest.Uniform[float32](2, n)}
				opt := ssl.InfoNCEOptions{Temperature: 0.1, Symmetric: symmetric}
				got, err := ssl.InfoNCEGrad(e, a, b, opt)
				if err != nil {
					t.Fatal(err)
				}
				want, err := ssl.InfoNCEGrad(cpu, widen(a), widen(b), opt)
				if err != nil {
					t.Fatal(err)
				}
				if r := relative(got.Loss, want.Loss); r > 1e-5 {
					t.Errorf("loss %.10g, CPU %.10g: relative error %.3g > 1e-5", got.Loss, want.Loss, r)
				}
				if r := gputest.RelativeError(got.GradA.Data, want.GradA.Data); r > 1e-4 {
					t.Errorf("grad_a relative error %.3g > 1e-4", r)
				}
				if r := gputest.RelativeError(got.GradB.Data, want.GradB.Data); r > 1e-4 {
					t.Errorf("grad_b relative error %.3g > 1e-4", r)
				}
				if got.Backend != "opencl" || got.Device == "" {
					t.Errorf("result names backend %q, device %q; want opencl and the device", got.Backend, got.Device)
				}
			})
		}
	}
}

func TestAutoChoosesByDeviceTypeAndSize(t *testing.T) {
	probe := openCLEngine(t)
	device, _ := probe.Device()
	isCPU := device.(*gpu.Backend).Info().Type == gpu.TypeCPU
	a := ssl.Matrix[float32]{Rows: 40, Cols: 8, Data: gputest.Uniform[float32](1, 320)}
	b := ssl.Matrix[float32]{Rows: 40, Cols: 8, Data: gputest.Uniform[float32](2, 320)}

	for _, tc := range []struct {
		name     string
		opt      ssl.Options
		wantOnGP string // the backend for a GPU or accelerator
		wantOnCP string // the backend for a CPU device such as PoCL
	}{
		{"small problem", ssl.Options{}, "cpu", "cpu"},
		{"large problem", ssl.Options{MinDeviceWork: 1}, "opencl", "cpu"},
		{"large problem, CPU device allowed", ssl.Options{MinDeviceWork: 1, AllowCPUDevice: true}, "opencl", "opencl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ssl.New(tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			got, err := ssl.InfoNCELoss(e, a, b, ssl.DefaultInfoNCE())
			if err != nil {
				t.Fatal(err)
			}
			want := tc.wantOnGP
			if isCPU {
				want = tc.wantOnCP
			}
			if got.Backend != want {
				t.Errorf("ran on %q (%s), want %q", got.Backend, got.Device, want)
			}
		})
	}
}

func TestOpenCLConcurrentUse(t *testing.T) {
	e := openCLEngine(t)
	a := ssl.Matrix[float32]{Rows: 150, Cols: 30, Data: gputest.Normal[float32](1, 4500)}
	b := ssl.Matrix[float32]{Rows: 150, Cols: 30, Data: gputest.Normal[float32](2, 4500)}
	opt := ssl.InfoNCEOptions{Temperature: 0.2, Symmetric: true}
	want, err := ssl.InfoNCEGrad(e, a, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 6)
	for range 6 {
		go func() {
			got, err := ssl.InfoNCEGrad(e, a, b, opt)
			if err == nil && got.Loss != want.Loss {
				err = fmt.Errorf("loss %.17g, want %.17g", got.Loss, want.Loss)
			}
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// noPlatformEnv marks the child process of TestNoPlatform, in which
// TestMain runs checkNoPlatform in place of the tests.
const noPlatformEnv = "SPIKESSL_TEST_NO_PLATFORM"

func TestMain(m *testing.M) {
	if os.Getenv(noPlatformEnv) != "" {
		if err := checkNoPlatform(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestNoPlatform runs checkNoPlatform in a process whose OpenCL loader
// finds no vendor driver, because OCL_ICD_VENDORS names an empty folder.
// The loader reads that variable once per process.
func TestNoPlatform(t *testing.T) {
	if _, err := gpu.Devices(); err != nil {
		gputest.NoDevice(t, err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "OCL_ICD_VENDORS="+t.TempDir(), noPlatformEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child process failed (%v): %s", err, out)
	}
}

// checkNoPlatform returns an error unless BackendOpenCL fails with
// ErrNoDevice wrapping gpu.ErrNoPlatform, in one line, and BackendAuto
// computes on the CPU.
func checkNoPlatform() error {
	_, err := ssl.New(ssl.Options{Backend: ssl.BackendOpenCL})
	if !errors.Is(err, ssl.ErrNoDevice) || !errors.Is(err, gpu.ErrNoPlatform) {
		return fmt.Errorf("BackendOpenCL: error %v, want ssl.ErrNoDevice wrapping gpu.ErrNoPlatform", err)
	}
	if strings.Contains(err.Error(), "\n") {
		return fmt.Errorf("error %q spans several lines", err)
	}

	e, err := ssl.New(ssl.Options{MinDeviceWork: 1, AllowCPUDevice: true})
	if err != nil {
		return err
	}
	a := ssl.Matrix[float64]{Rows: 4, Cols: 3, Data: gputest.Uniform[float64](1, 12)}
	got, err := ssl.InfoNCELoss(e, a, a, ssl.DefaultInfoNCE())
	if err != nil {
		return err
	}
	if got.Backend != "cpu" {
		return fmt.Errorf("BackendAuto ran on %q, want cpu", got.Backend)
	}
	return nil
}
