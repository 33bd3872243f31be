package npyfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Header describes an array file: dtype as written in the file ('<f8',
// '>i4', '|b1', ...), Shape, and Fortran order.
type Header struct {
	Dtype   string
	Shape   []int
	Fortran bool
}

// Array is an n-dimensional array converted to element type T, in C
// (row-major) order. Shape is a copy of Header.Shape. A 0-d array has an
// empty Shape and one element.
type Array[T float32 | float64] struct {
	Header Header
	Shape  []int
	Data   []T
}

// chunkBytes is the size of the buffer that data is read through. It is a
// multiple of every item size, so no item straddles two chunks.
const chunkBytes = 64 << 10

// firstChunkBytes is the first buffer size when the input size is unknown.
// Like chunkBytes, it is a multiple of every item size.
const firstChunkBytes = 4 << 10

// ReadFile reads the .npy file at path and converts its elements to T.
// For a regular file the size from the file system bounds what the header
// may claim before anything is allocated. Other files, such as pipes, are
// read like Read with an unknown size.
func ReadFile[T float32 | float64](path string) (Array[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return Array[T]{}, fmt.Errorf("npyfile: %w", err)
	}
	defer f.Close()

	size := int64(-1)
	info, err := f.Stat()
	if err != nil {
		return Array[T]{}, fmt.Errorf("npyfile: %w", err)
	}
	if info.IsDir() {
		return Array[T]{}, &fileError{path: path, kind: ErrFormat, msg: "is a directory, not a .npy file"}
	}
	if info.Mode().IsRegular() {
		size = info.Size()
	}
	return read[T](f, size, path)
}

// Read is ReadFile for a reader; size is the number of bytes r holds, or -1
// if unknown.
//
// With a known size, the header is checked against it before any memory
// is allocated for the data, and r is not read past size bytes. With an
// unknown size, the data is read in chunks of up to 64 KiB and the result
// grows with the bytes actually delivered. A header that claims more data
// than r holds then costs memory in proportion to the data that r does
// hold. After the array, r must be at its end.
//
// Elements convert to T as Go converts numbers: integers and float64
// values round to the nearest representable value, float64 values beyond
// the float32 range become ±Inf, and bools become 0 or 1. A Fortran-order
// array is transposed into C order.
func Read[T float32 | float64](r io.Reader, size int64) (Array[T], error) {
	return read[T](r, size, "")
}

// reader holds the state of one Read call.
type reader struct {
	r    io.Reader
	size int64 // bytes in r, or -1 if unknown
	path string
}

func (rd *reader) fail(kind error, cause error, format string, args ...any) error {
	return &fileError{path: rd.path, kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}

// layout is the checked content of a header.
type layout struct {
	header    Header
	dtype     dtype
	elements  int
	dataBytes int64
	dataStart int64 // offset of the first data byte
}

func read[T float32 | float64](r io.Reader, size int64, path string) (Array[T], error) {
	rd := &reader{r: r, size: size, path: path}
	lay, err := rd.readHeader()
	if err != nil {
		return Array[T]{}, err
	}
	if lay.elements > math.MaxInt/8 {
		return Array[T]{}, rd.fail(ErrFormat, nil, "shape %s has too many elements to hold in memory", shapeString(lay.header.Shape))
	}
	if size >= 0 {
		if err := rd.checkDataSize(lay); err != nil {
			return Array[T]{}, err
		}
	}

	data, err := readData[T](rd, lay)
	if err != nil {
		return Array[T]{}, err
	}
	if size < 0 {
		if err := rd.checkEnd(lay); err != nil {
			return Array[T]{}, err
		}
	}
	if lay.header.Fortran && len(lay.header.Shape) > 1 {
		data = fortranToC(data, lay.header.Shape)
	}

	return Array[T]{
		Header: lay.header,
		Shape:  append([]int{}, lay.header.Shape...),
		Data:   data,
	}, nil
}

// readHeader reads and checks the magic string, version, header length and
// header dictionary. It allocates no more than the header length, and when
// the size is unknown no more than the bytes that r delivers.
func (rd *reader) readHeader() (layout, error) {
	var lay layout
	var pre [12]byte
	n, err := io.ReadFull(rd.r, pre[:len(magic)])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return lay, rd.fail(nil, err, "reading the header failed")
	}
	switch {
	case n == 0:
		return lay, rd.fail(ErrFormat, nil, "not a .npy file: the file is empty")
	case string(pre[:n]) != magic[:n]:
		return lay, rd.fail(ErrFormat, nil, "not a .npy file: it starts with %q, expected %q", pre[:n], magic)
	case n < len(magic):
		return lay, rd.fail(ErrFormat, nil, "not a .npy file: it is only %d bytes long", n)
	}

	if err := rd.readFull(pre[6:8], "the version"); err != nil {
		return lay, err
	}
	major, minor := pre[6], pre[7]
	var lenBytes int
	switch {
	case minor != 0:
		lenBytes = 0
	case major == 1:
		lenBytes = 2
	case major == 2, major == 3:
		lenBytes = 4
	}
	if lenBytes == 0 {
		return lay, rd.fail(ErrFormat, nil, "unsupported format version %d.%d, expected 1.0, 2.0 or 3.0", major, minor)
	}
	if err := rd.readFull(pre[8:8+lenBytes], "the header length"); err != nil {
		return lay, err
	}
	var headerLen int64
	if lenBytes == 2 {
		headerLen = int64(binary.LittleEndian.Uint16(pre[8:10]))
	} else {
		headerLen = int64(binary.LittleEndian.Uint32(pre[8:12]))
	}
	preLen := int64(8 + lenBytes)
	if headerLen > maxHeaderLen {
		return lay, rd.fail(ErrFormat, nil, "header length %d exceeds the maximum of %d bytes", headerLen, maxHeaderLen)
	}
	if rd.size >= 0 && preLen+headerLen > rd.size {
		return lay, rd.fail(ErrTruncated, nil, "header length is %d bytes but the file holds %d bytes after the header length field",
			headerLen, max(rd.size-preLen, 0))
	}

	text, err := rd.readHeaderText(headerLen)
	if err != nil {
		return lay, err
	}
	fields, herr := parseHeader(text)
	if herr != nil {
		kind := ErrFormat
		if herr.dtype {
			kind = ErrDtype
		}
		return lay, rd.fail(kind, nil, "%s", herr.msg)
	}

	d, msg := parseDtype(fields.descr)
	if msg != "" {
		return lay, rd.fail(ErrDtype, nil, "%s", msg)
	}
	elements, ok := elementCount(fields.shape)
	if !ok || elements > math.MaxInt64/d.size {
		return lay, rd.fail(ErrFormat, nil, "shape %s of %s has more bytes than a file can hold", shapeString(fields.shape), fields.descr)
	}

	lay.header = Header{Dtype: fields.descr, Shape: fields.shape, Fortran: fields.fortran}
	lay.dtype = d
	lay.elements = elements
	lay.dataBytes = int64(elements) * int64(d.size)
	lay.dataStart = preLen + headerLen
	return lay, nil
}

// readFull reads len(p) bytes of the preamble. Errors name the field.
func (rd *reader) readFull(p []byte, field string) error {
	_, err := io.ReadFull(rd.r, p)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return rd.fail(ErrTruncated, nil, "the file ends inside %s", field)
	default:
		return rd.fail(nil, err, "reading %s failed", field)
	}
}

// readHeaderText reads n header bytes. With an unknown size the buffer
// grows with the bytes read, so a false length allocates little.
func (rd *reader) readHeaderText(n int64) (string, error) {
	var buf []byte
	var err error
	if rd.size >= 0 {
		buf = make([]byte, n)
		_, err = io.ReadFull(rd.r, buf)
	} else {
		buf, err = io.ReadAll(io.LimitReader(rd.r, n))
		if err == nil && int64(len(buf)) < n {
			err = io.ErrUnexpectedEOF
		}
	}
	switch {
	case err == nil:
		return string(buf), nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "", rd.fail(ErrTruncated, nil, "the file ends inside the %d-byte header", n)
	default:
		return "", rd.fail(nil, err, "reading the header failed")
	}
}

// describe formats the data that a header claims, for error messages.
func (lay layout) describe() string {
	return fmt.Sprintf("shape %s of %s (%d bytes)", shapeString(lay.header.Shape), lay.header.Dtype, lay.dataBytes)
}

// checkDataSize compares the data that the header claims with the bytes
// left in a reader of known size.
func (rd *reader) checkDataSize(lay layout) error {
	left := rd.size - lay.dataStart
	switch {
	case lay.dataBytes > left:
		return rd.fail(ErrTruncated, nil, "header claims %s but the file holds %d bytes of data", lay.describe(), left)
	case lay.dataBytes < left:
		return rd.fail(ErrFormat, nil, "header claims %s but the file holds %d bytes of data; trailing data is not allowed", lay.describe(), left)
	}
	return nil
}

// checkEnd verifies that a reader of unknown size ends after the data.
func (rd *reader) checkEnd(lay layout) error {
	var extra [1]byte
	n, err := io.ReadFull(rd.r, extra[:])
	switch {
	case n > 0:
		return rd.fail(ErrFormat, nil, "header claims %s but more data follows; trailing data is not allowed", lay.describe())
	case errors.Is(err, io.EOF):
		return nil
	default:
		return rd.fail(nil, err, "reading past the data failed")
	}
}

// readData reads and converts the array data in chunks of chunkBytes. With
// a known size, which checkDataSize has compared with the header, the
// result is allocated once. Otherwise it starts empty and grows with the
// data delivered, at most doubling, so its capacity stays within twice the
// elements read.
func readData[T float32 | float64](rd *reader, lay layout) ([]T, error) {
	n := lay.elements
	itemSize := lay.dtype.size
	var out []T
	bufSize := int64(chunkBytes)
	if rd.size >= 0 {
		out = make([]T, 0, n)
	} else {
		// Start small and double up to chunkBytes, so that a header that
		// claims much more data than arrives costs only a few KiB.
		bufSize = firstChunkBytes
	}
	buf := make([]byte, min(lay.dataBytes, bufSize))

	for done := int64(0); done < lay.dataBytes; {
		chunk := buf[:min(int64(len(buf)), lay.dataBytes-done)]
		got, err := io.ReadFull(rd.r, chunk)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, rd.fail(ErrTruncated, nil, "header claims %s but the data ends after %d bytes", lay.describe(), done+int64(got))
			}
			return nil, rd.fail(nil, err, "reading the data failed after %d bytes", done+int64(got))
		}

		count := len(chunk) / itemSize
		if cap(out)-len(out) < count {
			grown := make([]T, len(out), min(n, max(2*cap(out), len(out)+count)))
			copy(grown, out)
			out = grown
		}
		out = out[:len(out)+count]
		decode(out[len(out)-count:], chunk, lay.dtype)
		done += int64(len(chunk))

		if len(buf) < chunkBytes && done < lay.dataBytes {
			buf = make([]byte, min(2*int64(len(buf)), chunkBytes, lay.dataBytes-done))
		}
	}
	return out, nil
}

// decode converts the items in src to dst, which holds len(src)/d.size
// elements. It byte-swaps src in place when the items are big-endian.
func decode[T float32 | float64](dst []T, src []byte, d dtype) {
	if d.bigEndian {
		swapBytes(src, d.size)
	}
	le := binary.LittleEndian
	switch {
	case d.kind == 'f' && d.size == 2:
		for i := range dst {
			dst[i] = T(halfToFloat32(le.Uint16(src[2*i:])))
		}
	case d.kind == 'f' && d.size == 4:
		for i := range dst {
			dst[i] = T(math.Float32frombits(le.Uint32(src[4*i:])))
		}
	case d.kind == 'f' && d.size == 8:
		// NOTE: The Go specification leaves the result of a float64 to
		// float32 conversion that overflows implementation-dependent. The
		// gc compiler rounds as IEEE 754 does, to ±Inf, which
		// TestReadConvertsToFloat32 checks.
		for i := range dst {
			dst[i] = T(math.Float64frombits(le.Uint64(src[8*i:])))
		}
	case d.kind == 'i' && d.size == 1:
		for i := range dst {
			dst[i] = T(int8(src[i]))
		}
	case d.kind == 'i' && d.size == 2:
		for i := range dst {
			dst[i] = T(int16(le.Uint16(src[2*i:])))
		}
	case d.kind == 'i' && d.size == 4:
		for i := range dst {
			dst[i] = T(int32(le.Uint32(src[4*i:])))
		}
	case d.kind == 'i' && d.size == 8:
		for i := range dst {
			dst[i] = T(int64(le.Uint64(src[8*i:])))
		}
	case d.kind == 'u' && d.size == 1:
		for i := range dst {
			dst[i] = T(src[i])
		}
	case d.kind == 'u' && d.size == 2:
		for i := range dst {
			dst[i] = T(le.Uint16(src[2*i:]))
		}
	case d.kind == 'u' && d.size == 4:
		for i := range dst {
			dst[i] = T(le.Uint32(src[4*i:]))
		}
	case d.kind == 'u' && d.size == 8:
		for i := range dst {
			dst[i] = T(le.Uint64(src[8*i:]))
		}
	case d.kind == 'b':
		for i := range dst {
			dst[i] = 0
			if src[i] != 0 {
				dst[i] = 1
			}
		}
	default:
		// parseDtype admits only the cases above.
		panic(fmt.Sprintf("npyfile: no decoder for dtype kind %q size %d", d.kind, d.size))
	}
}

// swapBytes reverses the bytes of each size-byte item in p.
func swapBytes(p []byte, size int) {
	for i := 0; i+size <= len(p); i += size {
		item := p[i : i+size]
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			item[a], item[b] = item[b], item[a]
		}
	}
}

// halfToFloat32 converts IEEE 754 binary16 bits to float32 exactly,
// including subnormals, infinities and NaN payloads.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch exp {
	case 0:
		// Zero or subnormal: frac × 2⁻²⁴, exact in float32.
		v := float32(frac) / (1 << 24)
		return math.Float32frombits(math.Float32bits(v) | sign)
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	}
}

// fortranToC returns the elements of a column-major array of the given
// shape in row-major order.
func fortranToC[T any](src []T, shape []int) []T {
	dst := make([]T, len(src))
	if len(src) == 0 {
		return dst
	}
	// stride[k] is the distance in src between neighbours along axis k.
	stride := make([]int, len(shape))
	s := 1
	for k, d := range shape {
		stride[k] = s
		s *= d
	}
	index := make([]int, len(shape))
	offset := 0
	for i := range dst {
		dst[i] = src[offset]
		// Advance the row-major index, last axis fastest, and keep
		// offset equal to the column-major position of that index.
		for k := len(shape) - 1; k >= 0; k-- {
			index[k]++
			offset += stride[k]
			if index[k] < shape[k] {
				break
			}
			offset -= stride[k] * shape[k]
			index[k] = 0
		}
	}
	return dst
}
