package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrFormat marks a file that is not a valid IDX file of the expected kind.
var ErrFormat = errors.New("invalid IDX file")

// idxUnsignedByte is the IDX type code of unsigned 8-bit data, the only
// type that MNIST uses.
const idxUnsignedByte = 0x08

// maxItems bounds the item count that a header may declare. MNIST has
// 60 000 training items, and the extended EMNIST sets stay below 1 000 000.
const maxItems = 1 << 24

// Set is a set of labelled grey-scale images.
type Set struct {
	// Images holds N images of Rows × Cols pixels each, row-major, one
	// byte per pixel (0 is background, 255 is full ink).
	Images []uint8
	// Labels holds the N digit labels, each in 0..9.
	Labels []uint8
	// N is the number of images, and Rows and Cols their size.
	N, Rows, Cols int
}

// Pixels returns the number of pixels of one image.
func (s *Set) Pixels() int { return s.Rows * s.Cols }

// Image returns image i, sharing the set's data.
func (s *Set) Image(i int) []uint8 {
	p := s.Pixels()
	return s.Images[i*p : (i+1)*p]
}

// Subset returns the first n items of s, sharing its data. n larger than
// s.N returns all of s.
func (s *Set) Subset(n int) *Set {
	n = min(n, s.N)
	p := s.Pixels()
	return &Set{Images: s.Images[:n*p], Labels: s.Labels[:n], N: n, Rows: s.Rows, Cols: s.Cols}
}

// ReadImages reads an IDX file of unsigned-byte images of shape
// (n, rows, cols), gzip-compressed or not.
func ReadImages(path string) (images []uint8, n, rows, cols int, err error) {
	dims, data, err := readIDX(path, 3)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return data, dims[0], dims[1], dims[2], nil
}

// ReadLabels reads an IDX file of unsigned-byte labels of shape (n),
// gzip-compressed or not, and checks that each label is a digit 0..9.
func ReadLabels(path string) ([]uint8, error) {
	_, data, err := readIDX(path, 1)
	if err != nil {
		return nil, err
	}
	for i, l := range data {
		if l > 9 {
			return nil, fmt.Errorf("%w: %s: label %d is %d, must be a digit 0..9", ErrFormat, path, i, l)
		}
	}
	return data, nil
}

// readIDX reads an unsigned-byte IDX file with ndim dimensions.
func readIDX(path string, ndim int) ([]int, []uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}

	r := bufio.NewReader(f)
	var src io.Reader = r
	if magic, _ := r.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: gzip header: %w", ErrFormat, path, err)
		}
		defer gz.Close()
		src = gz
	}

	var header [4]byte
	if _, err := io.ReadFull(src, header[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: header is truncated: %w", ErrFormat, path, err)
	}
	if header[0] != 0 || header[1] != 0 {
		return nil, nil, fmt.Errorf("%w: %s: magic number %#x, must start with two zero bytes", ErrFormat, path, header)
	}
	if header[2] != idxUnsignedByte {
		return nil, nil, fmt.Errorf("%w: %s: data type %#02x, must be %#02x (unsigned byte)", ErrFormat, path, header[2], idxUnsignedByte)
	}
	if int(header[3]) != ndim {
		return nil, nil, fmt.Errorf("%w: %s: %d dimensions, must be %d", ErrFormat, path, header[3], ndim)
	}

	dims := make([]int, ndim)
	raw := make([]byte, 4*ndim)
	if _, err := io.ReadFull(src, raw); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: dimensions are truncated: %w", ErrFormat, path, err)
	}
	size := 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(raw[4*i:]))
		limit := maxItems
		if i > 0 {
			limit = 1 << 12 // rows and columns of one image
		}
		if dims[i] > limit {
			return nil, nil, fmt.Errorf("%w: %s: dimension %d is %d, must be at most %d", ErrFormat, path, i, dims[i], limit)
		}
		size *= dims[i]
	}

	// Never trust the header for the allocation: read at most size bytes
	// (plus one to detect trailing data), growing the buffer as data
	// arrives. An uncompressed file must also be large enough on disk.
	if src == io.Reader(r) && info.Size() < int64(4+4*ndim+size) {
		return nil, nil, fmt.Errorf("%w: %s: data is truncated: header declares %v = %d bytes, the file has %d", ErrFormat, path, dims, size, info.Size()-int64(4+4*ndim))
	}
	var buf bytes.Buffer
	got, err := io.Copy(&buf, io.LimitReader(src, int64(size)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: reading data: %w", ErrFormat, path, err)
	}
	switch {
	case got < int64(size):
		return nil, nil, fmt.Errorf("%w: %s: data is truncated: header declares %v = %d bytes, found %d", ErrFormat, path, dims, size, got)
	case got > int64(size):
		return nil, nil, fmt.Errorf("%w: %s: data is longer than the %v = %d bytes its header declares", ErrFormat, path, dims, size)
	}
	return dims, buf.Bytes()[:size], nil
}

// File names of the four standard MNIST files, without the .gz suffix.
const (
	TrainImagesFile = "train-images-idx3-ubyte"
	TrainLabelsFile = "train-labels-idx1-ubyte"
	TestImagesFile  = "t10k-images-idx3-ubyte"
	TestLabelsFile  = "t10k-labels-idx1-ubyte"
)

// Load reads the training and test sets from dir, which must contain the
// four standard files, each either plain or with a .gz suffix.
func Load(dir string) (train, test *Set, err error) {
	train, err = loadSet(dir, TrainImagesFile, TrainLabelsFile)
	if err != nil {
		return nil, nil, err
	}
	test, err = loadSet(dir, TestImagesFile, TestLabelsFile)
	if err != nil {
		return nil, nil, err
	}
	if test.Rows != train.Rows || test.Cols != train.Cols {
		return nil, nil, fmt.Errorf("%w: %s: test images are %d × %d, training images are %d × %d", ErrFormat, dir, test.Rows, test.Cols, train.Rows, train.Cols)
	}
	return train, test, nil
}

func loadSet(dir, imagesName, labelsName string) (*Set, error) {
	imagesPath, err := findFile(dir, imagesName)
	if err != nil {
		return nil, err
	}
	labelsPath, err := findFile(dir, labelsName)
	if err != nil {
		return nil, err
	}
	images, n, rows, cols, err := ReadImages(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabels(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != n {
		return nil, fmt.Errorf("%w: %s has %d images but %s has %d labels", ErrFormat, imagesPath, n, labelsPath, len(labels))
	}
	return &Set{Images: images, Labels: labels, N: n, Rows: rows, Cols: cols}, nil
}

// findFile returns the path of name or name.gz in dir.
func findFile(dir, name string) (string, error) {
	for _, candidate := range []string{name, name + ".gz"} {
		path := filepath.Join(dir, candidate)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("mnist: %s not found in %s (looked for %s and %s.gz)", name, dir, name, name)
}
