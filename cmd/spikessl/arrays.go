package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spikessl/spikessl/npyfile"
	"github.com/spikessl/spikessl/ssl"
)

// precision is the element type a command computes in.
type precision string

const (
	float32Precision precision = "float32"
	float64Precision precision = "float64"
)

// parsePrecision returns the precision named by s. The empty string selects
// float32 on an OpenCL device, where it is the fast path, and float64
// elsewhere.
func parsePrecision(s string, backend ssl.BackendKind) (precision, error) {
	switch precision(s) {
	case float32Precision, float64Precision:
		return precision(s), nil
	case "":
		if backend == ssl.BackendOpenCL {
			return float32Precision, nil
		}
		return float64Precision, nil
	}
	return "", usagef("--precision %q is invalid: must be float32 or float64", s)
}

// readMatrix reads the .npy file named by flag --name as a matrix. A 1-D
// array is one row when vector is true; any other rank is an error.
func readMatrix[T ssl.Float](name, path string, vector bool) (ssl.Matrix[T], error) {
	if path == "" {
		return ssl.Matrix[T]{}, usagef("--%s is required", name)
	}
	arr, err := npyfile.ReadFile[T](path)
	if err != nil {
		err = fmt.Errorf("--%s: %w", name, err)
		// A file that is missing or not a valid array is invalid input;
		// other read failures, such as a denied permission, are not.
		for _, target := range []error{npyfile.ErrFormat, npyfile.ErrTruncated, npyfile.ErrDtype, fs.ErrNotExist} {
			if errors.Is(err, target) {
				return ssl.Matrix[T]{}, asUsage(err)
			}
		}
		return ssl.Matrix[T]{}, err
	}
	switch {
	case len(arr.Shape) == 2:
		return ssl.Matrix[T]{Rows: arr.Shape[0], Cols: arr.Shape[1], Data: arr.Data}, nil
	case len(arr.Shape) == 1 && vector:
		return ssl.RowVector(arr.Data), nil
	}
	want := "2-D"
	if vector {
		want = "1-D or 2-D"
	}
	return ssl.Matrix[T]{}, usagef("--%s: %s has shape %v, must be %s", name, path, arr.Shape, want)
}

// writeMatrix writes m to path as a 2-D .npy file, atomically.
func writeMatrix[T ssl.Float](path string, m ssl.Matrix[T]) error {
	// npyfile's errors name the path.
	return npyfile.WriteFile(path, []int{m.Rows, m.Cols}, m.Data)
}

// openEngine returns an engine for the --backend flag value.
func openEngine(env *environment, backend string) (*ssl.Engine, error) {
	kind, err := ssl.ParseBackendKind(backend)
	if err != nil {
		return nil, usagef("--backend %q is invalid: must be auto, cpu or opencl", backend)
	}
	e, err := ssl.New(ssl.Options{Backend: kind, Logger: env.logger})
	if err != nil {
		return nil, fmt.Errorf("--backend %s: %w", kind, err)
	}
	return e, nil
}

// classify marks errors from invalid data as usage errors (exit status 2).
func classify(err error) error {
	if err == nil {
		return nil
	}
	for _, target := range []error{ssl.ErrShape, ssl.ErrNotFinite, ssl.ErrInvalidParameter} {
		if errors.Is(err, target) {
			return asUsage(err)
		}
	}
	return err
}

// writeJSON prints v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// ensureDir creates dir if it does not exist.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	return nil
}

// outputPath joins a directory flag and a file name.
func outputPath(dir, name string) string { return filepath.Join(dir, name) }
