//go:build ignore

// gen_corpus writes the seed corpus of FuzzRead to fuzz/FuzzRead: every
// NumPy fixture in this directory, and broken variants of a few of them.
// Run it from this directory:
//
//	go run gen_corpus.go
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	dir := filepath.Join("fuzz", "FuzzRead")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	files, err := filepath.Glob("*.npy")
	if err != nil {
		log.Fatal(err)
	}
	seeds := map[string][]byte{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		seeds[strings.TrimSuffix(name, ".npy")] = data
	}

	f8 := seeds["f8_le"]
	seeds["broken_truncated_data"] = f8[:len(f8)-3]
	seeds["broken_truncated_header"] = f8[:40]
	seeds["broken_trailing_data"] = append(bytes.Clone(f8), 0, 1, 2)
	seeds["broken_magic"] = append([]byte("\x93NUMPZ"), f8[6:]...)
	seeds["broken_version"] = append(append([]byte("\x93NUMPY"), 9, 0), f8[8:]...)
	seeds["broken_no_newline"] = bytes.Replace(f8, []byte(" \n"), []byte("  "), 1)
	seeds["broken_shape"] = bytes.Replace(f8, []byte("(2, 5)"), []byte("(2,-5)"), 1)
	seeds["broken_huge_claim"] = bytes.Replace(f8, []byte("(2, 5), }"+strings.Repeat(" ", 12)), []byte("(1000000, 1000000), }"), 1)[:200]
	seeds["broken_fortran_truncated"] = seeds["f4_fortran_3d"][:len(seeds["f4_fortran_3d"])-7]
	seeds["broken_empty"] = nil

	for name, data := range seeds {
		text := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("wrote %d seeds to %s\n", len(seeds), dir)
}
