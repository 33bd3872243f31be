package main

import (
	"bufio"
	"os"
	"strings"

	"github.com/spikessl/spikessl/gpu"
)

// cpuModel returns the processor's model name from /proc/cpuinfo, or "cpu"
// where that file is missing.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "cpu"
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "cpu"
}

// openCLDriver returns the driver and platform version of the OpenCL device
// that device describes, or "" when no listed device matches.
func openCLDriver(device string) string {
	devices, err := gpu.Devices()
	if err != nil {
		return ""
	}
	for _, d := range devices {
		if d.Name != "" && strings.Contains(device, d.Name) {
			return d.Driver + " (" + d.Platform.Version + ")"
		}
	}
	return ""
}
