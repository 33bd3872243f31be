package gpu_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/spikessl/spikessl/gpu"
	"github.com/spikessl/spikessl/gpu/gputest"
)

// childEnv names the error that a child process of TestOpenErrors
// expects from Open. TestMain runs the child's check in place of the tests.
const childEnv = "SPIKESSL_TEST_OPEN_ERROR"

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		if err := checkOpenError(name); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestOpenErrors opens a backend in child processes whose OpenCL setup is
// broken on purpose. Each needs its own process because the library is
// loaded, and the loader reads its environment, once per process.
func TestOpenErrors(t *testing.T) {
	if _, err := gpu.Devices(); err != nil {
		gputest.NoDevice(t, err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"library not found", []string{gpu.LibraryEnv + "=/nonexistent/libOpenCL.so.1"}, "ErrNoLibrary"},
		{"no vendor driver", []string{"OCL_ICD_VENDORS=" + t.TempDir()}, "ErrNoPlatform"},
		{"no device of that name", []string{gpu.DeviceEnv + "=no device has this name"}, "ErrNoDevice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), append(tc.env, childEnv+"="+tc.want)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("child process failed (%v): %s", err, out)
			}
		})
	}
}

// checkOpenError returns an error unless Open fails with the named error,
// in one line, leaving no OpenCL object behind.
func checkOpenError(name string) error {
	want := map[string]error{"ErrNoLibrary": gpu.ErrNoLibrary, "ErrNoPlatform": gpu.ErrNoPlatform, "ErrNoDevice": gpu.ErrNoDevice}[name]
	before := gpu.LiveObjects()
	_, err := gpu.Open(gpu.Options{})
	if !errors.Is(err, want) {
		return fmt.Errorf("Open: error %v, want gpu.%s", err, name)
	}
	if strings.Contains(err.Error(), "\n") {
		return fmt.Errorf("error %q spans several lines", err)
	}
	if after := gpu.LiveObjects(); after != before {
		return fmt.Errorf("%d OpenCL objects live after the failed Open, %d before", after, before)
	}
	return nil
}
