package gpu

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/spikessl/spikessl/kernels"
)

// Options configures Open.
type Options struct {
	// Device selects the device: an index into the list that Devices
	// returns, or a case-insensitive substring of the device's name. Empty
	// means the value of DeviceEnv, and when that is empty too, the first
	// available GPU, then accelerator, then CPU device.
	Device string

	// MaxAlloc caps the size in bytes of any one buffer below the device's
	// CL_DEVICE_MAX_MEM_ALLOC_SIZE. Zero or more than the device's limit
	// uses the device's limit.
	MaxAlloc int64

	// Source, when not nil, returns the OpenCL C source to build for the
	// named program ("rows", "infonce" or "outer") in place of the
	// embedded one in package kernels. It serves kernel development and
	// fault tests.
	Source func(program string) string

	// MinWorkGroups is the number of work-groups below which the InfoNCE
	// kernels split the columns of the similarity matrix among several
	// work-groups per block of rows, so that small batches still occupy
	// the whole device. Zero means four per compute unit; one turns the
	// split off.
	MinWorkGroups int

	// Logger receives program builds and their logs at debug level. Nil
	// discards them.
	Logger *slog.Logger
}

// Backend runs spikessl's operations on one OpenCL device. Its method set
// matches the ssl.Backend interface. It is safe for concurrent use: calls
// run one at a time on the device's single command queue.
type Backend struct {
	device        Device
	maxAlloc      int64
	tile          int
	normWG        int
	minWorkGroups int
	source        func(string) string
	logger        *slog.Logger

	mu     sync.Mutex // guards ctx and closed, and serializes device calls
	ctx    *Context
	closed bool
}

// Open returns a Backend on the device that opt selects. The error wraps
// ErrNoLibrary, ErrNoPlatform or ErrNoDevice when there is no device to
// open.
func Open(opt Options) (*Backend, error) {
	devices, err := Devices()
	if err != nil {
		return nil, err
	}
	if len(devices) == 0 {
		return nil, fmt.Errorf("%w: the OpenCL platforms list no devices", ErrNoDevice)
	}
	selector := opt.Device
	if selector == "" {
		selector = selectorFromEnv()
	}
	d, err := ChooseDevice(devices, selector)
	if err != nil {
		return nil, err
	}
	if !d.Available {
		return nil, fmt.Errorf("%w: %s is not available or has no compiler", ErrNoDevice, d)
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, err := NewContext(d, logger)
	if err != nil {
		return nil, err
	}

	b := &Backend{device: d, maxAlloc: d.MaxAlloc, source: opt.Source, logger: logger, ctx: ctx}
	if opt.MaxAlloc > 0 && opt.MaxAlloc < b.maxAlloc {
		b.maxAlloc = opt.MaxAlloc
	}
	// Work-groups of 16 × 16 work-items suit GPUs and PoCL; smaller
	// devices get the largest power of two that fits their work-group
	// limit.
	b.tile = 16
	for b.tile > 1 && b.tile*b.tile > d.MaxWorkGroupSize {
		b.tile /= 2
	}
	b.normWG = min(64, b.tile*b.tile)
	b.minWorkGroups = opt.MinWorkGroups
	if b.minWorkGroups <= 0 {
		b.minWorkGroups = 4 * max(1, d.ComputeUnits)
	}
	return b, nil
}

// Tunables of kernels/infonce.cl: features per step of the dot products,
// and the largest block of logits per work-item.
const (
	infoNCETileK    = 16
	infoNCEMaxBlock = 4
)

// infoNCEBlock returns the BLOCK of kernels/infonce.cl for elements of
// elemSize bytes: the largest power of two up to infoNCEMaxBlock whose
// local memory, as that file's header computes it, fits the device's.
func (b *Backend) infoNCEBlock(elemSize int) int {
	block := infoNCEMaxBlock
	for ; block > 1; block /= 2 {
		tile := b.tile * block
		operands := max(tile*(infoNCETileK+1)+infoNCETileK*(tile+1), tile*(tile+1))
		need := operands + max(2*tile*b.tile, tile*(tile+1))
		if int64(need*elemSize) <= b.device.LocalMemory {
			break
		}
	}
	return block
}

// Name returns "opencl".
func (b *Backend) Name() string { return "opencl" }

// Device returns the device's name and platform.
func (b *Backend) Device() string { return b.device.String() }

// Info returns the properties of the backend's device.
func (b *Backend) Info() Device { return b.device }

// Close waits for the device's work and releases every OpenCL object of
// the backend. Calls after the first do nothing.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	return b.ctx.Close()
}

// session is one call's hold on the device: the backend's lock, and the
// buffers the call allocates, released when it ends.
type session struct {
	b       *Backend
	fp64    bool
	buffers []*Buffer
}

// begin locks the device for one call in the precision of T.
func begin[T float32 | float64](b *Backend) (*session, error) {
	var zero T
	fp64 := unsafe.Sizeof(zero) == 8
	if fp64 && !b.device.FP64 {
		return nil, fmt.Errorf("%w: %s lacks cl_khr_fp64, so float64 runs on the CPU only", ErrUnsupported, b.device)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	return &session{b: b, fp64: fp64}, nil
}

// end releases the call's buffers and unlocks the device.
func (s *session) end() {
	for _, buf := range s.buffers {
		_ = buf.Release()
	}
	s.b.mu.Unlock()
}

// keep records a buffer for release at the end of the call.
func (s *session) keep(buf *Buffer, err error) (*Buffer, error) {
	if err == nil {
		s.buffers = append(s.buffers, buf)
	}
	return buf, err
}

func (s *session) newBuffer(elements int, elemSize int) (*Buffer, error) {
	return s.keep(s.b.ctx.NewBuffer(int64(elements) * int64(elemSize)))
}

// kernel returns the named kernel of program, building the program for
// the session's precision on first use.
func (s *session) kernel(program, name string) (*Kernel, error) {
	source := kernels.Sources()[program]
	if s.b.source != nil {
		source = s.b.source(program)
	}
	var options string
	switch program {
	case "infonce":
		options = fmt.Sprintf("-D WG=%d -D BLOCK=%d -D TILE_K=%d", s.b.tile, s.infoNCEBlock(), infoNCETileK)
	case "outer":
		options = fmt.Sprintf("-D TILE=%d", s.b.tile)
	case "rows":
		options = fmt.Sprintf("-D NORM_WG=%d", s.b.normWG)
	}
	if s.fp64 {
		options += " -D REAL=double -D USE_FP64=1 -D NORM_EPS=1e-8"
	} else {
		options += " -D REAL=float -D NORM_EPS=1e-8f"
	}
	start := time.Now()
	cached := len(s.b.ctx.programs)
	p, err := s.b.ctx.Build(program, source, options)
	if err != nil {
		return nil, err
	}
	if len(s.b.ctx.programs) > cached {
		s.b.logger.Debug("gpu: built OpenCL program", "program", program, "options", options,
			"device", s.b.device.Name, "duration", time.Since(start))
	}
	return p.Kernel(s.b.ctx, name)
}

// launch sets the kernel's arguments and enqueues it.
func (s *session) launch(program, name string, global, local []int, args ...any) error {
	k, err := s.kernel(program, name)
	if err != nil {
		return err
	}
	if err := k.SetArgs(args...); err != nil {
		return err
	}
	return s.b.ctx.Launch(k, global, local)
}

// infoNCEBlock returns the BLOCK of kernels/infonce.cl in the session's
// precision.
func (s *session) infoNCEBlock() int {
	if s.fp64 {
		return s.b.infoNCEBlock(8)
	}
	return s.b.infoNCEBlock(4)
}

// scalar converts x to the kernel's REAL type.
func (s *session) scalar(x float64) any {
	if s.fp64 {
		return x
	}
	return float32(x)
}

// checkAlloc returns an error wrapping ErrTooLarge when one buffer of
// bytes exceeds the device's maximum allocation.
func (b *Backend) checkAlloc(buffer string, bytes int64) error {
	if bytes > b.maxAlloc {
		return fmt.Errorf("%w: %s needs a buffer of %d bytes, above the maximum allocation of %d bytes (CL_DEVICE_MAX_MEM_ALLOC_SIZE of %s, or Options.MaxAlloc)",
			ErrTooLarge, buffer, bytes, b.maxAlloc, b.device)
	}
	return nil
}

// checkTotal returns an error wrapping ErrTooLarge when a call's buffers
// together exceed the device's global memory.
func (b *Backend) checkTotal(call string, bytes int64) error {
	if bytes > b.device.GlobalMemory {
		return fmt.Errorf("%w: %s needs %d bytes of device memory, above the %d bytes of CL_DEVICE_GLOBAL_MEM_SIZE of %s",
			ErrTooLarge, call, bytes, b.device.GlobalMemory, b.device)
	}
	return nil
}

// checkDims returns an error wrapping ErrTooLarge when a dimension does
// not fit the kernels' int arguments, which are 32-bit.
func checkDims(dims ...int) error {
	for _, d := range dims {
		if d > math.MaxInt32 {
			return fmt.Errorf("%w: dimension %d exceeds the kernels' limit of %d", ErrTooLarge, d, math.MaxInt32)
		}
	}
	return nil
}

// groups returns n rounded up to a multiple of size.
func groups(n, size int) int { return (n + size - 1) / size * size }

// sizeOf returns the size in bytes of T.
func sizeOf[T float32 | float64]() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}
