package ssl

import (
	"errors"
	"log/slog"
)

// openDevice opens the OpenCL backend.
func openDevice(logger *slog.Logger) (Backend, error) {
	// TODO: replace with the gpu package's backend once it lands.
	return nil, errors.New("OpenCL backend is not built yet")
}
