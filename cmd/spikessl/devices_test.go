package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
)

func TestDevicesCommandJSON(t *testing.T) {
	code, stdout, stderr := spikessl(t, "devices", "--json", "--batch", "8", "--features", "4")
	if code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, stderr)
	}
	var report devicesReport
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("output %q is not JSON: %v", stdout, err)
	}
	// 8 × 8 × 4 × 4 multiply-adds are far below any device's minimum.
	if report.Auto.Backend != "cpu" || report.Auto.Work != 8*8*4*4 {
		t.Errorf("auto = %+v, want the cpu backend for 1024 multiply-adds", report.Auto)
	}
	if !strings.Contains(report.Auto.Reason, "below the minimum") {
		t.Errorf("auto reason %q does not say the problem is too small", report.Auto.Reason)
	}

	devices, err := gpu.Devices()
	if err != nil || len(devices) == 0 {
		if report.Error == "" {
			t.Errorf("no devices and no error in the report: %s", stdout)
		}
		gputest.NoDevice(t, err)
	}
	var listed int
	for _, p := range report.Platforms {
		listed += len(p.Devices)
		for _, d := range p.Devices {
			if d.Name == "" || d.ComputeUnits <= 0 || d.GlobalMemory <= 0 || d.MaxAlloc <= 0 || d.OpenCLC == "" {
				t.Errorf("device %d is described incompletely: %+v", d.Index, d)
			}
		}
	}
	if listed != len(devices) {
		t.Errorf("%d devices listed, want %d", listed, len(devices))
	}
	if report.Selected == nil {
		t.Errorf("no device selected: %s", report.Error)
	}
}

func TestDevicesCommandText(t *testing.T) {
	code, stdout, stderr := spikessl(t, "devices")
	if code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "--backend auto, InfoNCE on 4096 × 128 views with gradients: ") {
		t.Errorf("output does not say what auto picks:\n%s", stdout)
	}
}

func TestDevicesCommandInvalidFlags(t *testing.T) {
	for _, args := range [][]string{
		{"devices", "--batch", "-1"},
		{"devices", "--features", "x"},
		{"devices", "extra"},
	} {
		code, _, stderr := spikessl(t, args...)
		if code != 2 {
			t.Errorf("%q: exit status %d, want 2 (stderr %q)", args, code, stderr)
		}
		if strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: error is not one line: %q", args, stderr)
		}
	}
}
