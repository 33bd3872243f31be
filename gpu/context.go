package gpu

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"
)

// liveObjects counts the OpenCL objects (contexts, queues, programs,
// kernels, buffers) that this package created and has not yet released.
var liveObjects atomic.Int64

// LiveObjects returns the number of OpenCL objects that this package has
// created and not released. Tests compare it before and after a piece of
// work to prove that nothing leaks.
func LiveObjects() int64 { return liveObjects.Load() }

// object is one OpenCL object and the function that releases it.
type object struct {
	handle   uintptr
	call     string
	release  func(uintptr) int32
	released atomic.Bool
}

func newObject(handle uintptr, call string, release func(uintptr) int32) object {
	liveObjects.Add(1)
	return object{handle: handle, call: call, release: release}
}

// Release releases the object once; later calls do nothing and return nil.
func (o *object) Release() error {
	if o.handle == 0 || !o.released.CompareAndSwap(false, true) {
		return nil
	}
	liveObjects.Add(-1)
	return check(o.call, o.release(o.handle))
}

// Context is an OpenCL context and in-order command queue on one device,
// with a cache of built programs. Its methods must not be called
// concurrently; Backend serializes them.
type Context struct {
	lib    *api
	device Device
	logger *slog.Logger

	context object
	queue   object

	programs map[programKey]*Program
}

// programKey identifies a built program: the device is the Context's, so
// the source and the build options complete the key.
type programKey struct {
	source  [sha256.Size]byte
	options string
}

// NewContext creates a context and a command queue on d. logger, if not
// nil, receives build logs at debug level.
func NewContext(d Device, logger *slog.Logger) (*Context, error) {
	lib, err := loadLibrary()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Context{lib: lib, device: d, logger: logger, programs: map[programKey]*Program{}}

	properties := [3]uintptr{clContextPlatform, d.Platform.id, 0}
	device := d.id
	var status int32
	ctx := lib.createContext(&properties[0], 1, &device, 0, 0, &status)
	if err := check("clCreateContext", status); err != nil {
		return nil, fmt.Errorf("gpu: creating a context on %s: %w", d, err)
	}
	c.context = newObject(ctx, "clReleaseContext", lib.releaseContext)

	queue := lib.createQueue(ctx, device, 0, &status)
	if err := check("clCreateCommandQueue", status); err != nil {
		_ = c.context.Release()
		return nil, fmt.Errorf("gpu: creating a command queue on %s: %w", d, err)
	}
	c.queue = newObject(queue, "clReleaseCommandQueue", lib.releaseQueue)
	return c, nil
}

// Device returns the device of the context.
func (c *Context) Device() Device { return c.device }

// Close releases the cached programs, the queue and the context, each
// once. It waits for queued work first. Calling it again does nothing.
func (c *Context) Close() error {
	if c.queue.released.Load() {
		return nil
	}
	var errs []error
	if err := check("clFinish", c.lib.finish(c.queue.handle)); err != nil {
		errs = append(errs, err)
	}
	for key, p := range c.programs {
		if err := p.Release(); err != nil {
			errs = append(errs, err)
		}
		delete(c.programs, key)
	}
	for _, o := range []*object{&c.queue, &c.context} {
		if err := o.Release(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("gpu: closing the context on %s: %w", c.device, errs[0])
	}
	return nil
}

// Program is a built OpenCL program with its kernels.
type Program struct {
	object
	name    string
	lib     *api
	kernels map[string]*Kernel
}

// Build returns the program built from source with the given options,
// compiling it on first use and returning the cached program afterwards.
// name identifies the source in errors. A failed build returns a
// *BuildError that carries the whole build log.
func (c *Context) Build(name, source, options string) (*Program, error) {
	key := programKey{source: sha256.Sum256([]byte(source)), options: options}
	if p, ok := c.programs[key]; ok {
		return p, nil
	}

	// clCreateProgramWithSource reads an array of string pointers; the
	// source is pinned so that its address stays valid during the call.
	text := []byte(source)
	if len(text) == 0 {
		return nil, fmt.Errorf("gpu: OpenCL program %q has an empty source", name)
	}
	var pinner runtime.Pinner
	pinner.Pin(&text[0])
	defer pinner.Unpin()
	sources := [1]uintptr{uintptr(unsafe.Pointer(&text[0]))}
	lengths := [1]uintptr{uintptr(len(text))}
	var status int32
	handle := c.lib.createProgram(c.context.handle, 1, &sources[0], &lengths[0], &status)
	if err := check("clCreateProgramWithSource", status); err != nil {
		return nil, fmt.Errorf("gpu: creating OpenCL program %q: %w", name, err)
	}
	p := &Program{object: newObject(handle, "clReleaseProgram", c.lib.releaseProgram), name: name, lib: c.lib, kernels: map[string]*Kernel{}}

	device := c.device.id
	buildErr := check("clBuildProgram", c.lib.buildProgram(handle, 1, &device, options, 0, 0))
	log, logErr := infoBytes("clGetProgramBuildInfo", func(size uintptr, value *byte, sizeRet *uintptr) int32 {
		return c.lib.getBuildInfo(handle, device, clProgramBuildLog, size, value, sizeRet)
	})
	buildLog := strings.TrimSpace(cString(log))
	if logErr != nil {
		buildLog = "(build log unavailable: " + logErr.Error() + ")"
	}
	if buildErr != nil {
		_ = p.Release()
		return nil, &BuildError{Program: name, Options: options, Device: c.device.String(), Log: buildLog, Err: buildErr}
	}
	if buildLog != "" {
		c.logger.Debug("gpu: OpenCL build log", "program", name, "options", options, "log", buildLog)
	}
	c.programs[key] = p
	return p, nil
}

// Release releases the program's kernels and then the program, each once.
func (p *Program) Release() error {
	var first error
	for name, k := range p.kernels {
		if err := k.Release(); err != nil && first == nil {
			first = err
		}
		delete(p.kernels, name)
	}
	if err := p.object.Release(); err != nil && first == nil {
		first = err
	}
	return first
}

// Kernel is one kernel function of a built program.
type Kernel struct {
	object
	name string
	lib  *api
	// maxGroup is CL_KERNEL_WORK_GROUP_SIZE for the program's device.
	maxGroup int
}

// Kernel returns the kernel function name of p, created on first use and
// released with p.
func (p *Program) Kernel(c *Context, name string) (*Kernel, error) {
	if k, ok := p.kernels[name]; ok {
		return k, nil
	}
	var status int32
	handle := p.lib.createKernel(p.handle, name, &status)
	if err := check("clCreateKernel", status); err != nil {
		return nil, fmt.Errorf("gpu: kernel %s of program %q: %w", name, p.name, err)
	}
	k := &Kernel{object: newObject(handle, "clReleaseKernel", p.lib.releaseKernel), name: name, lib: p.lib}
	b, err := infoBytes("clGetKernelWorkGroupInfo", func(size uintptr, value *byte, sizeRet *uintptr) int32 {
		return p.lib.getKernelWGInfo(handle, c.device.id, clKernelWorkGroupSize, size, value, sizeRet)
	})
	if err != nil {
		_ = k.Release()
		return nil, fmt.Errorf("gpu: kernel %s of program %q: %w", name, p.name, err)
	}
	k.maxGroup = int(uintFrom(b))
	p.kernels[name] = k
	return k, nil
}

// SetArgs sets the kernel's arguments in order. Each is a *Buffer (nil for
// a NULL pointer), an int32, a float32 or a float64.
func (k *Kernel) SetArgs(args ...any) error {
	for i, arg := range args {
		var size uintptr
		var value unsafe.Pointer
		switch v := arg.(type) {
		case *Buffer:
			var handle uintptr
			if v != nil {
				handle = v.handle
			}
			size, value = ptrSize, unsafe.Pointer(&handle)
		case int32:
			size, value = 4, unsafe.Pointer(&v)
		case float32:
			size, value = 4, unsafe.Pointer(&v)
		case float64:
			size, value = 8, unsafe.Pointer(&v)
		default:
			return fmt.Errorf("gpu: kernel %s argument %d has unsupported type %T", k.name, i, arg)
		}
		if err := check("clSetKernelArg", k.lib.setKernelArg(k.handle, uint32(i), size, (*byte)(value))); err != nil {
			return fmt.Errorf("gpu: kernel %s argument %d: %w", k.name, i, err)
		}
	}
	return nil
}

// Launch enqueues the kernel over global work-items in work-groups of
// local work-items, in one to three dimensions. Each global size must be
// a multiple of the local size.
func (c *Context) Launch(k *Kernel, global, local []int) error {
	if len(global) == 0 || len(global) > 3 || len(local) != len(global) {
		return fmt.Errorf("gpu: kernel %s launched with global size %v and local size %v", k.name, global, local)
	}
	groupSize := 1
	var g, l [3]uintptr
	for i := range global {
		if global[i] <= 0 || local[i] <= 0 || global[i]%local[i] != 0 {
			return fmt.Errorf("gpu: kernel %s: global size %v is not a positive multiple of local size %v", k.name, global, local)
		}
		g[i], l[i] = uintptr(global[i]), uintptr(local[i])
		groupSize *= local[i]
	}
	if groupSize > k.maxGroup {
		return fmt.Errorf("gpu: kernel %s needs work-groups of %d items, above the device's limit of %d (CL_KERNEL_WORK_GROUP_SIZE)", k.name, groupSize, k.maxGroup)
	}
	status := c.lib.enqueueNDRange(c.queue.handle, k.handle, uint32(len(global)), nil, &g[0], &l[0], 0, nil, nil)
	if err := check("clEnqueueNDRangeKernel", status); err != nil {
		return fmt.Errorf("gpu: launching kernel %s over %v: %w", k.name, global, err)
	}
	return nil
}

// Finish waits for every enqueued command to complete.
func (c *Context) Finish() error {
	return check("clFinish", c.lib.finish(c.queue.handle))
}

// Buffer is a region of device memory.
type Buffer struct {
	object
	size int64
}

// Size returns the buffer's size in bytes.
func (b *Buffer) Size() int64 { return b.size }

// NewBuffer allocates a read-write buffer of size bytes, uninitialised.
func (c *Context) NewBuffer(size int64) (*Buffer, error) {
	return c.newBuffer(size, clMemReadWrite, nil)
}

func (c *Context) newBuffer(size int64, flags uint64, host *byte) (*Buffer, error) {
	if size <= 0 {
		return nil, fmt.Errorf("gpu: buffer of %d bytes requested, must be > 0", size)
	}
	var status int32
	handle := c.lib.createBuffer(c.context.handle, flags, uintptr(size), host, &status)
	if err := check("clCreateBuffer", status); err != nil {
		return nil, fmt.Errorf("gpu: allocating %d bytes on %s: %w", size, c.device, err)
	}
	return &Buffer{object: newObject(handle, "clReleaseMemObject", c.lib.releaseMemObject), size: size}, nil
}

// bufferFrom allocates a buffer that holds a copy of data. The driver
// copies data during the call, so data is not retained afterwards.
func bufferFrom[T float32 | float64](c *Context, data []T, readOnly bool) (*Buffer, error) {
	flags := uint64(clMemCopyHostPtr | clMemReadWrite)
	if readOnly {
		flags = clMemCopyHostPtr | clMemReadOnly
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("gpu: buffer of 0 elements requested")
	}
	b, err := c.newBuffer(int64(len(data))*int64(unsafe.Sizeof(data[0])), flags, (*byte)(unsafe.Pointer(&data[0])))
	runtime.KeepAlive(data)
	return b, err
}

// read copies the start of buffer b into dst, blocking until the copy and
// every command before it completes, so dst is not retained afterwards.
func read[T float32 | float64](c *Context, b *Buffer, dst []T) error {
	if len(dst) == 0 {
		return nil
	}
	size := int64(len(dst)) * int64(unsafe.Sizeof(dst[0]))
	if size > b.size {
		return fmt.Errorf("gpu: reading %d bytes from a buffer of %d", size, b.size)
	}
	status := c.lib.enqueueRead(c.queue.handle, b.handle, clTrue, 0, uintptr(size), (*byte)(unsafe.Pointer(&dst[0])), 0, nil, nil)
	runtime.KeepAlive(dst)
	if err := check("clEnqueueReadBuffer", status); err != nil {
		return fmt.Errorf("gpu: reading %d bytes from %s: %w", size, c.device, err)
	}
	return nil
}

// write copies src into the start of buffer b, blocking until the copy
// completes, so src is not retained afterwards.
func write[T float32 | float64](c *Context, b *Buffer, src []T) error {
	if len(src) == 0 {
		return nil
	}
	size := int64(len(src)) * int64(unsafe.Sizeof(src[0]))
	if size > b.size {
		return fmt.Errorf("gpu: writing %d bytes to a buffer of %d", size, b.size)
	}
	status := c.lib.enqueueWrite(c.queue.handle, b.handle, clTrue, 0, uintptr(size), (*byte)(unsafe.Pointer(&src[0])), 0, nil, nil)
	runtime.KeepAlive(src)
	if err := check("clEnqueueWriteBuffer", status); err != nil {
		return fmt.Errorf("gpu: writing %d bytes to %s: %w", size, c.device, err)
	}
	return nil
}
