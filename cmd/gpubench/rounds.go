package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/spikessl/spikessl/cblas"
	"github.com/spikessl/spikessl/ssl"
)

// sample is the outcome of one run.
type sample struct {
	seconds float64
	loss    float64
	peak    int64
}

// runner runs one operation on one backend or peer, once per round.
type runner struct {
	record record
	// call runs the operation; warmUp is true in the first round, whose
	// time is not kept.
	call  func(warmUp bool) (sample, error)
	times []float64
}

// inProcess wraps op, a spikessl call, as a run. Garbage is collected
// outside the timing before every run. The warm-up run also returns the
// free heap to the operating system and resets the peak resident set, so
// that its peak is the call's own, and its sample carries that peak. The
// timed runs keep the heap, as repeated calls in a training loop do.
// Returning it before each run made every allocation of the next one fault
// its pages in again, which added 10% to 15% to the loss with gradients at
// 4096 × 128.
// Python frees each array when its last use ends, by reference counting,
// and the peers' allocator returns large arrays to the system, so their
// runs pay for their own memory in every round.
func inProcess(op func() (float64, error)) func(bool) (sample, error) {
	return func(warmUp bool) (sample, error) {
		runtime.GC()
		if warmUp {
			debug.FreeOSMemory()
			resetPeakRSS()
		}
		start := time.Now()
		loss, err := op()
		elapsed := time.Since(start).Seconds()
		s := sample{seconds: elapsed, loss: loss}
		if warmUp {
			s.peak = peakRSS()
		}
		return s, err
	}
}

// benchmark runs every configuration of cfg and writes the table, JSON and
// plot. The runs of one shape, spikessl's and the peers', take turns. Each
// round runs every operation once, so that all of them share the load of
// the machine alike. The first round is a warm-up.
func benchmark(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	var engines []engineInfo
	for _, name := range cfg.backends {
		e := openEngine(name)
		if e.err != nil {
			if !errors.Is(e.err, ssl.ErrNoDevice) {
				return fmt.Errorf("opening the %s backend: %w", name, e.err)
			}
			fmt.Fprintf(stderr, "gpubench: %s backend unavailable, skipping it: %v\n", name, e.err)
		} else {
			defer e.engine.Close()
		}
		engines = append(engines, e)
	}
	printEngines(stdout, engines)
	var peak cpuPeak
	if slices.ContainsFunc(engines, func(e engineInfo) bool { return e.name == "cpu" && e.err == nil }) || cfg.peers {
		peak = measureCPUPeak(threads())
		printPeak(stdout, peak)
	}

	var active []activePeer
	var peerDir string
	if cfg.peers {
		cfg.peerCoreType = peerCoreType(cfg.peerCoreType)
		fmt.Fprintf(stdout, "peers: %s=%s, %d threads\n", cblas.CoreTypeEnvVar, orDash(cfg.peerCoreType), threads())
		var err error
		if peerDir, err = os.MkdirTemp("", "gpubench-"); err != nil {
			return fmt.Errorf("creating a directory for the peer inputs: %w", err)
		}
		defer os.RemoveAll(peerDir)
		if err := os.CopyFS(peerDir, peerScripts); err != nil {
			return fmt.Errorf("writing the peer scripts to %s: %w", peerDir, err)
		}
		for _, p := range peers {
			python, err := findPython(ctx, cfg.python, p.module)
			if err != nil {
				fmt.Fprintf(stderr, "gpubench: %s peer skipped: %v\n", p.name, err)
				continue
			}
			active = append(active, activePeer{peer: p, python: python, script: filepath.Join(peerDir, "peers", p.script)})
		}
	}

	var records []record
	for _, precision := range cfg.precisions {
		for _, features := range cfg.features {
			for _, batch := range cfg.batches {
				var shape []record
				var err error
				if precision == "float32" {
					shape, err = runShape[float32](ctx, cfg, engines, active, peerDir, batch, features, precision)
				} else {
					shape, err = runShape[float64](ctx, cfg, engines, active, peerDir, batch, features, precision)
				}
				for _, r := range shape {
					printProgress(stderr, r)
				}
				for i := range shape {
					if shape[i].onCPU() {
						shape[i].CPUPeakGFLOPS = peak.forPrecision(precision)
					}
				}
				records = append(records, shape...)
				if err != nil {
					return err
				}
			}
		}
	}

	printTable(stdout, records)
	if cfg.jsonPath != "" {
		if err := writeJSON(cfg.jsonPath, records); err != nil {
			return err
		}
	}
	if cfg.plotPath != "" {
		if err := writePlot(cfg.plotPath, records); err != nil {
			return err
		}
	}
	for _, r := range records {
		if r.Error != "" && !r.peer() && r.Op != "sgemm" {
			return fmt.Errorf("%s failed: %s", r.Name, r.Error)
		}
	}
	return nil
}

// activePeer is a peer whose interpreter was found.
type activePeer struct {
	peer   peer
	python string
	script string
}

// runShape runs every operation of cfg on one shape, on each engine and
// peer, in rounds, and returns one record per operation and backend.
func runShape[T ssl.Float](ctx context.Context, cfg config, engines []engineInfo, active []activePeer, peerDir string, batch, features int, precision string) ([]record, error) {
	a, b := views[T](batch, features)
	var runners []*runner
	var failed []record
	for _, op := range cfg.ops {
		for _, e := range engines {
			if e.err != nil || (op == "sgemm" && e.name != "cpu") {
				continue
			}
			r := record{
				Name: benchmarkName(op, e.name, batch, features, precision),
				Op:   op, Backend: e.name, Device: e.device, Driver: e.driver, BLAS: e.blas,
				Batch: batch, Features: features, Precision: precision, Threads: threads(),
				cpuDevice: e.cpuDevice,
			}
			call, err := operation(e.engine, op, a, b, batch, features, cfg.temperature)
			if err != nil {
				r.Error = err.Error()
				failed = append(failed, r)
				continue
			}
			runners = append(runners, &runner{record: r, call: inProcess(call)})
		}
	}

	// Peers hold the batch × batch matrix: they run only up to peerMaxBatch.
	if len(active) > 0 && batch <= cfg.peerMaxBatch {
		aPath, bPath, err := writeViews(peerDir, batch, features, precision)
		if err != nil {
			return nil, err
		}
		peerCtx, cancel := context.WithTimeout(ctx, cfg.peerTimeout)
		defer cancel()
		for _, ap := range active {
			ops := intersect(cfg.ops, ap.peer.ops)
			if len(ops) == 0 {
				continue
			}
			proc, err := startPeer(peerCtx, cfg, ap, aPath, bPath)
			for _, op := range ops {
				r := record{
					Name: benchmarkName(op, ap.peer.name, batch, features, precision),
					Op:   op, Backend: ap.peer.name, Device: cpuModel(),
					Batch: batch, Features: features, Precision: precision, Threads: threads(),
				}
				if err != nil {
					r.Error = err.Error()
					failed = append(failed, r)
					continue
				}
				r.Device = fmt.Sprintf("%s %s (%s)", proc.hello.Peer, proc.hello.Version, ap.python)
				r.BLAS = proc.hello.BLAS
				runners = append(runners, &runner{record: r, call: proc.request(op)})
			}
			if err == nil {
				defer proc.close()
			}
		}
	}

	for _, step := range schedule(len(runners), cfg.repeat+1, cfg.sequential) {
		rn := runners[step.runner]
		if rn.record.Error != "" {
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cfg.settle):
		}
		s, err := rn.call(step.round == 0)
		if err != nil {
			rn.record.Error = err.Error()
			continue
		}
		rn.record.Loss = s.loss
		rn.record.PeakRSSBytes = max(rn.record.PeakRSSBytes, s.peak)
		if step.round > 0 {
			rn.times = append(rn.times, s.seconds)
		}
	}

	records := failed
	for _, rn := range runners {
		if rn.record.Error == "" {
			rn.record.summarize(rn.times)
		}
		records = append(records, rn.record)
	}
	return records, nil
}

func intersect(list, allowed []string) []string {
	var out []string
	for _, s := range list {
		if contains(allowed, s) {
			out = append(out, s)
		}
	}
	return out
}

// peerProcess is a running peer script serving requests.
type peerProcess struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *bytes.Buffer
	hello  peerHello
}

// startPeer starts a peer script on the views at aPath and bPath and waits
// until it is ready. ctx bounds the life of the process.
func startPeer(ctx context.Context, cfg config, ap activePeer, aPath, bPath string) (*peerProcess, error) {
	cmd := exec.CommandContext(ctx, ap.python, ap.script,
		"--a", aPath, "--b", bPath,
		"--temperature", strconv.FormatFloat(cfg.temperature, 'g', -1, 64),
		"--threads", strconv.Itoa(threads()))
	cmd.Env = os.Environ()
	if _, set := os.LookupEnv(cblas.CoreTypeEnvVar); !set && cfg.peerCoreType != "" {
		cmd.Env = append(cmd.Env, cblas.CoreTypeEnvVar+"="+cfg.peerCoreType)
	}

	p := &peerProcess{name: ap.peer.name, cmd: cmd, stderr: new(bytes.Buffer)}
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("starting the %s peer: %w", p.name, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the %s peer: %w", p.name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the %s peer with %s: %w", p.name, ap.python, err)
	}

	p.lines = bufio.NewScanner(stdout)
	line, err := p.readLine()
	if err != nil {
		p.close()
		return nil, err
	}
	if err := json.Unmarshal(line, &p.hello); err != nil || p.hello.Peer == "" {
		p.close()
		return nil, fmt.Errorf("the %s peer printed %q in place of its ready line", p.name, line)
	}
	return p, nil
}

// readLine returns the next line the peer prints, or an error with the
// last line of its stderr when it exits or times out.
func (p *peerProcess) readLine() ([]byte, error) {
	if p.lines.Scan() {
		return p.lines.Bytes(), nil
	}
	err := p.lines.Err()
	if waitErr := p.cmd.Wait(); waitErr != nil {
		err = waitErr
	}
	if ctxErr := p.cmd.Err; ctxErr != nil {
		err = ctxErr
	}
	return nil, fmt.Errorf("the %s peer stopped: %s", p.name, lastLine(p.stderr.Bytes(), err))
}

// request returns a function that runs op once in the peer.
func (p *peerProcess) request(op string) func(bool) (sample, error) {
	return func(bool) (sample, error) {
		if _, err := io.WriteString(p.stdin, op+"\n"); err != nil {
			return sample{}, fmt.Errorf("sending %q to the %s peer: %w", op, p.name, err)
		}
		line, err := p.readLine()
		if err != nil {
			return sample{}, err
		}
		var reply peerReply
		if err := json.Unmarshal(line, &reply); err != nil {
			return sample{}, fmt.Errorf("the %s peer printed %q in place of a result", p.name, line)
		}
		if reply.Error != "" {
			return sample{}, fmt.Errorf("the %s peer failed: %s", p.name, reply.Error)
		}
		return sample{seconds: reply.Seconds, loss: reply.Loss, peak: reply.PeakRSSBytes}, nil
	}
}

// close ends the peer's input and waits for it to exit.
func (p *peerProcess) close() {
	p.stdin.Close()
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Wait()
	}
}

// step is one run in a schedule: runner's run number round, where round 0
// is the warm-up.
type step struct{ runner, round int }

// schedule returns the order of the runs of one shape: round by round
// across the runners, or, when sequential, all rounds of one runner
// before the next runner's.
func schedule(runners, rounds int, sequential bool) []step {
	var steps []step
	if sequential {
		for r := range runners {
			for round := range rounds {
				steps = append(steps, step{r, round})
			}
		}
		return steps
	}
	for round := range rounds {
		for r := range runners {
			steps = append(steps, step{r, round})
		}
	}
	return steps
}
