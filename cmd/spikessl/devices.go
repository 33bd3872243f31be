package main

import (
	"context"
	"fmt"
	"github.com/spikessl/spikessl/cpu"
	"io"
	"os"
	"strings"

	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/ssl"
)

func init() {
	register(command{
		name:    "devices",
		summary: "list OpenCL platforms and devices, and the backend auto picks",
		run:     runDevices,
	})
}

// devicesReport is the --json output of the devices command.
type devicesReport struct {
	// BLAS names the BLAS that the CPU backend's matrix products use.
	BLAS      string           `json:"blas"`
	Platforms []platformReport `json:"platforms"`
	// Selected is the index of the device that --backend opencl uses, or
	// nil when there is none.
	Selected *int `json:"selected"`
	// Error is the reason no device is listed or selected, and empty when
	// one is.
	Error string     `json:"error,omitempty"`
	Auto  autoReport `json:"auto"`
}

type platformReport struct {
	Name    string       `json:"name"`
	Vendor  string       `json:"vendor"`
	Version string       `json:"version"`
	Devices []gpu.Device `json:"devices"`
}

// autoReport is the backend that --backend auto picks for InfoNCE on
// views of one size.
type autoReport struct {
	Batch         int    `json:"batch"`
	Features      int    `json:"features"`
	Gradients     bool   `json:"gradients"`
	Work          int64  `json:"work"`
	MinDeviceWork int64  `json:"min_device_work"`
	Backend       string `json:"backend"`
	Device        string `json:"device"`
	Reason        string `json:"reason"`
}

func runDevices(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "devices", "[--json] [--batch N] [--features N] [--gradients=false]")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	batch := fs.Int("batch", 4096, "batch size of the InfoNCE call to choose a backend for")
	features := fs.Int("features", 128, "features per view of that call")
	gradients := fs.Bool("gradients", true, "whether that call also computes the gradients")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *batch < 0 || *features < 0 {
		return usagef("--batch %d and --features %d must be ≥ 0", *batch, *features)
	}

	var report devicesReport
	devices, err := gpu.Devices()
	if err == nil && len(devices) == 0 {
		err = fmt.Errorf("%w: the OpenCL platforms list no devices", gpu.ErrNoDevice)
	}
	if err != nil {
		report.Error = err.Error()
	}
	report.Platforms = groupByPlatform(devices)
	if report.Platforms == nil {
		report.Platforms = []platformReport{}
	}
	if err == nil {
		chosen, chooseErr := gpu.ChooseDevice(devices, envDevice())
		if chooseErr != nil {
			report.Error = chooseErr.Error()
		} else {
			report.Selected = &chosen.Index
		}
	}

	auto, err := chooseAuto(env, *batch, *features, *gradients)
	if err != nil {
		return err
	}
	report.Auto = auto
	report.BLAS = cpu.BLASName()

	if *asJSON {
		return writeJSON(env.stdout, report)
	}
	return printDevices(env.stdout, report)
}

// envDevice returns the device selection of the environment.
func envDevice() string { return strings.TrimSpace(os.Getenv(gpu.DeviceEnv)) }

// groupByPlatform returns the devices under their platforms, in order.
func groupByPlatform(devices []gpu.Device) []platformReport {
	var platforms []platformReport
	for _, d := range devices {
		n := len(platforms)
		if n == 0 || platforms[n-1].Name != d.Platform.Name || platforms[n-1].Version != d.Platform.Version {
			platforms = append(platforms, platformReport{Name: d.Platform.Name, Vendor: d.Platform.Vendor, Version: d.Platform.Version})
			n++
		}
		platforms[n-1].Devices = append(platforms[n-1].Devices, d)
	}
	return platforms
}

// chooseAuto returns the backend that BackendAuto picks for InfoNCE on
// (batch, features) views, and why.
func chooseAuto(env *environment, batch, features int, gradients bool) (autoReport, error) {
	e, err := ssl.New(ssl.Options{Backend: ssl.BackendAuto, Logger: env.logger})
	if err != nil {
		return autoReport{}, err
	}
	defer e.Close()
	work := ssl.InfoNCEWork(batch, features, gradients)
	backend, err := e.Choose(work)
	if err != nil {
		return autoReport{}, err
	}
	r := autoReport{
		Batch:         batch,
		Features:      features,
		Gradients:     gradients,
		Work:          work,
		MinDeviceWork: ssl.DefaultMinDeviceWork,
		Backend:       backend.Name(),
		Device:        backend.Device(),
	}
	device, deviceErr := e.Device()
	switch {
	case backend.Name() != "cpu":
		r.Reason = fmt.Sprintf("%d multiply-adds reach the minimum of %d for a device", work, ssl.DefaultMinDeviceWork)
	case work < ssl.DefaultMinDeviceWork:
		r.Reason = fmt.Sprintf("%d multiply-adds are below the minimum of %d for a device", work, ssl.DefaultMinDeviceWork)
	case deviceErr != nil:
		r.Reason = deviceErr.Error()
	default:
		r.Reason = fmt.Sprintf("%s is a CPU device, slower than the CPU backend on the same cores", device.Device())
	}
	return r, nil
}

func printDevices(w io.Writer, r devicesReport) error {
	p := &errWriter{w: w}
	p.printf("cpu: BLAS %s\n", r.BLAS)
	if len(r.Platforms) == 0 {
		p.printf("no OpenCL device: %s\n", r.Error)
	}
	for i, platform := range r.Platforms {
		p.printf("platform %d: %s (%s), %s\n", i, platform.Name, platform.Vendor, platform.Version)
		for _, d := range platform.Devices {
			mark := ""
			if r.Selected != nil && *r.Selected == d.Index {
				mark = "  [selected for --backend opencl]"
			}
			fp64 := "no"
			if d.FP64 {
				fp64 = "yes"
			}
			p.printf("  device %d: %s%s\n", d.Index, d.Name, mark)
			p.printf("    vendor %s, type %s, %d compute units\n", d.Vendor, d.Type, d.ComputeUnits)
			p.printf("    global memory %s, max allocation %s, fp64 %s, %s\n", bytesText(d.GlobalMemory), bytesText(d.MaxAlloc), fp64, d.OpenCLC)
			if !d.Available {
				p.printf("    not available, or has no compiler\n")
			}
		}
	}
	if len(r.Platforms) > 0 && r.Selected == nil {
		p.printf("no device selected: %s\n", r.Error)
	}
	a := r.Auto
	grads := "loss only"
	if a.Gradients {
		grads = "with gradients"
	}
	p.printf("--backend auto, InfoNCE on %d × %d views %s: %s (%s)\n  because %s\n", a.Batch, a.Features, grads, a.Backend, a.Device, a.Reason)
	return p.err
}

// bytesText formats a size in bytes in binary units.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, suffix := float64(n), "B"
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if value < unit {
			break
		}
		value, suffix = value/unit, s
	}
	return fmt.Sprintf("%.1f %s", value, suffix)
}

// errWriter keeps the first write error of a sequence of prints.
type errWriter struct {
	w   io.Writer
	err error
}

func (p *errWriter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
