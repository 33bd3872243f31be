package kernels_test

import (
	"strings"
	"testing"

	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
	"github.com/spikessl/spikessl/kernels"
)

func TestSourcesDocumentThemselves(t *testing.T) {
	for name, source := range kernels.Sources() {
		t.Run(name, func(t *testing.T) {
			header, _, found := strings.Cut(source, "*/")
			if !found || !strings.HasPrefix(source, "/*") {
				t.Fatal("the source does not open with a comment")
			}
			for _, section := range []string{"Maths.", "Memory layout.", "Work decomposition."} {
				if !strings.Contains(header, section) {
					t.Errorf("the opening comment has no %q section", section)
				}
			}
			if !strings.Contains(source, "#ifndef REAL\n#define REAL float\n#endif") {
				t.Error("the source does not default REAL to float")
			}
		})
	}
}

// TestSourcesBuild compiles every program on every available device, in
// float32 and, where the device has cl_khr_fp64, in float64, with the
// default tunables.
func TestSourcesBuild(t *testing.T) {
	devices, err := gpu.Devices()
	if err != nil || len(devices) == 0 {
		gputest.NoDevice(t, err)
	}
	for _, d := range devices {
		if !d.Available {
			continue
		}
		ctx, err := gpu.NewContext(d, nil)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		options := []string{"-D REAL=float"}
		if d.FP64 {
			options = append(options, "-D REAL=double -D USE_FP64=1 -D NORM_EPS=1e-8")
		}
		for name, source := range kernels.Sources() {
			for _, opt := range options {
				if _, err := ctx.Build(name, source, opt); err != nil {
					t.Errorf("%s: program %s with %q: %v", d, name, opt, err)
				}
			}
		}
		if err := ctx.Close(); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}
