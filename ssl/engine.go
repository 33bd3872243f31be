package ssl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/spikessl/spikessl/cpu"
	"github.com/spikessl/spikessl/gpu"
)

// Backend computes the operations of this package in one place, the CPU or
// a device. Slices are row-major with their dimensions beside them; inputs
// have been validated by the caller. A Backend must be safe for concurrent
// use and must not modify its inputs. Implementations write only to the
// output slices they are given, which the caller discards on error.
type Backend interface {
	// Name returns the backend's kind: "cpu" or "opencl".
	Name() string
	// Device returns what the backend runs on, for reports.
	Device() string

	// InfoNCE64 and InfoNCE32 return the InfoNCE loss of the
	// (batch, features) views a and b and write the gradients into gradA
	// and gradB unless they are nil.
	InfoNCE64(a, b []float64, batch, features int, temperature float64, symmetric bool, gradA, gradB []float64) (float64, error)
	InfoNCE32(a, b []float32, batch, features int, temperature float64, symmetric bool, gradA, gradB []float32) (float64, error)

	// OuterUpdate64 and OuterUpdate32 write into out the (nPost, nPre)
	// matrix beta·weights + alpha·Σ_s scale_s·post_sᵀ⊗pre_s, where post is
	// (batch, nPost) and pre is (batch, nPre). A nil scale means 1. out may
	// be the same slice as weights.
	OuterUpdate64(weights []float64, nPost, nPre int, post, pre []float64, batch int, scale []float64, alpha, beta float64, out []float64) error
	OuterUpdate32(weights []float32, nPost, nPre int, post, pre []float32, batch int, scale []float32, alpha, beta float64, out []float32) error

	// Goodness64 and Goodness32 write Σ_j x_ij² of each row of the
	// (rows, cols) matrix x into out.
	Goodness64(x []float64, rows, cols int, out []float64) error
	Goodness32(x []float32, rows, cols int, out []float64) error
}

var _ Backend = cpu.Backend{}

// BackendKind selects where an Engine runs.
type BackendKind string

// The backend kinds.
const (
	// BackendAuto uses an OpenCL GPU or accelerator for problems large
	// enough to gain from it, the CPU otherwise, and the CPU when the
	// device fails. An OpenCL device of type CPU, such as PoCL, is used
	// only with Options.AllowCPUDevice.
	BackendAuto BackendKind = "auto"
	// BackendCPU always uses the CPU.
	BackendCPU BackendKind = "cpu"
	// BackendOpenCL always uses an OpenCL device and fails without one.
	BackendOpenCL BackendKind = "opencl"
)

// ParseBackendKind returns the BackendKind named by s: "auto", "cpu" or
// "opencl". The empty string is BackendAuto.
func ParseBackendKind(s string) (BackendKind, error) {
	switch BackendKind(s) {
	case "", BackendAuto:
		return BackendAuto, nil
	case BackendCPU, BackendOpenCL:
		return BackendKind(s), nil
	}
	return "", fmt.Errorf("%w: backend %q, must be auto, cpu or opencl", ErrInvalidParameter, s)
}

// DefaultMinDeviceWork is the smallest problem, in multiply-adds, that
// BackendAuto sends to an OpenCL device; smaller ones stay on the CPU,
// where they finish before a device launch would.
//
// NOTE: 1<<26 is an estimate. It has not been measured against a GPU, only
// against PoCL, which no problem size makes faster than the CPU backend.
const DefaultMinDeviceWork = 1 << 26

// Options configures an Engine.
type Options struct {
	// Backend selects where calls run. The zero value is BackendAuto.
	Backend BackendKind

	// CPU is the CPU backend's configuration (tile sizes, workers).
	CPU cpu.Backend

	// MinDeviceWork is the smallest problem, in multiply-adds, that
	// BackendAuto runs on a device. Zero selects DefaultMinDeviceWork.
	MinDeviceWork int64

	// Device selects the OpenCL device: an index into the list that
	// "spikessl devices" prints, or a substring of the device's name.
	// Empty uses the environment variable SPIKESSL_OPENCL_DEVICE, then the
	// first GPU, accelerator or CPU device, in that order.
	Device string

	// AllowCPUDevice lets BackendAuto run calls on an OpenCL device of
	// type CPU, such as PoCL. Without it BackendAuto runs them on the CPU
	// backend, which is faster on the same cores. BackendOpenCL uses the
	// selected device whatever its type.
	AllowCPUDevice bool

	// Logger receives the backend choice at debug level and device
	// failures at warning level. Nil discards them.
	Logger *slog.Logger
}

// Engine runs the operations of this package on the backend that its
// Options select. It is safe for concurrent use.
type Engine struct {
	kind           BackendKind
	cpu            Backend
	minDeviceWork  int64
	deviceOptions  gpu.Options
	allowCPUDevice bool
	logger         *slog.Logger

	deviceOnce sync.Once
	device     Backend
	deviceErr  error

	// deviceDisabled is set under BackendAuto after a device failure that
	// every later call would repeat, such as a kernel that does not build.
	deviceDisabled atomic.Bool
}

// New returns an Engine. With BackendOpenCL it opens the device at once and
// returns an error wrapping ErrNoDevice if there is none. With BackendAuto
// the device is opened on first use, and its absence is not an error.
func New(opt Options) (*Engine, error) {
	kind, err := ParseBackendKind(string(opt.Backend))
	if err != nil {
		return nil, err
	}
	e := &Engine{
		kind:           kind,
		cpu:            opt.CPU,
		minDeviceWork:  opt.MinDeviceWork,
		allowCPUDevice: opt.AllowCPUDevice,
		logger:         opt.Logger,
	}
	if e.minDeviceWork <= 0 {
		e.minDeviceWork = DefaultMinDeviceWork
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	e.deviceOptions = gpu.Options{Device: opt.Device, Logger: e.logger}
	if kind == BackendOpenCL {
		if _, err := e.Device(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Kind returns the backend kind the Engine was created with.
func (e *Engine) Kind() BackendKind { return e.kind }

// Device returns the OpenCL backend, opening it on first use, or an error
// wrapping ErrNoDevice.
func (e *Engine) Device() (Backend, error) {
	e.deviceOnce.Do(func() {
		if e.kind == BackendCPU {
			e.deviceErr = fmt.Errorf("%w: the engine was created with backend cpu", ErrNoDevice)
			return
		}
		e.device, e.deviceErr = openDevice(e.deviceOptions)
		if e.deviceErr != nil {
			e.deviceErr = fmt.Errorf("%w: %w", ErrNoDevice, e.deviceErr)
			e.logger.Debug("ssl: no OpenCL device, using the CPU", "error", e.deviceErr)
			return
		}
		e.logger.Debug("ssl: opened OpenCL device", "device", e.device.Device())
	})
	return e.device, e.deviceErr
}

// Close releases the device, if one was opened. The Engine must not be
// used afterwards; a call on a closed device fails, and BackendAuto then
// redoes it on the CPU.
func (e *Engine) Close() error {
	if c, ok := e.device.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// Choose returns the backend that a problem of work multiply-adds runs on.
// Under BackendAuto that is the device when the problem has at least
// MinDeviceWork multiply-adds and the device is a GPU or accelerator (or
// any device with AllowCPUDevice), and the CPU otherwise.
func (e *Engine) Choose(work int64) (Backend, error) {
	switch e.kind {
	case BackendCPU:
		return e.cpu, nil
	case BackendOpenCL:
		return e.Device()
	}
	if work < e.minDeviceWork || e.deviceDisabled.Load() {
		return e.cpu, nil
	}
	device, err := e.Device()
	if err != nil {
		return e.cpu, nil
	}
	if deviceType(device) == gpu.TypeCPU && !e.allowCPUDevice {
		return e.cpu, nil
	}
	return device, nil
}

// InfoNCEWork returns the size in multiply-adds by which an Engine
// chooses the backend of an InfoNCE call on (batch, features) views: one
// batch × batch × features product for the loss, and three more for the
// gradients.
func InfoNCEWork(batch, features int, gradients bool) int64 {
	work := int64(batch) * int64(batch) * int64(features)
	if gradients {
		work *= 4
	}
	return work
}

// run calls op on the backend chosen for work. Under BackendAuto, a device
// failure is logged and op is called again on the CPU; op must therefore
// write only to outputs it prepares afresh on each call.
func (e *Engine) run(name string, work int64, op func(Backend) error) (Backend, error) {
	backend, err := e.Choose(work)
	if err != nil {
		return nil, err
	}
	e.logger.LogAttrs(context.Background(), slog.LevelDebug, "ssl: backend chosen",
		slog.String("op", name), slog.Int64("work", work), slog.String("backend", backend.Name()), slog.String("device", backend.Device()))
	err = op(backend)
	if err == nil || e.kind != BackendAuto || backend.Name() == "cpu" {
		return backend, err
	}
	e.logger.LogAttrs(context.Background(), slog.LevelWarn, "ssl: device failed, redoing the call on the CPU",
		slog.String("op", name), slog.String("device", backend.Device()), slog.Any("error", err))
	if permanentDeviceFailure(err) && e.deviceDisabled.CompareAndSwap(false, true) {
		e.logger.LogAttrs(context.Background(), slog.LevelWarn, "ssl: device disabled, later calls run on the CPU",
			slog.String("device", backend.Device()), slog.Any("error", err))
	}
	return e.cpu, op(e.cpu)
}

// permanentDeviceFailure reports whether every later call on the device
// would fail as err did: a program that does not build, or a closed
// backend. Allocation failures and lost resources depend on the problem
// and the moment, so they are retried on the next call.
func permanentDeviceFailure(err error) bool {
	var buildErr *gpu.BuildError
	return errors.As(err, &buildErr) || errors.Is(err, gpu.ErrClosed)
}

var defaultEngine = sync.OnceValue(func() *Engine {
	e, _ := New(Options{}) // BackendAuto never fails to construct.
	return e
})

// engine returns e, or the default engine when e is nil.
func engine(e *Engine) *Engine {
	if e == nil {
		return defaultEngine()
	}
	return e
}
