package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/spikessl/spikessl/cblas"
	"github.com/spikessl/spikessl/cpu"
	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/ssl"
)

// record is one row of the results: a spikessl backend or a peer, on one
// operation and shape. Times are in seconds.
type record struct {
	Name          string  `json:"name"`
	Op            string  `json:"op"`
	Backend       string  `json:"backend"`
	Device        string  `json:"device"`
	Driver        string  `json:"driver,omitempty"`
	BLAS          string  `json:"blas"`
	Batch         int     `json:"batch"`
	Features      int     `json:"features"`
	Precision     string  `json:"precision"`
	Threads       int     `json:"threads"`
	Repeat        int     `json:"repeat"`
	MedianSeconds float64 `json:"median_seconds"`
	MinSeconds    float64 `json:"min_seconds"`
	MaxSeconds    float64 `json:"max_seconds"`
	GFLOPS        float64 `json:"gflops"`
	// CPUPeakGFLOPS is the CPU's measured multiply-add peak in this
	// precision, on rows that run on the CPU.
	CPUPeakGFLOPS float64 `json:"cpu_peak_gflops,omitempty"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes"`
	// Loss is the InfoNCE loss computed, to check that the rows agree.
	Loss float64 `json:"loss,omitempty"`
	// Error is the reason the row has no times: a missing device or peer,
	// or a failed run.
	Error string `json:"error,omitempty"`

	// cpuDevice is true for the rows of an OpenCL device of type CPU.
	cpuDevice bool
}

// benchmarkName returns the name shared with the go test benchmarks.
func benchmarkName(op, backend string, batch, features int, precision string) string {
	return fmt.Sprintf("op=%s/backend=%s/batch=%d/features=%d/precision=%s", op, backend, batch, features, precision)
}

// flops returns the floating-point operations counted for op: 2·batch²·
// features per batch × batch product it needs at the least, or the two
// outer products of a CSDP step.
func flops(op string, batch, features int) float64 {
	b, f := float64(batch), float64(features)
	switch op {
	case "loss":
		return 2 * b * b * f
	case "grad":
		return 3 * 2 * b * b * f
	case "csdp":
		return 2 * 2 * b * f * f
	case "sgemm":
		return 2 * b * b * f
	}
	return 0
}

// summarize fills the time fields of r from the timed runs.
func (r *record) summarize(times []float64) {
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	n := len(sorted)
	r.Repeat = n
	r.MinSeconds, r.MaxSeconds = sorted[0], sorted[n-1]
	r.MedianSeconds = sorted[n/2]
	if n%2 == 0 {
		r.MedianSeconds = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	if r.MedianSeconds > 0 {
		r.GFLOPS = flops(r.Op, r.Batch, r.Features) / r.MedianSeconds / 1e9
	}
}

// views returns the two (batch, features) views of a configuration: a
// random matrix and a noisy copy of it, the same on every run.
func views[T ssl.Float](batch, features int) (a, b []T) {
	rng := rand.New(rand.NewPCG(uint64(batch), uint64(features)))
	a = make([]T, batch*features)
	b = make([]T, batch*features)
	for i := range a {
		x := rng.NormFloat64()
		a[i] = T(x)
		b[i] = T(x + 0.5*rng.NormFloat64())
	}
	return a, b
}

// engineInfo is an opened spikessl backend.
type engineInfo struct {
	name   string
	engine *ssl.Engine
	device string
	driver string
	blas   string
	// cpuDevice is true for an OpenCL device of type CPU, such as PoCL.
	cpuDevice bool
	// err is the error from opening the backend, or nil.
	err error
}

func openEngine(name string) engineInfo {
	info := engineInfo{name: name}
	kind := ssl.BackendCPU
	if name == "opencl" {
		kind = ssl.BackendOpenCL
	}
	info.engine, info.err = ssl.New(ssl.Options{Backend: kind})
	if info.err != nil {
		return info
	}
	if name == "cpu" {
		info.device = cpuModel()
		info.blas = cpu.BLASName()
		return info
	}
	if backend, err := info.engine.Device(); err == nil {
		info.device = backend.Device()
		info.driver = openCLDriver(info.device)
		if d, ok := backend.(interface{ Info() gpu.Device }); ok {
			info.cpuDevice = d.Info().Type == gpu.TypeCPU
		}
	}
	return info
}

// operation returns a function that runs op once on the views a and b,
// returning the InfoNCE loss (0 for CSDP).
func operation[T ssl.Float](e *ssl.Engine, op string, a, b []T, batch, features int, temperature float64) (func() (float64, error), error) {
	va, err := ssl.NewMatrix(batch, features, a)
	if err != nil {
		return nil, err
	}
	vb, err := ssl.NewMatrix(batch, features, b)
	if err != nil {
		return nil, err
	}
	opt := ssl.InfoNCEOptions{Temperature: temperature}
	switch op {
	case "loss":
		return func() (float64, error) {
			result, err := ssl.InfoNCELoss(e, va, vb, opt)
			return result.Loss, err
		}, nil
	case "grad":
		return func() (float64, error) {
			result, err := ssl.InfoNCEGrad(e, va, vb, opt)
			return result.Loss, err
		}, nil
	case "sgemm":
		return referenceProduct(a, b, batch, features)
	case "csdp":
		// A features × features layer: the views are the pre- and
		// post-synaptic activity of both phases.
		w := make([]T, features*features)
		for i := range w {
			w[i] = T(0.01 * float64(i%7))
		}
		weights, err := ssl.NewMatrix(features, features, w)
		if err != nil {
			return nil, err
		}
		pos := ssl.Phase[T]{Pre: va, Post: vb}
		neg := ssl.Phase[T]{Pre: vb, Post: va}
		return func() (float64, error) {
			_, err := ssl.CSDPStep(e, ssl.DefaultCSDP(), weights, pos, neg)
			return 0, err
		}, nil
	}
	return nil, fmt.Errorf("operation %q is invalid: must be loss, grad, csdp or sgemm", op)
}

// peerCoreType returns the OPENBLAS_CORETYPE that the peers run with:
// flagValue when it names a kernel family, the one the CPU backend's
// OpenBLAS was loaded with for "same", and "" (OpenBLAS's own detection)
// for "detect".
func peerCoreType(flagValue string) string {
	switch flagValue {
	case "detect":
		return ""
	case "same":
		lib, err := cblas.Install()
		if err != nil {
			return ""
		}
		return lib.CoreType()
	}
	return flagValue
}

// maxProductBytes is the largest batch × batch matrix the sgemm reference
// allocates.
const maxProductBytes = 4 << 30

// referenceProduct returns a function that computes the batch × batch
// product a·bᵀ with the installed BLAS on every thread: the matrix product
// that the loss is measured against. A system OpenBLAS is given one thread
// per GOMAXPROCS for the call and set back to one thread after it.
func referenceProduct[T ssl.Float](a, b []T, batch, features int) (func() (float64, error), error) {
	var zero T
	size := int64(batch) * int64(batch) * int64(unsafe.Sizeof(zero))
	if size > maxProductBytes {
		return nil, fmt.Errorf("skipped: the %d × %d product needs %.1f GiB, more than the %d GiB limit",
			batch, batch, float64(size)/(1<<30), maxProductBytes>>30)
	}
	lib, libErr := cblas.Install()
	return func() (float64, error) {
		// Allocated in the timed call, as NumPy's a @ b.T allocates its
		// result.
		c := make([]T, batch*batch)
		if libErr == nil {
			if err := lib.SetThreads(threads()); err == nil {
				defer lib.SetThreads(1)
			}
		}
		switch a := any(a).(type) {
		case []float32:
			blas32.Implementation().Sgemm(blas.NoTrans, blas.Trans, batch, batch, features, 1, a, features, any(b).([]float32), features, 0, any(c).([]float32), batch)
		case []float64:
			blas64.Implementation().Dgemm(blas.NoTrans, blas.Trans, batch, batch, features, 1, a, features, any(b).([]float64), features, 0, any(c).([]float64), batch)
		}
		return 0, nil
	}, nil
}
