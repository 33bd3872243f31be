// Package gpu runs spikessl's operations on an OpenCL device.
//
// # Finding OpenCL
//
// The package loads the OpenCL ICD loader at run time with purego
// (github.com/ebitengine/purego): libOpenCL.so.1, then libOpenCL.so, or
// the path in the environment variable SPIKESSL_OPENCL_LIBRARY. It needs
// no OpenCL headers and no cgo, so the module builds with CGO_ENABLED=0,
// and a binary runs on a machine without OpenCL, where Open returns an
// error wrapping ErrNoLibrary. The loader finds the vendor drivers (ICDs)
// listed in /etc/OpenCL/vendors, or in the folder OCL_ICD_VENDORS names;
// with none, Open returns an error wrapping ErrNoPlatform. On Debian and
// Ubuntu, the packages ocl-icd-libopencl1 and pocl-opencl-icd provide the
// loader and PoCL, a driver that runs kernels on the CPU.
//
// # Choosing a device
//
// Devices lists every device of every platform. Open takes the device that
// Options.Device or the environment variable SPIKESSL_OPENCL_DEVICE names,
// by its index in that list or by a substring of its name. When neither is
// set, Open takes the first available GPU, then accelerator, then CPU
// device.
//
// # Objects and memory
//
// A Backend owns one context and one in-order command queue. Programs are
// built from the sources of package kernels with -D options for the
// precision and the tile sizes, on first use, and cached per device,
// source and options. A failed build returns a *BuildError that carries
// the compiler's whole log; any other failed OpenCL call returns a
// *CallError naming the call and its CL_ status. Every object is released
// exactly once, and LiveObjects counts those not yet released.
//
// Buffers are created from host memory with CL_MEM_COPY_HOST_PTR, which
// copies during the call, and results are read back with blocking reads,
// so the driver never holds a Go pointer after a call returns. The one
// array of pointers handed to the driver, the program source, is pinned
// with runtime.Pinner for the duration of the call. A call's buffers are
// released when it returns.
//
// # Occupancy
//
// Each InfoNCE work-group owns a block of rows. When a batch gives fewer
// blocks than Options.MinWorkGroups (four per compute unit by default),
// the columns of the similarity matrix are split among several
// work-groups per block too, and a second kernel adds their partial
// results in a fixed order. A batch of 1024 on a GPU with 132 compute
// units thus runs 256 work-groups instead of 16. The partial gradients take
// one view's memory per split.
//
// # Limits
//
// A buffer larger than CL_DEVICE_MAX_MEM_ALLOC_SIZE (or Options.MaxAlloc)
// is split where the operation allows it: the samples of an outer-product
// update and the rows of a goodness computation are sent in pieces. The
// two views of InfoNCE cannot be split, and a view that exceeds the limit
// is rejected with an error wrapping ErrTooLarge that names it.
//
// float64 needs the cl_khr_fp64 extension. On a device without it the
// float64 methods return an error wrapping ErrUnsupported.
package gpu

// BUG(spikessl): InfoNCE views larger than the device's maximum allocation
// are rejected, not split; under BackendAuto such a call runs on the CPU.

// BUG(spikessl): In float32 the kernels sum a row's exponentials in float32,
// so a row loss below the float32 range, such as 1e-87 at temperature 0.01
// with dominant positive pairs, comes back as 0. The CPU backend keeps it.

// BUG(spikessl): The kernels have run on PoCL only. Their work-group sizes
// and tile shapes are untimed on a GPU, so GPU speed is not yet known.
