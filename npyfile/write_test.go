package npyfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"gonum.org/v1/gonum/mat"
)

// TestWriteMatchesNumPy writes the C-order '<f4' and '<f8' fixtures again
// and expects the bytes that NumPy wrote, header padding included.
func TestWriteMatchesNumPy(t *testing.T) {
	names := []string{"f8_le", "f4_le", "f8_1d", "f8_3d", "f8_0d", "f8_empty_2d", "f4_empty_1d"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".npy")
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if strings.HasPrefix(name, "f4") {
				a, err := ReadFile[float32](path)
				if err != nil {
					t.Fatal(err)
				}
				err = Write(&buf, a.Shape, a.Data)
			} else {
				a, err := ReadFile[float64](path)
				if err != nil {
					t.Fatal(err)
				}
				err = Write(&buf, a.Shape, a.Data)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("Write output differs from NumPy's:\n got %q\nwant %q", buf.Bytes(), want)
			}
		})
	}
}

func roundTrip[T float32 | float64](t *testing.T, shape []int, data []T) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.npy")
	if err := WriteFile(path, shape, data); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile[T](path)
	if err != nil {
		t.Fatal(err)
	}
	wantDtype := "<f8"
	if _, ok := any(data).([]float32); ok {
		wantDtype = "<f4"
	}
	if got.Header.Dtype != wantDtype || got.Header.Fortran {
		t.Errorf("Header = %+v, want dtype %s in C order", got.Header, wantDtype)
	}
	if len(shape) == 0 {
		shape = []int{}
	}
	if !slices.Equal(got.Shape, shape) {
		t.Errorf("Shape = %v, want %v", got.Shape, shape)
	}
	if !slices.EqualFunc(got.Data, data, sameBits[T]) {
		t.Errorf("Data = %v, want %v", got.Data, data)
	}
}

func TestWriteFileRoundTrip(t *testing.T) {
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.SmallestNonzeroFloat64, math.MaxFloat64}
	shapes := [][]int{nil, {}, {0}, {6}, {2, 3}, {3, 2, 1}, {1, 1, 6, 1}, {0, 4}, {20000, 5}}
	for _, shape := range shapes {
		n, _ := elementCount(shape)
		data64 := make([]float64, n)
		data32 := make([]float32, n)
		for i := range n {
			v := float64(i)*0.37 - 11
			if i < len(special) {
				v = special[i]
			}
			data64[i] = v
			data32[i] = float32(v)
		}
		t.Run(fmt.Sprintf("float64/shape=%v", shape), func(t *testing.T) { roundTrip(t, shape, data64) })
		t.Run(fmt.Sprintf("float32/shape=%v", shape), func(t *testing.T) { roundTrip(t, shape, data32) })
	}
}

func TestWriteLongHeaderUsesVersion2(t *testing.T) {
	shape := make([]int, 30000)
	for i := range shape {
		shape[i] = 1
	}
	var buf bytes.Buffer
	if err := Write(&buf, shape, []float32{2.5}); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if out[6] != 2 || out[7] != 0 {
		t.Errorf("version = %d.%d, want 2.0", out[6], out[7])
	}
	if dataStart := len(out) - 4; dataStart%headerAlign != 0 {
		t.Errorf("data starts at byte %d, want a multiple of %d", dataStart, headerAlign)
	}
	got, err := Read[float32](bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Shape, shape) || !slices.Equal(got.Data, []float32{2.5}) {
		t.Errorf("read back %d dimensions and %v", len(got.Shape), got.Data)
	}
}

func TestWriteFileInvalidShape(t *testing.T) {
	tests := []struct {
		name    string
		shape   []int
		n       int
		message string
	}{
		{"too few elements", []int{2, 3}, 5, "shape (2, 3) has 6 elements but the data has 5"},
		{"too many elements", []int{4}, 5, "shape (4,) has 4 elements but the data has 5"},
		{"0-d with two elements", nil, 2, "shape () has 1 elements but the data has 2"},
		{"negative dimension", []int{2, -3}, 6, "negative dimension -3 at axis 1"},
		{"overflow", []int{math.MaxInt, 3}, 1, "more elements than fit in an int"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.npy")
			err := WriteFile(path, tc.shape, make([]float64, tc.n))
			if err == nil || !strings.Contains(err.Error(), tc.message) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error = %v, want one naming %s and containing %q", err, path, tc.message)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("directory contains %v, want nothing", entries)
			}
			if err := Write(&bytes.Buffer{}, tc.shape, make([]float32, tc.n)); err == nil || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("Write error = %v, want one containing %q", err, tc.message)
			}
		})
	}
}

func TestWriteFileMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing", "a.npy")
	err := WriteFile(path, []int{2}, []float64{1, 2})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error = %v, want os.ErrNotExist naming %s", err, path)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("directory contains %v, want nothing", entries)
	}
}

func TestWriteFileOntoDirectory(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.npy")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []int{1}, []float32{1}); err == nil {
		t.Fatal("WriteFile over a directory returned no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "a.npy" || !entries[0].IsDir() {
		t.Errorf("directory contains %v, want only the directory a.npy", entries)
	}
}

// TestWriteFilesAllOrNothing checks that a failure to write the second
// file leaves the first path as it was, with no temporary file behind.
func TestWriteFilesAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "a.npy")
	if err := WriteFile(first, []int{2}, []float32{1, 2}); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing", "b.npy")
	err := WriteFiles(
		File[float32]{Path: first, Shape: []int{3}, Data: []float32{7, 8, 9}},
		File[float32]{Path: missing, Shape: []int{1}, Data: []float32{1}},
	)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("error = %v, want os.ErrNotExist naming %s", err, missing)
	}
	got, err := ReadFile[float32](first)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Data, []float32{1, 2}) {
		t.Errorf("%s holds %v, want the old [1 2]", first, got.Data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory contains %v, want only a.npy", entries)
	}

	second := filepath.Join(dir, "b.npy")
	err = WriteFiles(
		File[float32]{Path: first, Shape: []int{3}, Data: []float32{7, 8, 9}},
		File[float32]{Path: second, Shape: []int{1}, Data: []float32{4}},
	)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]float32{first: {7, 8, 9}, second: {4}} {
		got, err := ReadFile[float32](path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Data, want) {
			t.Errorf("%s holds %v, want %v", path, got.Data, want)
		}
	}
}

// TestWriteFileReplacesWhole overwrites a longer file and expects exactly
// the new array, the old permission bits and no temporary file.
func TestWriteFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.npy")
	if err := os.WriteFile(path, bytes.Repeat([]byte("old data "), 10000), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	data := []float64{1, 2, 3}
	if err := WriteFile(path, []int{3}, data); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := 128 + 8*len(data); len(raw) != want {
		t.Errorf("file is %d bytes, want %d", len(raw), want)
	}
	got, err := ReadFile[float64](path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Data, data) {
		t.Errorf("Data = %v, want %v", got.Data, data)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o640 {
		t.Errorf("mode = %v, want 0640", perm)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory contains %v, want only a.npy", entries)
	}
}

// TestNpyioReadsOurFiles cross-checks the writer with npyio, an independent
// implementation of the format.
func TestNpyioReadsOurFiles(t *testing.T) {
	data := []float64{1.5, -2, 3.25, 4, 5e-300, -6e300}
	var buf bytes.Buffer
	if err := Write(&buf, []int{2, 3}, data); err != nil {
		t.Fatal(err)
	}
	var m mat.Dense
	if err := npy.Read(bytes.NewReader(buf.Bytes()), &m); err != nil {
		t.Fatal(err)
	}
	if r, c := m.Dims(); r != 2 || c != 3 || !slices.Equal(m.RawMatrix().Data, data) {
		t.Errorf("npyio read %d×%d %v, want 2×3 %v", r, c, m.RawMatrix().Data, data)
	}

	data32 := []float32{0.5, -1, 7}
	buf.Reset()
	if err := Write(&buf, []int{3}, data32); err != nil {
		t.Fatal(err)
	}
	var got32 []float32
	if err := npy.Read(bytes.NewReader(buf.Bytes()), &got32); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got32, data32) {
		t.Errorf("npyio read %v, want %v", got32, data32)
	}
}

// TestReadNpyioFiles reads files that npyio wrote: version 2.0 headers with
// npyio's own padding.
func TestReadNpyioFiles(t *testing.T) {
	var buf bytes.Buffer
	m := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
	if err := npy.Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	a, err := Read[float64](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, []int{2, 2}) || !slices.Equal(a.Data, []float64{1, 2, 3, 4}) {
		t.Errorf("read %v %v, want [2 2] [1 2 3 4]", a.Shape, a.Data)
	}

	buf.Reset()
	if err := npy.Write(&buf, []int16{-3, 0, 300}); err != nil {
		t.Fatal(err)
	}
	b, err := Read[float32](bytes.NewReader(buf.Bytes()), -1)
	if err != nil {
		t.Fatal(err)
	}
	if b.Header.Dtype != "<i2" || !slices.Equal(b.Data, []float32{-3, 0, 300}) {
		t.Errorf("read %s %v, want <i2 [-3 0 300]", b.Header.Dtype, b.Data)
	}
}

func BenchmarkRead(b *testing.B) {
	const elements = 1 << 20
	for _, dtype := range []string{"<f8", ">f8", "<f4", "<f2", "|u1"} {
		d, _ := parseDtype(dtype)
		dict := "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (1024, 1024), }"
		data := npyFile(1, dict, make([]byte, elements*d.size))
		b.Run("dtype="+dtype+"/elements=1048576", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Read[float64](bytes.NewReader(data), int64(len(data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	data := make([]float64, 1<<20)
	for i := range data {
		data[i] = float64(i)
	}
	b.Run("dtype=<f8/elements=1048576", func(b *testing.B) {
		b.SetBytes(int64(8 * len(data)))
		for b.Loop() {
			if err := Write(io.Discard, []int{1024, 1024}, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
