package npyfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// fixture is one entry of testdata/fixtures.json, written by
// testdata/gen_fixtures.py with NumPy.
type fixture struct {
	Dtype   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Fortran bool   `json:"fortran"`
	Values  []any  `json:"values"` // json.Number, or "nan", "inf", "-inf", "-0"
	Error   string `json:"error"`
}

func loadFixtures(t *testing.T) map[string]fixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var fixtures map[string]fixture
	if err := dec.Decode(&fixtures); err != nil {
		t.Fatal(err)
	}
	return fixtures
}

// expectedValue converts a fixture value to T the way Go converts the
// file's element type, so integers convert directly and not via float64.
func expectedValue[T float32 | float64](t *testing.T, dtype string, value any) T {
	t.Helper()
	switch value {
	case "nan":
		return T(math.NaN())
	case "inf":
		return T(math.Inf(1))
	case "-inf":
		return T(math.Inf(-1))
	case "-0":
		return T(math.Copysign(0, -1))
	}
	v, ok := value.(json.Number)
	if !ok {
		t.Fatalf("fixture value %v is not a number", value)
	}
	kind := dtype[len(dtype)-2]
	switch kind {
	case 'i':
		n, err := strconv.ParseInt(v.String(), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return T(n)
	case 'u', 'b':
		n, err := strconv.ParseUint(v.String(), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return T(n)
	}
	f, err := strconv.ParseFloat(v.String(), 64)
	if err != nil {
		t.Fatal(err)
	}
	return T(f)
}

// sameBits reports whether a and b are equal, counting every NaN as equal
// to every NaN and telling -0 from +0.
func sameBits[T float32 | float64](a, b T) bool {
	if a != a && b != b {
		return true
	}
	return a == b && math.Signbit(float64(a)) == math.Signbit(float64(b))
}

func checkFixtures[T float32 | float64](t *testing.T) {
	for name, fx := range loadFixtures(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".npy")
			got, err := ReadFile[T](path)
			if fx.Error == "dtype" {
				if !errors.Is(err, ErrDtype) {
					t.Fatalf("ReadFile error = %v, want ErrDtype", err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Header.Dtype != fx.Dtype {
				t.Errorf("Header.Dtype = %q, want %q", got.Header.Dtype, fx.Dtype)
			}
			if !slices.Equal(got.Shape, fx.Shape) || !slices.Equal(got.Header.Shape, fx.Shape) {
				t.Errorf("Shape = %v, Header.Shape = %v, want %v", got.Shape, got.Header.Shape, fx.Shape)
			}
			if got.Header.Fortran != fx.Fortran {
				t.Errorf("Header.Fortran = %v, want %v", got.Header.Fortran, fx.Fortran)
			}
			if len(got.Data) != len(fx.Values) {
				t.Fatalf("len(Data) = %d, want %d", len(got.Data), len(fx.Values))
			}
			for i, v := range fx.Values {
				want := expectedValue[T](t, fx.Dtype, v)
				if !sameBits(got.Data[i], want) {
					t.Errorf("Data[%d] = %v, want %v", i, got.Data[i], want)
				}
			}
		})
	}
}

func TestReadFileNumPyFixtures(t *testing.T) {
	t.Run("float64", checkFixtures[float64])
	t.Run("float32", checkFixtures[float32])
}

// npyFile builds a .npy file from a header dictionary, padding it with
// spaces and a newline as NumPy does.
func npyFile(major byte, dict string, data []byte) []byte {
	text := dict + "\n"
	var b bytes.Buffer
	b.WriteString(magic)
	b.WriteByte(major)
	b.WriteByte(0)
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(text)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(text)))
	}
	b.WriteString(text)
	b.Write(data)
	return b.Bytes()
}

func f8Dict(shape string) string {
	return "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }"
}

// readAll reads data three ways: ReadFile of a temporary file, Read with
// the size known and Read with the size unknown through a reader that
// returns short reads. It fails the test unless all three agree.
func readAll(t *testing.T, data []byte) (Array[float64], error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.npy")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile, fileErr := ReadFile[float64](path)
	known, knownErr := Read[float64](bytes.NewReader(data), int64(len(data)))
	unknown, unknownErr := Read[float64](iotest.HalfReader(bytes.NewReader(data)), -1)

	for _, e := range []error{fileErr, knownErr, unknownErr} {
		if (e == nil) != (fileErr == nil) || sentinel(e) != sentinel(fileErr) {
			t.Fatalf("errors differ: ReadFile %v, known size %v, unknown size %v", fileErr, knownErr, unknownErr)
		}
	}
	if fileErr != nil {
		if !strings.HasPrefix(fileErr.Error(), "npyfile: "+path+": ") {
			t.Errorf("ReadFile error %q does not start with npyfile: and the path", fileErr)
		}
		if !strings.HasPrefix(knownErr.Error(), "npyfile: ") {
			t.Errorf("Read error %q does not start with npyfile:", knownErr)
		}
		return Array[float64]{}, fileErr
	}
	for _, a := range []Array[float64]{known, unknown} {
		if !slices.Equal(a.Shape, fromFile.Shape) || !slices.EqualFunc(a.Data, fromFile.Data, sameBits[float64]) {
			t.Fatalf("Read results differ: %v %v and %v %v", a.Shape, a.Data, fromFile.Shape, fromFile.Data)
		}
	}
	return fromFile, nil
}

// sentinel returns the package error that err matches, or nil.
func sentinel(err error) error {
	for _, s := range []error{ErrFormat, ErrTruncated, ErrDtype} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

func TestReadInvalidInput(t *testing.T) {
	data6 := make([]byte, 48)
	valid := npyFile(1, f8Dict("(2, 3)"), data6)
	noNewline := npyFile(1, f8Dict("(2, 3)"), data6)
	noNewline[len(magic)+4+len(f8Dict("(2, 3)"))] = ' '
	hugeHeader := append([]byte(magic+"\x02\x00"), 0, 0, 0, 0x80)

	tests := []struct {
		name    string
		data    []byte
		want    error
		message string
	}{
		{"empty file", nil, ErrFormat, "the file is empty"},
		{"bad magic", append([]byte("\x93NUMPZ"), valid[6:]...), ErrFormat, "not a .npy file"},
		{"text file", []byte("hello, world\n"), ErrFormat, "not a .npy file"},
		{"magic prefix only", []byte("\x93NUM"), ErrFormat, "only 4 bytes"},
		{"ends in version", []byte(magic + "\x01"), ErrTruncated, "inside the version"},
		{"ends in header length", []byte(magic + "\x01\x00\x10"), ErrTruncated, "inside the header length"},
		{"version 4.0", npyFile(4, f8Dict("(2, 3)"), data6), ErrFormat, "version 4.0"},
		{"version 1.1", append(append([]byte(magic), 1, 1), valid[8:]...), ErrFormat, "version 1.1"},
		{"header longer than file", valid[:40], ErrTruncated, "header length is 60 bytes but the file holds 30 bytes"},
		{"header over limit", hugeHeader, ErrFormat, "exceeds the maximum"},
		{"header without newline", noNewline, ErrFormat, "newline"},
		{"not a dictionary", npyFile(1, "['descr', 'shape']", nil), ErrFormat, "start with '{'"},
		{"non-numeric shape", npyFile(1, f8Dict("('a', 3)"), nil), ErrFormat, "not a non-negative integer"},
		{"negative dimension", npyFile(1, f8Dict("(-1, 3)"), nil), ErrFormat, "not a non-negative integer"},
		{"float dimension", npyFile(1, f8Dict("(2.5,)"), nil), ErrFormat, "expected ',' or ')'"},
		{"shape without comma", npyFile(1, f8Dict("(6)"), data6), ErrFormat, "written (6,)"},
		{"shape not a tuple", npyFile(1, f8Dict("[2, 3]"), data6), ErrFormat, "not a tuple"},
		{"dimension over int", npyFile(1, f8Dict("(99999999999999999999,)"), nil), ErrFormat, "larger than"},
		{"element count overflow", npyFile(1, f8Dict("(4611686018427387904, 4)"), nil), ErrFormat, "more bytes than a file can hold"},
		{"byte count overflow", npyFile(1, f8Dict("(4611686018427387904,)"), nil), ErrFormat, "more bytes than a file can hold"},
		{"missing key", npyFile(1, "{'descr': '<f8', 'shape': (2, 3), }", data6), ErrFormat, `no "fortran_order" key`},
		{"extra key", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), 'x': 1}", data6), ErrFormat, `unexpected key "x"`},
		{"duplicate key", npyFile(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (6,)}", data6), ErrFormat, "twice"},
		{"bad fortran_order", npyFile(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (6,)}", data6), ErrFormat, "not True or False"},
		{"descr not a string", npyFile(1, "{'descr': 8, 'fortran_order': False, 'shape': (6,)}", data6), ErrFormat, "quoted string"},
		{"unterminated string", npyFile(1, "{'descr: 8}", nil), ErrFormat, "unsupported character in a string"},
		{"text after dictionary", npyFile(1, f8Dict("(6,)")+" x", data6), ErrFormat, "after the header dictionary"},
		{"complex dtype", npyFile(1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}", make([]byte, 16)), ErrDtype, `"<c16": complex`},
		{"object dtype", npyFile(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, `"|O": object`},
		{"unicode dtype", npyFile(1, "{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, "unicode string"},
		{"bytes dtype", npyFile(1, "{'descr': '|S4', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, "byte string"},
		{"void dtype", npyFile(1, "{'descr': '|V8', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, "void"},
		{"datetime dtype", npyFile(1, "{'descr': '<M8[s]', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, "datetime"},
		{"long double", npyFile(1, "{'descr': '<f16', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, "no 16-byte f type"},
		{"3-byte integer", npyFile(1, "{'descr': '<i3', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, "no 3-byte i type"},
		{"dtype name", npyFile(1, "{'descr': 'float64', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, `"float64"`},
		{"signed item size", npyFile(1, "{'descr': '<f+8', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, `"<f+8"`},
		{"empty dtype", npyFile(1, "{'descr': '', 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, "missing the type letter"},
		{"structured dtype", npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", nil), ErrDtype, "structured"},
		{"truncated data", valid[:len(valid)-5], ErrTruncated, "shape (2, 3) of <f8 (48 bytes)"},
		{"no data", valid[:len(valid)-48], ErrTruncated, "shape (2, 3) of <f8 (48 bytes)"},
		{"trailing data", append(slices.Clip(valid), 0), ErrFormat, "trailing data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not contain %q", err, tc.message)
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile[float64](filepath.Join(dir, "missing.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error = %v, want os.ErrNotExist", err)
	}
	_, err := ReadFile[float64](dir)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: error = %v, want ErrFormat naming a directory", err)
	}
}

// TestReadHugeClaimAllocatesLittle reads a 200-byte file whose header
// claims 10^12 float64 elements.
func TestReadHugeClaimAllocatesLittle(t *testing.T) {
	data := npyFile(1, f8Dict("(1000000, 1000000)"), nil)
	data = append(data, make([]byte, 200-len(data))...)
	path := filepath.Join(t.TempDir(), "huge.npy")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	reads := []struct {
		name string
		read func() error
	}{
		{"ReadFile", func() error { _, err := ReadFile[float64](path); return err }},
		{"known size", func() error { _, err := Read[float64](bytes.NewReader(data), int64(len(data))); return err }},
		{"unknown size", func() error { _, err := Read[float32](bytes.NewReader(data), -1); return err }},
	}
	const maxAlloc = 64 << 10
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := r.read()
			runtime.ReadMemStats(&after)

			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("error = %v, want ErrTruncated", err)
			}
			if !strings.Contains(err.Error(), "(1000000, 1000000) of <f8 (8000000000000 bytes)") {
				t.Errorf("error %q does not state the claimed shape and size", err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d bytes", alloc)
			if alloc > maxAlloc {
				t.Errorf("allocated %d bytes, want at most %d", alloc, maxAlloc)
			}
		})
	}
}

// TestReadFortranOrder checks the transposition of 1-D to 4-D Fortran-order
// arrays against index arithmetic.
func TestReadFortranOrder(t *testing.T) {
	shapes := [][]int{{5}, {3, 4}, {2, 3, 4}, {2, 1, 3, 2}, {0, 3}}
	for _, shape := range shapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			n, _ := elementCount(shape)
			// In Fortran order the index (i0, i1, ...) is stored at
			// i0 + shape[0]*(i1 + shape[1]*(i2 + ...)). Store at each
			// position the row-major number of its index.
			data := make([]byte, 8*n)
			for c := range n {
				rest, f, scale := c, 0, 1
				index := make([]int, len(shape))
				for k := len(shape) - 1; k >= 0; k-- {
					index[k] = rest % shape[k]
					rest /= shape[k]
				}
				for k := range shape {
					f += index[k] * scale
					scale *= shape[k]
				}
				binary.LittleEndian.PutUint64(data[8*f:], math.Float64bits(float64(c)))
			}
			dict := "{'descr': '<f8', 'fortran_order': True, 'shape': " + shapeString(shape) + ", }"
			got, err := readAll(t, npyFile(1, dict, data))
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got.Data {
				if v != float64(i) {
					t.Fatalf("Data[%d] = %v, want %d", i, v, i)
				}
			}
			if !got.Header.Fortran {
				t.Error("Header.Fortran = false, want true")
			}
		})
	}
}

func TestReadHeaderVariants(t *testing.T) {
	data := make([]byte, 16)
	binary.LittleEndian.PutUint64(data, math.Float64bits(1.5))
	binary.LittleEndian.PutUint64(data[8:], math.Float64bits(-2))
	tests := []struct {
		name string
		dict string
	}{
		{"keys in any order", "{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}"},
		{"double quotes", `{"descr": "<f8", "fortran_order": False, "shape": (2,)}`},
		{"python 2 long", "{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }"},
		{"no trailing comma", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}"},
		{"native order", "{'descr': '=f8', 'fortran_order': False, 'shape': (2,)}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "native order" && nativeBigEndian {
				t.Skip("the data is little-endian")
			}
			got, err := readAll(t, npyFile(1, tc.dict, data))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Shape, []int{2}) || !slices.Equal(got.Data, []float64{1.5, -2}) {
				t.Errorf("got shape %v data %v, want [2] [1.5 -2]", got.Shape, got.Data)
			}
		})
	}
}

// TestHalfToFloat32 compares every binary16 value with the value computed
// from its fields in float64.
func TestHalfToFloat32(t *testing.T) {
	for h := range 1 << 16 {
		sign := 1.0
		if h>>15 != 0 {
			sign = -1
		}
		exp := h >> 10 & 0x1f
		frac := float64(h & 0x3ff)
		var want float64
		switch exp {
		case 0:
			want = sign * math.Ldexp(frac, -24)
		case 0x1f:
			want = sign * math.Inf(1)
			if frac != 0 {
				want = math.NaN()
			}
		default:
			want = sign * math.Ldexp(1+frac/1024, exp-15)
		}
		got := halfToFloat32(uint16(h))
		if !sameBits(float64(got), want) {
			t.Fatalf("halfToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

// TestReadConvertsToFloat32 checks rounding and overflow of float64 input.
func TestReadConvertsToFloat32(t *testing.T) {
	values := []float64{0.1, math.MaxFloat64, -math.MaxFloat64, 1e-50, 16777217}
	data := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(v))
	}
	got, err := Read[float32](bytes.NewReader(npyFile(1, f8Dict("(5,)"), data)), -1)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0.1, float32(math.Inf(1)), float32(math.Inf(-1)), 0, 16777216}
	if !slices.Equal(got.Data, want) {
		t.Errorf("Data = %v, want %v", got.Data, want)
	}
}
