package gpu

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// DeviceEnv is the environment variable that selects the device Open
// uses: an index into the list that Devices returns, or a substring of
// the device's name (case-insensitive).
const DeviceEnv = "SPIKESSL_OPENCL_DEVICE"

// DeviceType is the kind of an OpenCL device.
type DeviceType string

// The device types, in the order that Open prefers them.
const (
	TypeGPU         DeviceType = "gpu"
	TypeAccelerator DeviceType = "accelerator"
	TypeCPU         DeviceType = "cpu"
	TypeOther       DeviceType = "other"
)

// rank orders device types for automatic choice: lower is preferred.
func (t DeviceType) rank() int {
	switch t {
	case TypeGPU:
		return 0
	case TypeAccelerator:
		return 1
	case TypeCPU:
		return 2
	}
	return 3
}

// Platform describes an OpenCL platform (one vendor driver).
type Platform struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`

	id uintptr
}

// Device describes an OpenCL device.
type Device struct {
	// Index is the device's position in the list that Devices returns,
	// the number that DeviceEnv accepts.
	Index    int      `json:"index"`
	Platform Platform `json:"platform"`

	Name    string     `json:"name"`
	Vendor  string     `json:"vendor"`
	Type    DeviceType `json:"type"`
	Version string     `json:"version"`
	Driver  string     `json:"driver_version"`
	// OpenCLC is the highest OpenCL C version the compiler accepts.
	OpenCLC string `json:"opencl_c_version"`

	ComputeUnits int `json:"compute_units"`
	// GlobalMemory, MaxAlloc and LocalMemory are in bytes. MaxAlloc is
	// CL_DEVICE_MAX_MEM_ALLOC_SIZE, the largest single buffer.
	GlobalMemory     int64 `json:"global_memory_bytes"`
	MaxAlloc         int64 `json:"max_alloc_bytes"`
	LocalMemory      int64 `json:"local_memory_bytes"`
	MaxWorkGroupSize int   `json:"max_work_group_size"`

	// FP64 reports cl_khr_fp64, which the float64 kernels need.
	FP64 bool `json:"fp64"`
	// Available is false for a device that is present but cannot run
	// kernels now, or has no compiler.
	Available bool `json:"available"`

	id uintptr
}

// String returns the device's name and platform.
func (d Device) String() string {
	return d.Name + " (" + d.Platform.Name + ")"
}

// Devices returns every device of every OpenCL platform, in the order the
// ICD loader reports them. It wraps ErrNoLibrary or ErrNoPlatform when
// there is nothing to list; an empty list with a nil error means platforms
// exist but have no devices.
func Devices() ([]Device, error) {
	lib, err := loadLibrary()
	if err != nil {
		return nil, err
	}
	platforms, err := lib.platforms()
	if err != nil {
		return nil, err
	}
	var devices []Device
	for _, p := range platforms {
		ids, err := lib.deviceIDs(p.id)
		if err != nil {
			return nil, fmt.Errorf("gpu: listing devices of platform %q: %w", p.Name, err)
		}
		for _, id := range ids {
			d, err := lib.describe(id)
			if err != nil {
				return nil, fmt.Errorf("gpu: describing a device of platform %q: %w", p.Name, err)
			}
			d.Platform = p
			d.Index = len(devices)
			devices = append(devices, d)
		}
	}
	return devices, nil
}

// ChooseDevice returns the device that selector names: an index into
// devices or a case-insensitive substring of a device's name. An empty
// selector picks the first available GPU, then accelerator, then CPU
// device. The error wraps ErrNoDevice.
func ChooseDevice(devices []Device, selector string) (Device, error) {
	if selector == "" {
		usable := slices.DeleteFunc(slices.Clone(devices), func(d Device) bool { return !d.Available })
		if len(usable) == 0 {
			return Device{}, fmt.Errorf("%w: %d devices listed, none available with a compiler", ErrNoDevice, len(devices))
		}
		slices.SortStableFunc(usable, func(a, b Device) int { return a.Type.rank() - b.Type.rank() })
		return usable[0], nil
	}
	if index, err := strconv.Atoi(selector); err == nil {
		if index < 0 || index >= len(devices) {
			return Device{}, fmt.Errorf("%w: device index %d is out of range: %d devices are listed", ErrNoDevice, index, len(devices))
		}
		return devices[index], nil
	}
	names := make([]string, len(devices))
	for i, d := range devices {
		if strings.Contains(strings.ToLower(d.Name), strings.ToLower(selector)) {
			return d, nil
		}
		names[i] = d.Name
	}
	return Device{}, fmt.Errorf("%w: no device name contains %q; devices are %q", ErrNoDevice, selector, names)
}

// selectorFromEnv returns the device selector in DeviceEnv.
func selectorFromEnv() string { return strings.TrimSpace(os.Getenv(DeviceEnv)) }

func (a *api) platforms() ([]Platform, error) {
	var n uint32
	status := a.getPlatformIDs(0, nil, &n)
	if status == clPlatformNotFoundKHR || (status == clSuccess && n == 0) {
		return nil, fmt.Errorf("%w: the OpenCL library %s lists none (status %s); install a driver such as pocl-opencl-icd",
			ErrNoPlatform, a.libraryName, StatusName(status))
	}
	if err := check("clGetPlatformIDs", status); err != nil {
		return nil, err
	}
	ids := make([]uintptr, n)
	if err := check("clGetPlatformIDs", a.getPlatformIDs(n, &ids[0], &n)); err != nil {
		return nil, err
	}
	platforms := make([]Platform, 0, n)
	for _, id := range ids[:n] {
		p := Platform{id: id}
		var err error
		for _, field := range []struct {
			param uint32
			out   *string
		}{{clPlatformName, &p.Name}, {clPlatformVendor, &p.Vendor}, {clPlatformVersion, &p.Version}} {
			var b []byte
			b, err = infoBytes("clGetPlatformInfo", func(size uintptr, value *byte, sizeRet *uintptr) int32 {
				return a.getPlatformInfo(id, field.param, size, value, sizeRet)
			})
			if err != nil {
				return nil, err
			}
			*field.out = cString(b)
		}
		platforms = append(platforms, p)
	}
	return platforms, nil
}

func (a *api) deviceIDs(platform uintptr) ([]uintptr, error) {
	var n uint32
	status := a.getDeviceIDs(platform, clDeviceTypeAll, 0, nil, &n)
	if status == clDeviceNotFound || n == 0 {
		return nil, nil
	}
	if err := check("clGetDeviceIDs", status); err != nil {
		return nil, err
	}
	ids := make([]uintptr, n)
	if err := check("clGetDeviceIDs", a.getDeviceIDs(platform, clDeviceTypeAll, n, &ids[0], &n)); err != nil {
		return nil, err
	}
	return ids[:n], nil
}

// describe queries the properties of a device.
func (a *api) describe(id uintptr) (Device, error) {
	d := Device{id: id}
	query := func(param uint32) ([]byte, error) {
		return infoBytes("clGetDeviceInfo", func(size uintptr, value *byte, sizeRet *uintptr) int32 {
			return a.getDeviceInfo(id, param, size, value, sizeRet)
		})
	}
	var firstErr error
	str := func(param uint32) string {
		b, err := query(param)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return cString(b)
	}
	num := func(param uint32) uint64 {
		b, err := query(param)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return uintFrom(b)
	}

	d.Name = strings.TrimSpace(str(clDeviceName))
	d.Vendor = strings.TrimSpace(str(clDeviceVendor))
	d.Version = str(clDeviceVersion)
	d.Driver = str(clDriverVersion)
	d.OpenCLC = str(clDeviceOpenCLCVersion)
	switch t := num(clDeviceTypeInfo); {
	case t&clDeviceTypeGPU != 0:
		d.Type = TypeGPU
	case t&clDeviceTypeAccel != 0:
		d.Type = TypeAccelerator
	case t&clDeviceTypeCPU != 0:
		d.Type = TypeCPU
	default:
		d.Type = TypeOther
	}
	d.ComputeUnits = int(num(clDeviceMaxComputeUnit))
	d.GlobalMemory = int64(num(clDeviceGlobalMemSize))
	d.MaxAlloc = int64(num(clDeviceMaxMemAlloc))
	d.LocalMemory = int64(num(clDeviceLocalMemSize))
	d.MaxWorkGroupSize = int(num(clDeviceMaxWorkGroup))
	d.FP64 = slices.Contains(strings.Fields(str(clDeviceExtensions)), "cl_khr_fp64")
	d.Available = num(clDeviceAvailable) != 0 && num(clDeviceCompilerAvail) != 0
	return d, firstErr
}

// infoBytes calls an OpenCL clGet*Info function twice, for the size and
// then the value.
func infoBytes(call string, get func(size uintptr, value *byte, sizeRet *uintptr) int32) ([]byte, error) {
	var size uintptr
	if err := check(call, get(0, nil, &size)); err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, nil
	}
	b := make([]byte, size)
	if err := check(call, get(size, &b[0], nil)); err != nil {
		return nil, err
	}
	return b, nil
}

// cString returns b up to its first NUL byte.
func cString(b []byte) string {
	if i := slices.Index(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// uintFrom decodes a cl_uint, cl_ulong, cl_bool or size_t in host byte order.
func uintFrom(b []byte) uint64 {
	switch len(b) {
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	case 8:
		return binary.NativeEndian.Uint64(b)
	}
	return 0
}

// ptrSize is the size of a pointer, size_t and a cl_mem handle.
const ptrSize = unsafe.Sizeof(uintptr(0))
