package npyfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteFile writes a C-order little-endian array of T ('<f4' or '<f8') with
// the given shape, atomically: to a temporary file in the same directory,
// synced, then renamed over path, so a failure never leaves a truncated or
// overwritten file. A nil or empty shape writes a 0-d array of one element.
//
// A new file gets mode 0666 minus the umask, as os.Create gives it. A file
// that path replaces keeps its permission bits. If path is a symbolic link,
// the link itself is replaced by the new file.
func WriteFile[T float32 | float64](path string, shape []int, data []T) error {
	return WriteFiles(File[T]{Path: path, Shape: shape, Data: data})
}

// File is one array for WriteFiles: the path of its file, and its shape
// and data.
type File[T float32 | float64] struct {
	Path  string
	Shape []int
	Data  []T
}

// WriteFiles writes each array to its file as WriteFile does, in two
// phases: every array is written to its own temporary file and synced
// first, and the files are renamed into place only when all are written.
// A failure while writing removes the temporary files and leaves every
// path as it was. The renames are not atomic together: if one fails, the
// files renamed before it keep their new contents.
func WriteFiles[T float32 | float64](arrays ...File[T]) (err error) {
	for _, a := range arrays {
		if err := checkShape(a.Path, a.Shape, len(a.Data)); err != nil {
			return err
		}
	}
	temps := make([]string, 0, len(arrays))
	defer func() {
		if err != nil {
			for _, name := range temps {
				os.Remove(name)
			}
		}
	}()
	for _, a := range arrays {
		name, err := writeTemp(a.Path, a.Shape, a.Data)
		if err != nil {
			return err
		}
		temps = append(temps, name)
	}
	for i, a := range arrays {
		if err := os.Rename(temps[i], a.Path); err != nil {
			// The temporary files renamed before this one are gone, and
			// removing their names again does no harm.
			return &fileError{path: a.Path, msg: "replacing the file failed", cause: err}
		}
		syncDir(filepath.Dir(a.Path))
	}
	return nil
}

// writeTemp writes the array to a new temporary file beside path, with the
// permission bits of the file at path if there is one, syncs and closes
// it, and returns its name.
func writeTemp[T float32 | float64](path string, shape []int, data []T) (name string, err error) {
	tmp, err := createTemp(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return "", &fileError{path: path, msg: "creating the temporary file failed", cause: err}
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	if info, statErr := os.Stat(path); statErr == nil && info.Mode().IsRegular() {
		if err := tmp.Chmod(info.Mode().Perm()); err != nil {
			return "", &fileError{path: path, msg: "copying the permissions of the existing file failed", cause: err}
		}
	}
	if err := write(tmp, shape, data); err != nil {
		return "", &fileError{path: path, msg: "writing the temporary file failed", cause: err}
	}
	if err := tmp.Sync(); err != nil {
		return "", &fileError{path: path, msg: "syncing the temporary file failed", cause: err}
	}
	if err := tmp.Close(); err != nil {
		return "", &fileError{path: path, msg: "closing the temporary file failed", cause: err}
	}
	return tmp.Name(), nil
}

// Write writes a C-order little-endian array of T ('<f4' or '<f8') with the
// given shape to w. It is WriteFile for a writer that is not a file, such as
// standard output, and it is not atomic.
func Write[T float32 | float64](w io.Writer, shape []int, data []T) error {
	if err := checkShape("", shape, len(data)); err != nil {
		return err
	}
	if err := write(w, shape, data); err != nil {
		return &fileError{msg: "writing the array failed", cause: err}
	}
	return nil
}

// checkShape verifies that shape has non-negative dimensions whose product
// is count.
func checkShape(path string, shape []int, count int) error {
	for i, d := range shape {
		if d < 0 {
			return &fileError{path: path, msg: fmt.Sprintf("shape %s has the negative dimension %d at axis %d", shapeString(shape), d, i)}
		}
	}
	n, ok := elementCount(shape)
	if !ok {
		return &fileError{path: path, msg: fmt.Sprintf("shape %s has more elements than fit in an int", shapeString(shape))}
	}
	if n != count {
		return &fileError{path: path, msg: fmt.Sprintf("shape %s has %d elements but the data has %d", shapeString(shape), n, count)}
	}
	return nil
}

// createTemp creates a new hidden file next to the target, with mode 0666
// before the umask. os.CreateTemp would create it with mode 0600.
func createTemp(dir, base string) (*os.File, error) {
	for range 10000 {
		name := filepath.Join(dir, "."+base+".tmp"+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("no unused temporary file name in %s after 10000 tries", dir)
}

// syncDir flushes the directory entry of a rename to disk. It is best
// effort: the file is already in place, and some file systems reject a
// sync on a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// write writes the header and data of a checked shape and data.
func write[T float32 | float64](w io.Writer, shape []int, data []T) error {
	size := itemSize[T]()
	descr := "<f" + strconv.Itoa(size)
	if _, err := w.Write(encodeHeader(descr, shape)); err != nil {
		return err
	}

	buf := make([]byte, min(size*len(data), chunkBytes))
	for start := 0; start < len(data); {
		count := min(len(data)-start, len(buf)/size)
		chunk := buf[:count*size]
		encode(chunk, data[start:start+count])
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		start += count
	}
	return nil
}

// itemSize returns the size of T in bytes.
func itemSize[T float32 | float64]() int {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return 4
	}
	return 8
}

// encode stores src in dst as little-endian items.
func encode[T float32 | float64](dst []byte, src []T) {
	switch s := any(src).(type) {
	case []float32:
		for i, v := range s {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case []float64:
		for i, v := range s {
			binary.LittleEndian.PutUint64(dst[8*i:], math.Float64bits(v))
		}
	}
}

// growthDigits is the width that NumPy 1.24 reserves for the first
// dimension of a C-order shape, padding the header with spaces so that the
// header can be rewritten in place when the array grows along that axis.
const growthDigits = 21

// headerAlign is the multiple that NumPy pads the magic string, version,
// length field and header to, so the data starts aligned.
const headerAlign = 64

// encodeHeader returns the magic string, version, header length and header
// for a C-order array, laid out byte for byte as NumPy 1.24 writes it:
// version 1.0 unless the header needs more than 65535 bytes.
func encodeHeader(descr string, shape []int) []byte {
	var dict strings.Builder
	fmt.Fprintf(&dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shapeString(shape))
	if len(shape) > 0 {
		dict.WriteString(strings.Repeat(" ", max(growthDigits-len(strconv.Itoa(shape[0])), 0)))
	}

	major, lenBytes := byte(1), 2
	textLen := dict.Len() + 1 // with the final newline
	pad := headerAlign - (len(magic)+2+lenBytes+textLen)%headerAlign
	if textLen+pad > math.MaxUint16 {
		major, lenBytes = 2, 4
		pad = headerAlign - (len(magic)+2+lenBytes+textLen)%headerAlign
	}

	out := make([]byte, 0, len(magic)+2+lenBytes+textLen+pad)
	out = append(out, magic...)
	out = append(out, major, 0)
	if lenBytes == 2 {
		out = binary.LittleEndian.AppendUint16(out, uint16(textLen+pad))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(textLen+pad))
	}
	out = append(out, dict.String()...)
	out = append(out, strings.Repeat(" ", pad)...)
	out = append(out, '\n')
	return out
}
