package ssl

import (
	"github.com/spikessl/spikessl/gpu"
)

// openDevice opens the OpenCL backend. Tests replace it to inject device
// faults.
var openDevice = func(opt gpu.Options) (Backend, error) {
	b, err := gpu.Open(opt)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Compile-time proof that the OpenCL backend implements Backend.
var _ Backend = (*gpu.Backend)(nil)

// deviceType returns the OpenCL device type of backend, or "" for a
// backend that does not describe an OpenCL device.
func deviceType(backend Backend) gpu.DeviceType {
	if d, ok := backend.(interface{ Info() gpu.Device }); ok {
		return d.Info().Type
	}
	return ""
}
