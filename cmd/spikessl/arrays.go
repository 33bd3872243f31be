package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spikessl/spikessl/npyfile"
	"github.com/spikessl/spikessl/ssl"
)

// precision is the element type a command computes in.
type precision string

const (
	float32Precision precision = "float32"
	float64Precision precision = "float64"
)

// parseBackendPrecision validates --backend and returns the precision that
// --precision names, whose default depends on the backend.
func parseBackendPrecision(backend, precisionName string) (precision, error) {
	kind, err := ssl.ParseBackendKind(backend)
	if err != nil {
		return "", usagef("--backend %q is invalid: must be auto, cpu or opencl", backend)
	}
	return parsePrecision(precisionName, kind)
}

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
	if err := checkConversion(name, path, arr); err != nil {
		return ssl.Matrix[T]{}, err
	}
	var m ssl.Matrix[T]
	switch {
	case len(arr.Shape) == 2:
		m = ssl.Matrix[T]{Rows: arr.Shape[0], Cols: arr.Shape[1], Data: arr.Data}
	case len(arr.Shape) == 1 && vector:
		m = ssl.RowVector(arr.Data)
	default:
		want := "2-D"
		if vector {
			want = "1-D or 2-D"
		}
		return ssl.Matrix[T]{}, usagef("--%s: %s has shape %v, must be %s", name, path, arr.Shape, want)
	}
	// Package ssl rejects these values too, but names the operand, not the
	// flag and the file.
	for k, x := range m.Data {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return ssl.Matrix[T]{}, usagef("--%s: %s: element [%d, %d] is %v, must be finite", name, path, k/m.Cols, k%m.Cols, x)
		}
	}
	return m, nil
}

// checkConversion returns a usage error if converting the file's values to
// float32 made a finite value infinite, which ssl would report as an
// infinity in the file.
func checkConversion[T ssl.Float](name, path string, arr npyfile.Array[T]) error {
	var zero T
	if _, ok := any(zero).(float32); !ok || !strings.HasSuffix(arr.Header.Dtype, "f8") {
		return nil
	}
	for k, x := range arr.Data {
		if math.IsInf(float64(x), 0) {
			return usagef("--%s: %s: element %d is outside the float32 range (±3.4e38); use --precision float64", name, path, k)
		}
	}
	return nil
}

// checkOutputFile returns a usage error unless path can be created: its
// directory exists and path is not a directory.
func checkOutputFile(name, path string) error {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return usagef("--%s %s is a directory, must be a file name", name, path)
	}
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return usagef("--%s %s: directory %s does not exist", name, path, dir)
	}
	return nil
}

// checkOutputDir returns a usage error if path exists and is not a
// directory. A missing directory is created when the outputs are written.
func checkOutputDir(name, path string) error {
	if info, err := os.Stat(path); err == nil && !info.IsDir() {
		return usagef("--%s %s is a file, must be a directory", name, path)
	}
	return nil
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

// ensureDir creates the directory named by flag --name if it does not
// exist.
func ensureDir(name, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--%s: creating the directory failed: %w", name, err)
	}
	return nil
}

// outputPath joins a directory flag and a file name.
func outputPath(dir, name string) string { return filepath.Join(dir, name) }
