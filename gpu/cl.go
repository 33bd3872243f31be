package gpu

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/ebitengine/purego"
)

// LibraryEnv is the environment variable that names the OpenCL library to
// load in place of libOpenCL.so.1 and libOpenCL.so.
const LibraryEnv = "SPIKESSL_OPENCL_LIBRARY"

// defaultLibraries are the names of the OpenCL ICD loader, tried in order.
var defaultLibraries = []string{"libOpenCL.so.1", "libOpenCL.so"}

// Handles of OpenCL objects (cl_platform_id, cl_context, cl_mem, …) are
// opaque pointers, held as uintptr because Go never dereferences them.

// api holds the OpenCL 1.2 entry points that this package calls. Every
// function returns a cl_int status, or an object and writes the status
// through its last argument.
type api struct {
	getPlatformIDs   func(numEntries uint32, platforms *uintptr, numPlatforms *uint32) int32
	getPlatformInfo  func(platform uintptr, param uint32, size uintptr, value *byte, sizeRet *uintptr) int32
	getDeviceIDs     func(platform uintptr, deviceType uint64, numEntries uint32, devices *uintptr, numDevices *uint32) int32
	getDeviceInfo    func(device uintptr, param uint32, size uintptr, value *byte, sizeRet *uintptr) int32
	createContext    func(properties *uintptr, numDevices uint32, devices *uintptr, notify uintptr, userData uintptr, status *int32) uintptr
	releaseContext   func(context uintptr) int32
	createQueue      func(context, device uintptr, properties uint64, status *int32) uintptr
	releaseQueue     func(queue uintptr) int32
	createProgram    func(context uintptr, count uint32, sources *uintptr, lengths *uintptr, status *int32) uintptr
	buildProgram     func(program uintptr, numDevices uint32, devices *uintptr, options string, notify uintptr, userData uintptr) int32
	getBuildInfo     func(program, device uintptr, param uint32, size uintptr, value *byte, sizeRet *uintptr) int32
	releaseProgram   func(program uintptr) int32
	createKernel     func(program uintptr, name string, status *int32) uintptr
	releaseKernel    func(kernel uintptr) int32
	setKernelArg     func(kernel uintptr, index uint32, size uintptr, value *byte) int32
	getKernelWGInfo  func(kernel, device uintptr, param uint32, size uintptr, value *byte, sizeRet *uintptr) int32
	createBuffer     func(context uintptr, flags uint64, size uintptr, host *byte, status *int32) uintptr
	releaseMemObject func(mem uintptr) int32
	enqueueRead      func(queue, mem uintptr, blocking uint32, offset, size uintptr, host *byte, numEvents uint32, events *uintptr, event *uintptr) int32
	enqueueWrite     func(queue, mem uintptr, blocking uint32, offset, size uintptr, host *byte, numEvents uint32, events *uintptr, event *uintptr) int32
	enqueueNDRange   func(queue, kernel uintptr, dims uint32, offset, global, local *uintptr, numEvents uint32, events *uintptr, event *uintptr) int32
	finish           func(queue uintptr) int32

	// libraryName is the library that was loaded, for messages.
	libraryName string
	// libraryLoadFailed is the error of loading the OpenCL library, or nil.
	libraryLoadFailed error
}

var (
	loadOnce sync.Once
	cl       api
)

// loadLibrary opens the OpenCL ICD loader once per process and resolves
// its entry points. The library stays loaded for the life of the process,
// because a driver may keep threads of its own running in it, as PoCL's
// worker threads do.
func loadLibrary() (*api, error) {
	loadOnce.Do(func() {
		names := defaultLibraries
		if name := os.Getenv(LibraryEnv); name != "" {
			names = []string{name}
		}
		var failures []error
		for _, name := range names {
			handle, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
			if err != nil {
				failures = append(failures, err)
				continue
			}
			if err := cl.resolve(handle); err != nil {
				failures = append(failures, fmt.Errorf("%s: %w", name, err))
				continue
			}
			cl.libraryName = name
			return
		}
		cl.libraryLoadFailed = fmt.Errorf("%w: tried %q (set %s to another path): %w", ErrNoLibrary, names, LibraryEnv, errors.Join(failures...))
	})
	if cl.libraryLoadFailed != nil {
		return nil, cl.libraryLoadFailed
	}
	return &cl, nil
}

// resolve binds every entry point of a, or returns an error naming the
// first symbol that the library lacks.
func (a *api) resolve(handle uintptr) error {
	symbols := []struct {
		fn   any
		name string
	}{
		{&a.getPlatformIDs, "clGetPlatformIDs"},
		{&a.getPlatformInfo, "clGetPlatformInfo"},
		{&a.getDeviceIDs, "clGetDeviceIDs"},
		{&a.getDeviceInfo, "clGetDeviceInfo"},
		{&a.createContext, "clCreateContext"},
		{&a.releaseContext, "clReleaseContext"},
		{&a.createQueue, "clCreateCommandQueue"},
		{&a.releaseQueue, "clReleaseCommandQueue"},
		{&a.createProgram, "clCreateProgramWithSource"},
		{&a.buildProgram, "clBuildProgram"},
		{&a.getBuildInfo, "clGetProgramBuildInfo"},
		{&a.releaseProgram, "clReleaseProgram"},
		{&a.createKernel, "clCreateKernel"},
		{&a.releaseKernel, "clReleaseKernel"},
		{&a.setKernelArg, "clSetKernelArg"},
		{&a.getKernelWGInfo, "clGetKernelWorkGroupInfo"},
		{&a.createBuffer, "clCreateBuffer"},
		{&a.releaseMemObject, "clReleaseMemObject"},
		{&a.enqueueRead, "clEnqueueReadBuffer"},
		{&a.enqueueWrite, "clEnqueueWriteBuffer"},
		{&a.enqueueNDRange, "clEnqueueNDRangeKernel"},
		{&a.finish, "clFinish"},
	}
	for _, s := range symbols {
		sym, err := purego.Dlsym(handle, s.name)
		if err != nil {
			return fmt.Errorf("symbol %s not found: %w", s.name, err)
		}
		purego.RegisterFunc(s.fn, sym)
	}
	return nil
}

// OpenCL constants used by this package, from the Khronos header CL/cl.h.
const (
	clSuccess              = 0
	clPlatformNotFoundKHR  = -1001
	clDeviceNotFound       = -1
	clPlatformName         = 0x0902
	clPlatformVendor       = 0x0903
	clPlatformVersion      = 0x0901
	clDeviceTypeAll        = 0xFFFFFFFF
	clDeviceTypeCPU        = 1 << 1
	clDeviceTypeGPU        = 1 << 2
	clDeviceTypeAccel      = 1 << 3
	clDeviceTypeInfo       = 0x1000
	clDeviceMaxComputeUnit = 0x1002
	clDeviceMaxWorkGroup   = 0x1004
	clDeviceMaxMemAlloc    = 0x1010
	clDeviceGlobalMemSize  = 0x101F
	clDeviceLocalMemSize   = 0x1023
	clDeviceAvailable      = 0x1027
	clDeviceCompilerAvail  = 0x1028
	clDeviceName           = 0x102B
	clDeviceVendor         = 0x102C
	clDriverVersion        = 0x102D
	clDeviceVersion        = 0x102F
	clDeviceExtensions     = 0x1030
	clDeviceOpenCLCVersion = 0x103D
	clContextPlatform      = 0x1084
	clProgramBuildLog      = 0x1183
	clKernelWorkGroupSize  = 0x11B0
	clMemReadWrite         = 1 << 0
	clMemReadOnly          = 1 << 2
	clMemCopyHostPtr       = 1 << 5
	clTrue                 = 1
)

// statusNames maps OpenCL status codes to their names in CL/cl.h.
var statusNames = map[int32]string{
	0: "CL_SUCCESS", -1: "CL_DEVICE_NOT_FOUND", -2: "CL_DEVICE_NOT_AVAILABLE",
	-3: "CL_COMPILER_NOT_AVAILABLE", -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE",
	-5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY",
	-7: "CL_PROFILING_INFO_NOT_AVAILABLE", -8: "CL_MEM_COPY_OVERLAP",
	-9: "CL_IMAGE_FORMAT_MISMATCH", -10: "CL_IMAGE_FORMAT_NOT_SUPPORTED",
	-11: "CL_BUILD_PROGRAM_FAILURE", -12: "CL_MAP_FAILURE",
	-13: "CL_MISALIGNED_SUB_BUFFER_OFFSET", -14: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
	-15: "CL_COMPILE_PROGRAM_FAILURE", -16: "CL_LINKER_NOT_AVAILABLE",
	-17: "CL_LINK_PROGRAM_FAILURE", -18: "CL_DEVICE_PARTITION_FAILED",
	-19: "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
	-30: "CL_INVALID_VALUE", -31: "CL_INVALID_DEVICE_TYPE", -32: "CL_INVALID_PLATFORM",
	-33: "CL_INVALID_DEVICE", -34: "CL_INVALID_CONTEXT", -35: "CL_INVALID_QUEUE_PROPERTIES",
	-36: "CL_INVALID_COMMAND_QUEUE", -37: "CL_INVALID_HOST_PTR", -38: "CL_INVALID_MEM_OBJECT",
	-39: "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR", -40: "CL_INVALID_IMAGE_SIZE",
	-41: "CL_INVALID_SAMPLER", -42: "CL_INVALID_BINARY", -43: "CL_INVALID_BUILD_OPTIONS",
	-44: "CL_INVALID_PROGRAM", -45: "CL_INVALID_PROGRAM_EXECUTABLE",
	-46: "CL_INVALID_KERNEL_NAME", -47: "CL_INVALID_KERNEL_DEFINITION",
	-48: "CL_INVALID_KERNEL", -49: "CL_INVALID_ARG_INDEX", -50: "CL_INVALID_ARG_VALUE",
	-51: "CL_INVALID_ARG_SIZE", -52: "CL_INVALID_KERNEL_ARGS",
	-53: "CL_INVALID_WORK_DIMENSION", -54: "CL_INVALID_WORK_GROUP_SIZE",
	-55: "CL_INVALID_WORK_ITEM_SIZE", -56: "CL_INVALID_GLOBAL_OFFSET",
	-57: "CL_INVALID_EVENT_WAIT_LIST", -58: "CL_INVALID_EVENT", -59: "CL_INVALID_OPERATION",
	-60: "CL_INVALID_GL_OBJECT", -61: "CL_INVALID_BUFFER_SIZE", -62: "CL_INVALID_MIP_LEVEL",
	-63: "CL_INVALID_GLOBAL_WORK_SIZE", -64: "CL_INVALID_PROPERTY",
	-65: "CL_INVALID_IMAGE_DESCRIPTOR", -66: "CL_INVALID_COMPILER_OPTIONS",
	-67: "CL_INVALID_LINKER_OPTIONS", -68: "CL_INVALID_DEVICE_PARTITION_COUNT",
	-69: "CL_INVALID_PIPE_SIZE", -70: "CL_INVALID_DEVICE_QUEUE",
	-71: "CL_INVALID_SPEC_ID", -72: "CL_MAX_SIZE_RESTRICTION_EXCEEDED",
	-1001: "CL_PLATFORM_NOT_FOUND_KHR",
}

// StatusName returns the CL_ name of an OpenCL status code, or
// "CL_UNKNOWN_STATUS" for a code that CL/cl.h does not define.
func StatusName(status int32) string {
	if name, ok := statusNames[status]; ok {
		return name
	}
	return "CL_UNKNOWN_STATUS"
}
