// Command gpubench times spikessl's InfoNCE loss, its gradients and the
// CSDP update on each backend, optionally beside NumPy and PyTorch peers run
// on the same inputs, and writes the results as a table, JSON and a plot.
//
// Usage:
//
//	gpubench [--ops loss,grad,csdp,sgemm] [--batch 1024,4096,8192] [--features 128,256]
//	         [--backends cpu,opencl] [--precision float32] [--repeat N]
//	         [--json FILE] [--plot FILE.png] [--peers]
//
// Every configuration runs once to warm up and then --repeat times; the
// table reports the median, min and max. The runs of one shape take turns
// across its operations, backends and peers, round by round, so that a
// change in the machine's load affects them all alike. --sequential runs
// each one's repeats back to back instead, which lets a peer find its data
// still in cache from its previous run. GFLOP/s counts 2·batch²·features
// for each batch × batch product an operation needs at the least: one for
// the loss, three for the loss with both gradients. The CSDP step counts
// its two outer products, 4·batch·features² with nPre = nPost = features.
// The sgemm operation times the batch × batch product of the views alone
// with the CPU backend's BLAS on every thread, so that the table can
// compare the whole loss with the product it is built on.
// Peak memory is the process's peak resident set (VmHWM) during the
// configuration, reset before it. The names are those of the go test
// benchmarks in package cpu, for example
// op=loss/backend=cpu/batch=4096/features=128/precision=float32.
//
// With --peers, the scripts in peers/, embedded in the binary, time the
// same operations in NumPy and PyTorch when a python3 with those modules
// is found. NumPy computes the loss from the full batch × batch matrix.
// PyTorch computes the loss, and the loss with its backward pass. The
// table shows the time of each spikessl row divided by the peer's.
//
// Exit status: 0 on success, 1 when a benchmark fails, 2 on invalid flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errUsage marks errors in the command line (exit status 2).
var errUsage = errors.New("invalid usage")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// config is the parsed command line.
type config struct {
	ops          []string
	batches      []int
	features     []int
	backends     []string
	precisions   []string
	repeat       int
	temperature  float64
	jsonPath     string
	plotPath     string
	peers        bool
	python       string
	peerMaxBatch int
	peerTimeout  time.Duration
	peerCoreType string
	settle       time.Duration
	sequential   bool
}

var (
	validOps        = []string{"loss", "grad", "csdp", "sgemm"}
	validBackends   = []string{"cpu", "opencl"}
	validPrecisions = []string{"float32", "float64"}
)

const usageLine = "usage: gpubench [--ops loss,grad,csdp,sgemm] [--batch 1024,4096,8192] [--features 128,256] " +
	"[--backends cpu,opencl] [--precision float32] [--repeat N] [--json FILE] [--plot FILE.png] [--peers]"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes gpubench with args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gpubench: %v\n%s\n", err, usageLine)
		return 2
	}
	if err := benchmark(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "gpubench: %v\n", err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func parseArgs(args []string, stdout io.Writer) (config, error) {
	fs := flag.NewFlagSet("gpubench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	ops := fs.String("ops", "loss,grad,sgemm", "operations to time, comma-separated: loss, grad (loss and both gradients), csdp (one CSDP step), sgemm (the batch × batch product alone, on the cpu backend's BLAS with every thread)")
	batches := fs.String("batch", "1024,4096,8192", "batch sizes (rows of each view), comma-separated")
	features := fs.String("features", "128,256", "feature counts (columns of each view), comma-separated")
	backends := fs.String("backends", "cpu,opencl", "spikessl backends, comma-separated: cpu, opencl")
	precisions := fs.String("precision", "float32", "element types, comma-separated: float32, float64")
	var cfg config
	fs.IntVar(&cfg.repeat, "repeat", 5, "timed runs of each configuration, after one warm-up run")
	fs.Float64Var(&cfg.temperature, "temperature", 0.1, "InfoNCE temperature")
	fs.StringVar(&cfg.jsonPath, "json", "", "write the results to this file as a JSON list of records")
	fs.StringVar(&cfg.plotPath, "plot", "", "draw the median time against batch size into this PNG file")
	fs.BoolVar(&cfg.peers, "peers", false, "time the NumPy and PyTorch peers on the same inputs, when python3 has them")
	fs.StringVar(&cfg.python, "python", "", "Python interpreter for the peers (default: the first of python3 on PATH and /usr/bin/python3 that has the module)")
	fs.IntVar(&cfg.peerMaxBatch, "peer-max-batch", 16384, "largest batch the peers run: they hold the batch × batch matrix in memory")
	fs.DurationVar(&cfg.peerTimeout, "peer-timeout", 10*time.Minute, "time limit for a peer process, which serves every run of one shape")
	fs.BoolVar(&cfg.sequential, "sequential", false, "run all repeats of one operation and backend back to back, instead of taking turns round by round")
	fs.DurationVar(&cfg.settle, "settle", 250*time.Millisecond, "pause before each run, so that the idle BLAS and OpenMP threads of the previous run, which poll for work for a while, have stopped")
	fs.StringVar(&cfg.peerCoreType, "peer-coretype", "same", "OPENBLAS_CORETYPE for the peers: same (the kernels spikessl's OpenBLAS uses), detect (OpenBLAS's own detection), or a kernel family such as Haswell")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usageLine)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return config{}, err
		}
		return config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return config{}, usagef("unexpected argument %q", fs.Arg(0))
	}

	var err error
	if cfg.ops, err = parseChoices("--ops", *ops, validOps); err != nil {
		return config{}, err
	}
	if cfg.backends, err = parseChoices("--backends", *backends, validBackends); err != nil {
		return config{}, err
	}
	if cfg.precisions, err = parseChoices("--precision", *precisions, validPrecisions); err != nil {
		return config{}, err
	}
	if cfg.batches, err = parseSizes("--batch", *batches); err != nil {
		return config{}, err
	}
	if cfg.features, err = parseSizes("--features", *features); err != nil {
		return config{}, err
	}
	if cfg.repeat < 1 {
		return config{}, usagef("--repeat is %d, must be at least 1", cfg.repeat)
	}
	if !(cfg.temperature > 0) || cfg.temperature > 1e300 {
		return config{}, usagef("--temperature is %v, must be finite and > 0", cfg.temperature)
	}
	if cfg.peerCoreType == "" {
		return config{}, usagef("--peer-coretype is empty, must be same, detect or a kernel family")
	}
	if cfg.settle < 0 {
		return config{}, usagef("--settle is %v, must not be negative", cfg.settle)
	}
	if cfg.peerTimeout <= 0 {
		return config{}, usagef("--peer-timeout is %v, must be positive", cfg.peerTimeout)
	}
	if cfg.plotPath != "" && !strings.EqualFold(fileExt(cfg.plotPath), ".png") {
		return config{}, usagef("--plot %q must name a .png file", cfg.plotPath)
	}
	// Check the output files now, not after minutes of benchmarks.
	for _, out := range []struct{ flag, path string }{{"json", cfg.jsonPath}, {"plot", cfg.plotPath}} {
		if out.path == "" {
			continue
		}
		if dir := filepath.Dir(out.path); !isDir(dir) {
			return config{}, usagef("--%s %s: directory %s does not exist", out.flag, out.path, dir)
		}
		if isDir(out.path) {
			return config{}, usagef("--%s %s is a directory, must be a file name", out.flag, out.path)
		}
	}
	return cfg, nil
}

// parseChoices splits a comma-separated list and checks each item against
// valid, dropping repeats.
func parseChoices(flagName, list string, valid []string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if !slices.Contains(valid, item) {
			return nil, usagef("%s: %q is not one of %s", flagName, item, strings.Join(valid, ", "))
		}
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out, nil
}

// parseSizes splits a comma-separated list of positive integers, sorted
// and without repeats.
func parseSizes(flagName, list string) ([]int, error) {
	var out []int
	for item := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(item))
		if err != nil || n < 1 {
			return nil, usagef("%s: %q is not a positive integer", flagName, item)
		}
		if n > 1<<24 {
			return nil, usagef("%s: %d is larger than the limit of %d", flagName, n, 1<<24)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func fileExt(path string) string {
	i := strings.LastIndexByte(path, '.')
	if i < 0 || strings.ContainsRune(path[i:], os.PathSeparator) {
		return ""
	}
	return path[i:]
}

// threads returns the number of threads spikessl and the peers may use.
func threads() int { return runtime.GOMAXPROCS(0) }

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}
