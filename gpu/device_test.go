package gpu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
)

func TestChooseDevice(t *testing.T) {
	devices := []gpu.Device{
		{Index: 0, Name: "pthread-haswell", Type: gpu.TypeCPU, Available: true},
		{Index: 1, Name: "Broken GPU", Type: gpu.TypeGPU, Available: false},
		{Index: 2, Name: "Some FPGA", Type: gpu.TypeAccelerator, Available: true},
		{Index: 3, Name: "NVIDIA H100", Type: gpu.TypeGPU, Available: true},
	}
	for _, tc := range []struct {
		selector string
		want     int // index of the chosen device, or -1 for ErrNoDevice
	}{
		{"", 3},
		{"0", 0},
		{"2", 2},
		{"4", -1},
		{"-1", -1},
		{"h100", 3},
		{"HASWELL", 0},
		{"radeon", -1},
	} {
		t.Run("selector="+tc.selector, func(t *testing.T) {
			got, err := gpu.ChooseDevice(devices, tc.selector)
			if tc.want < 0 {
				if !errors.Is(err, gpu.ErrNoDevice) {
					t.Fatalf("error %v, want gpu.ErrNoDevice", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Index != tc.want {
				t.Errorf("chose device %d (%s), want %d", got.Index, got.Name, tc.want)
			}
		})
	}
}

func TestChooseDevicePrefersAccelerator(t *testing.T) {
	devices := []gpu.Device{
		{Index: 0, Name: "cpu", Type: gpu.TypeCPU, Available: true},
		{Index: 1, Name: "fpga", Type: gpu.TypeAccelerator, Available: true},
	}
	got, err := gpu.ChooseDevice(devices, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != gpu.TypeAccelerator {
		t.Errorf("chose a %s device, want the accelerator", got.Type)
	}
	if _, err := gpu.ChooseDevice(devices[:0], ""); !errors.Is(err, gpu.ErrNoDevice) {
		t.Errorf("empty list: error %v, want gpu.ErrNoDevice", err)
	}
}

func TestCallErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		status int32
		want   string
	}{
		{-5, "gpu: clEnqueueNDRangeKernel failed: CL_OUT_OF_RESOURCES (-5)"},
		{-4, "gpu: clEnqueueNDRangeKernel failed: CL_MEM_OBJECT_ALLOCATION_FAILURE (-4)"},
		{-1001, "gpu: clEnqueueNDRangeKernel failed: CL_PLATFORM_NOT_FOUND_KHR (-1001)"},
		{-999, "gpu: clEnqueueNDRangeKernel failed: CL_UNKNOWN_STATUS (-999)"},
	} {
		err := &gpu.CallError{Call: "clEnqueueNDRangeKernel", Status: tc.status}
		if got := err.Error(); got != tc.want {
			t.Errorf("status %d: %q, want %q", tc.status, got, tc.want)
		}
	}
}

func TestDevicesDescribeHardware(t *testing.T) {
	devices, err := gpu.Devices()
	if err != nil {
		gputest.NoDevice(t, err)
	}
	if len(devices) == 0 {
		gputest.NoDevice(t, errors.New("the OpenCL platforms list no devices"))
	}
	for i, d := range devices {
		if d.Index != i {
			t.Errorf("device %d has Index %d", i, d.Index)
		}
		if d.Name == "" || d.Platform.Name == "" {
			t.Errorf("device %d: empty name %q or platform %q", i, d.Name, d.Platform.Name)
		}
		if d.ComputeUnits <= 0 || d.MaxWorkGroupSize <= 0 || d.LocalMemory <= 0 {
			t.Errorf("%s: compute units %d, max work-group size %d, local memory %d, want > 0", d, d.ComputeUnits, d.MaxWorkGroupSize, d.LocalMemory)
		}
		if d.MaxAlloc <= 0 || d.MaxAlloc > d.GlobalMemory {
			t.Errorf("%s: max allocation %d, global memory %d, want 0 < max allocation ≤ global memory", d, d.MaxAlloc, d.GlobalMemory)
		}
		if !strings.HasPrefix(d.OpenCLC, "OpenCL C ") {
			t.Errorf("%s: OpenCL C version %q, want it to start with \"OpenCL C \"", d, d.OpenCLC)
		}
	}
}

func TestOpenSelectsByEnvironment(t *testing.T) {
	devices, err := gpu.Devices()
	if err != nil || len(devices) == 0 {
		gputest.NoDevice(t, err)
	}
	last := devices[len(devices)-1]
	t.Setenv(gpu.DeviceEnv, last.Name)
	b := gputest.Open(t, gpu.Options{})
	if b.Info().Index != last.Index {
		t.Errorf("%s=%q opened device %d, want %d", gpu.DeviceEnv, last.Name, b.Info().Index, last.Index)
	}

	t.Setenv(gpu.DeviceEnv, "no device has this name")
	if _, err := gpu.Open(gpu.Options{}); !errors.Is(err, gpu.ErrNoDevice) {
		t.Errorf("unknown device name: error %v, want gpu.ErrNoDevice", err)
	}
}
