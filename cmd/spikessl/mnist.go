package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/spikessl/spikessl/mnist"
	"github.com/spikessl/spikessl/npyfile"
	"github.com/spikessl/spikessl/probe"
	"github.com/spikessl/spikessl/snn"
	"github.com/spikessl/spikessl/ssl"
)

func init() {
	register(command{
		name:    "mnist",
		summary: "train a spiking encoder on MNIST without labels and score it with a linear probe",
		run:     runMNIST,
	})
}

// mnistResults is the content of results.json. Accuracies are fractions
// of the test set.
type mnistResults struct {
	Method       string              `json:"method"`
	Hidden       int                 `json:"hidden"`
	Steps        int                 `json:"steps"`
	Epochs       int                 `json:"epochs"`
	Batch        int                 `json:"batch"`
	Seed         uint64              `json:"seed"`
	Backend      string              `json:"backend"`
	Device       string              `json:"device"`
	Seconds      float64             `json:"seconds"`
	LossPerEpoch []float64           `json:"loss_per_epoch"`
	Accuracy     accuracy            `json:"accuracy"`
	Baselines    map[string]accuracy `json:"baselines"`
	TrainImages  int                 `json:"train_images"`
	TestImages   int                 `json:"test_images"`
	Weights      string              `json:"weights"`
	Config       snn.Config          `json:"config"`
	StageSeconds map[string]float64  `json:"stage_seconds"`
}

// accuracy is the test accuracy of a linear probe fitted with all
// training labels and with 100 labels (10 per class).
type accuracy struct {
	AllLabels float64 `json:"all_labels"`
	Labels100 float64 `json:"labels_100"`
}

// mnistRequest is the parsed command line of the mnist command.
type mnistRequest struct {
	data, out, backend string
	config             snn.Config
	epochs, limit      int
	resume             bool
	set                map[string]bool
}

const mnistUsage = "[--data DIR] [--method infonce|csdp|csdp-plain] [--hidden H] [--steps T] [--epochs E] [--batch N] [--seed S] [--out DIR] [--resume] [--backend B] [--limit N]"

// Defaults of the mnist command: the make demo run.
const (
	defaultMNISTEpochs = 6
	checkpointName     = "checkpoint.gob"
)

func parseMNIST(env *environment, args []string) (*mnistRequest, error) {
	fs := newFlagSet(env, "mnist", mnistUsage)
	req := &mnistRequest{set: map[string]bool{}}
	def := snn.DefaultConfig(snn.InfoNCE)
	fs.StringVar(&req.data, "data", "", "folder of the four MNIST IDX files, plain or .gz (default: the data folder of the Go module "+mnist.GoMNISTModule+" in the module cache)")
	method := fs.String("method", string(snn.InfoNCE), "training method: infonce, csdp (goodness-modulated rule) or csdp-plain (plain rule)")
	hidden := fs.Int("hidden", 0, fmt.Sprintf("number of spiking neurons H (default %d for infonce, %d for csdp)", def.Layer.Hidden, snn.DefaultConfig(snn.CSDP).Layer.Hidden))
	steps := fs.Int("steps", def.Layer.Steps, "number of time steps T of each spike train")
	fs.IntVar(&req.epochs, "epochs", defaultMNISTEpochs, "number of passes over the training images")
	batch := fs.Int("batch", def.Batch, "images per update")
	seed := fs.Uint64("seed", def.Seed, "seed of the initial weights and of every random draw")
	fs.StringVar(&req.out, "out", "", "output folder (default runs/mnist-METHOD)")
	fs.BoolVar(&req.resume, "resume", false, "continue from the checkpoint in --out")
	fs.StringVar(&req.backend, "backend", "auto", "where ssl computes: auto, cpu or opencl")
	fs.IntVar(&req.limit, "limit", 0, "use only the first N training and N test images (0: all), for quick runs")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { req.set[f.Name] = true })

	m, err := snn.ParseMethod(*method)
	if err != nil {
		return nil, usagef("--method %q is invalid: must be infonce, csdp or csdp-plain", *method)
	}
	req.config = snn.DefaultConfig(m)
	if req.set["hidden"] {
		req.config.SetHidden(*hidden)
	}
	req.config.Layer.Steps = *steps
	req.config.Batch = *batch
	req.config.Seed = *seed
	req.config.Epochs = req.epochs
	switch {
	case req.epochs < 1:
		return nil, usagef("--epochs is %d, must be at least 1", req.epochs)
	case req.limit < 0:
		return nil, usagef("--limit is %d, must be ≥ 0", req.limit)
	}
	if err := req.config.Check(); err != nil {
		return nil, asUsage(err)
	}
	if _, err := ssl.ParseBackendKind(req.backend); err != nil {
		return nil, usagef("--backend %q is invalid: must be auto, cpu or opencl", req.backend)
	}
	if req.out == "" {
		req.out = filepath.Join("runs", "mnist-"+string(m))
	}
	return req, nil
}

func runMNIST(ctx context.Context, env *environment, args []string) error {
	start := time.Now()
	req, err := parseMNIST(env, args)
	if err != nil {
		return err
	}
	kind, _ := ssl.ParseBackendKind(req.backend)
	engine, err := ssl.New(ssl.Options{Backend: kind, Logger: env.logger})
	if err != nil {
		return err
	}
	defer engine.Close()

	dir := req.data
	if dir == "" {
		if dir, err = mnist.FindGoMNIST(ctx); err != nil {
			return fmt.Errorf("%w; or pass --data DIR", err)
		}
	}
	train, test, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	if req.limit > 0 {
		train, test = train.Subset(req.limit), test.Subset(req.limit)
	}
	if train.Rows*train.Cols != req.config.Layer.Inputs {
		return fmt.Errorf("images in %s are %d × %d pixels, the encoder expects 28 × 28", dir, train.Rows, train.Cols)
	}
	if err := os.MkdirAll(req.out, 0o777); err != nil {
		return err
	}
	env.logger.Debug("mnist: data loaded", "dir", dir, "train", train.N, "test", test.N)

	// earlier is the training time of the runs that this one resumes.
	fingerprint := dataFingerprint(train)
	trainer, earlier, err := startTrainer(req, engine, env, fingerprint)
	if err != nil {
		return err
	}
	images := snn.Images{Pixels: train.Images, N: train.N, Rows: train.Rows, Cols: train.Cols}
	trainStart := time.Now()
	extra := func() map[string]float64 {
		return map[string]float64{"seconds": earlier + time.Since(trainStart).Seconds(), "training_data": fingerprint}
	}
	trainErr := trainEpochs(ctx, env, req, trainer, images, extra)
	trained := earlier + time.Since(trainStart).Seconds()
	checkpoint := filepath.Join(req.out, checkpointName)
	if err := trainer.Save(checkpoint, extra()); err != nil {
		return err
	}
	if trainErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w at epoch %d, batch %d; checkpoint saved to %s, run again with --resume to continue", errInterrupted, trainer.Epoch+1, trainer.Batch, checkpoint)
		}
		return trainErr
	}

	res, err := evaluateMNIST(ctx, env, req, trainer, train, test)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w during evaluation; the trained encoder is saved in %s, run again with --resume to evaluate it", errInterrupted, checkpoint)
		}
		return err
	}
	res.StageSeconds["training"] = trained
	res.TrainImages, res.TestImages = train.N, test.N
	res.Seconds = earlier + time.Since(start).Seconds()
	return writeMNISTResults(env, req, trainer, res)
}

// startTrainer returns a new trainer, or with --resume the one in the
// checkpoint and the training seconds that it records. Flags given with
// --resume must match the checkpoint, because the learning rate schedule
// and every random draw depend on them.
func startTrainer(req *mnistRequest, engine *ssl.Engine, env *environment, fingerprint float64) (*snn.Trainer, float64, error) {
	path := filepath.Join(req.out, checkpointName)
	if !req.resume {
		if _, err := os.Stat(path); err == nil {
			env.logger.Warn("mnist: starting afresh; the checkpoint in the output folder will be replaced", "checkpoint", path)
		}
		t, err := snn.NewTrainer(req.config, engine)
		return t, 0, err
	}
	t, extra, err := snn.LoadTrainer(path, engine)
	if err != nil {
		return nil, 0, fmt.Errorf("--resume: %w", err)
	}
	saved := t.Config
	for _, f := range []struct {
		name          string
		saved, wanted any
	}{
		{"method", saved.Method, req.config.Method},
		{"hidden", saved.Layer.Hidden, req.config.Layer.Hidden},
		{"steps", saved.Layer.Steps, req.config.Layer.Steps},
		{"batch", saved.Batch, req.config.Batch},
		{"seed", saved.Seed, req.config.Seed},
		{"epochs", saved.Epochs, req.config.Epochs},
	} {
		if req.set[f.name] && f.saved != f.wanted {
			return nil, 0, usagef("--%s is %v but the checkpoint %s was trained with %v; omit the flag or start afresh without --resume", f.name, f.wanted, path, f.saved)
		}
	}
	if saved, ok := extra["training_data"]; ok && saved != fingerprint {
		return nil, 0, usagef("the training images differ from those of the checkpoint %s; give the same --data and --limit as the interrupted run", path)
	}
	req.config = saved
	req.epochs = saved.Epochs
	env.logger.Info("mnist: resuming", "checkpoint", path, "epoch", t.Epoch+1, "batch", t.Batch)
	return t, extra["seconds"], nil
}

// trainEpochs trains until req.epochs epochs are done, saving a checkpoint
// with the values of extra after each, and shows the progress on stderr.
func trainEpochs(ctx context.Context, env *environment, req *mnistRequest, t *snn.Trainer, images snn.Images, extra func() map[string]float64) error {
	perEpoch := t.BatchesPerEpoch(images.N)
	total := req.epochs * perEpoch
	done := t.Epoch*perEpoch + t.Batch
	bar := newProgress(env.stderr, total, done, "training", "batches")
	defer bar.finish()
	for t.Epoch < req.epochs {
		epochStart := time.Now()
		bar.describe(fmt.Sprintf("epoch %d/%d", t.Epoch+1, req.epochs))
		if err := t.TrainEpoch(ctx, images, bar.add); err != nil {
			return err
		}
		loss := t.Losses[len(t.Losses)-1]
		bar.line(fmt.Sprintf("epoch %d/%d: loss %.4f, %.0f s", t.Epoch, req.epochs, loss, time.Since(epochStart).Seconds()))
		if err := t.Save(filepath.Join(req.out, checkpointName), extra()); err != nil {
			return err
		}
	}
	return nil
}

// progress is a progress bar with rate and time left on a terminal, and
// plain lines elsewhere.
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	total int
	done  int
	// first is done at the start of this run, so that the rate counts
	// only the units of this run.
	first int
	name  string
	unit  string
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total, done int, name, unit string) *progress {
	p := &progress{w: w, total: total, done: done, first: done, name: name, unit: unit, start: time.Now(), last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(200*time.Millisecond),
		)
		_ = p.bar.Set(done)
	}
	return p
}

func (p *progress) describe(s string) {
	p.name = s
	if p.bar != nil {
		p.bar.Describe(s)
	}
}

// add counts one finished unit. Without a terminal it prints a plain line
// at most every 30 seconds.
func (p *progress) add() {
	p.done++
	if p.bar != nil {
		_ = p.bar.Add(1)
		return
	}
	if time.Since(p.last) >= 30*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.w, "%s: %d/%d %s, %s left\n", p.name, p.done, p.total, p.unit, p.eta())
	}
}

// eta estimates the time left from the rate so far in this run.
func (p *progress) eta() time.Duration {
	elapsed := time.Since(p.start)
	if p.done == p.first || elapsed <= 0 {
		return 0
	}
	rate := float64(p.done-p.first) / elapsed.Seconds()
	return time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second)
}

// line prints a line that stays above the bar.
func (p *progress) line(s string) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(p.w, s)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// Streams of the probe: feature draws of the training and the test set,
// and the choice of the 100 labelled images.
const (
	featureSetTrain = 0
	featureSetTest  = 1
	labelsPerClass  = 10
)

// evaluateMNIST fits the probes on the trained encoder and on the two
// baselines and returns the results without the training fields.
func evaluateMNIST(ctx context.Context, env *environment, req *mnistRequest, t *snn.Trainer, train, test *mnist.Set) (*mnistResults, error) {
	res := &mnistResults{Baselines: map[string]accuracy{}, StageSeconds: map[string]float64{}}
	few, err := fewLabels(train.Labels, labelsPerClass, req.config.Seed)
	if err != nil {
		return nil, err
	}
	untrained, err := snn.NewEncoder(req.config.Layer, req.config.Seed)
	if err != nil {
		return nil, err
	}
	models := []struct {
		name    string
		encoder *snn.Encoder
		into    func(accuracy)
	}{
		{"trained encoder", t.Encoder, func(a accuracy) { res.Accuracy = a }},
		{"untrained encoder", untrained, func(a accuracy) { res.Baselines["untrained_encoder"] = a }},
		{"pixels", nil, func(a accuracy) { res.Baselines["pixels"] = a }},
	}
	for _, m := range models {
		stage := time.Now()
		var trainX, testX []float32
		width := train.Pixels()
		if m.encoder == nil {
			trainX, testX = pixelFeatures(train), pixelFeatures(test)
		} else {
			width = m.encoder.Hidden
			bar := newProgress(env.stderr, train.N+test.N, 0, "features: "+m.name, "images")
			trainX, err = m.encoder.Features(ctx, asImages(train), req.config.Seed, featureSetTrain, bar.addUpTo)
			if err == nil {
				testX, err = m.encoder.Features(ctx, asImages(test), req.config.Seed, featureSetTest, func(done int) { bar.addUpTo(train.N + done) })
			}
			bar.finish()
			if err != nil {
				return nil, err
			}
		}
		features := time.Since(stage).Seconds()
		a, err := probeAccuracy(ctx, trainX, testX, width, train, test, few, req.config.Seed)
		if err != nil {
			return nil, fmt.Errorf("probe on the %s: %w", m.name, err)
		}
		m.into(a)
		key := m.name
		res.StageSeconds["features: "+key] = features
		res.StageSeconds["probes: "+key] = time.Since(stage).Seconds() - features
		env.logger.Debug("mnist: probed", "model", m.name, "all_labels", a.AllLabels, "labels_100", a.Labels100, "seconds", time.Since(stage).Seconds())
		fmt.Fprintf(env.stderr, "probe on the %s: %.2f%% with all labels, %.2f%% with 100 labels (%.0f s)\n", m.name, 100*a.AllLabels, 100*a.Labels100, time.Since(stage).Seconds())
	}
	return res, nil
}

// addUpTo sets the count to done.
func (p *progress) addUpTo(done int) {
	for p.done < done {
		p.add()
	}
}

func asImages(s *mnist.Set) snn.Images {
	return snn.Images{Pixels: s.Images, N: s.N, Rows: s.Rows, Cols: s.Cols}
}

// dataFingerprint returns the FNV-1a hash (32 bits, exact in a float64) of
// the training images and labels, which a checkpoint records so that
// --resume can reject other data.
func dataFingerprint(s *mnist.Set) float64 {
	h := fnv.New32a()
	h.Write(s.Images)
	h.Write(s.Labels)
	return float64(h.Sum32())
}

// pixelFeatures returns the pixel intensities in [0, 1].
func pixelFeatures(s *mnist.Set) []float32 {
	x := make([]float32, len(s.Images))
	for i, v := range s.Images {
		x[i] = float32(v) / 255
	}
	return x
}

// fewLabels returns the indices of perClass training images of each class,
// the first ones in an order drawn from seed.
func fewLabels(labels []uint8, perClass int, seed uint64) ([]int, error) {
	order := rand.New(rand.NewPCG(seed, 0x6c6162656c73)).Perm(len(labels))
	count := make([]int, 10)
	var picked []int
	for _, i := range order {
		if l := labels[i]; count[l] < perClass {
			count[l]++
			picked = append(picked, i)
		}
	}
	for class, n := range count {
		if n < perClass {
			return nil, fmt.Errorf("the training set has %d images of digit %d, the 100-label probe needs %d", n, class, perClass)
		}
	}
	return picked, nil
}

// probeAccuracy fits a probe with all training labels and one with the
// labels of the images in few, and returns their test accuracies.
func probeAccuracy(ctx context.Context, trainX, testX []float32, width int, train, test *mnist.Set, few []int, seed uint64) (accuracy, error) {
	opt := probe.DefaultOptions(train.N)
	opt.Seed = seed
	model, err := probe.Fit(ctx, trainX, train.N, width, train.Labels, 10, opt)
	if err != nil {
		return accuracy{}, err
	}
	var a accuracy
	if a.AllLabels, err = model.Accuracy(testX, test.N, test.Labels); err != nil {
		return accuracy{}, err
	}

	fewX := make([]float32, 0, len(few)*width)
	fewLabels := make([]uint8, 0, len(few))
	for _, i := range few {
		fewX = append(fewX, trainX[i*width:(i+1)*width]...)
		fewLabels = append(fewLabels, train.Labels[i])
	}
	opt = probe.DefaultOptions(len(few))
	opt.Seed = seed
	if model, err = probe.Fit(ctx, fewX, len(few), width, fewLabels, 10, opt); err != nil {
		return accuracy{}, err
	}
	if a.Labels100, err = model.Accuracy(testX, test.N, test.Labels); err != nil {
		return accuracy{}, err
	}
	return a, nil
}

// writeMNISTResults completes res with the training fields, writes
// results.json, the encoder's weights and results.png into req.out, and
// prints the table.
func writeMNISTResults(env *environment, req *mnistRequest, t *snn.Trainer, res *mnistResults) error {
	c := t.Config
	res.Method = string(c.Method)
	res.Hidden, res.Steps, res.Batch, res.Seed = c.Layer.Hidden, c.Layer.Steps, c.Batch, c.Seed
	res.Epochs = t.Epoch
	res.Backend, res.Device = t.Backend, t.Device
	res.LossPerEpoch = t.Losses
	res.Config = c
	res.Weights = "encoder_weights.npy"

	enc := t.Encoder
	if err := npyfile.WriteFile(filepath.Join(req.out, res.Weights), []int{enc.Hidden, enc.Inputs}, enc.WeightsPostPre()); err != nil {
		return err
	}
	if err := npyfile.WriteFile(filepath.Join(req.out, "encoder_bias.npy"), []int{enc.Hidden}, enc.Bias); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(req.out, "results.json"), append(data, '\n')); err != nil {
		return err
	}
	if err := plotMNIST(filepath.Join(req.out, "results.png"), res); err != nil {
		return err
	}
	printMNISTTable(env.stdout, res)
	fmt.Fprintf(env.stdout, "results, weights and plot in %s (%.0f s)\n", req.out, res.Seconds)
	return nil
}

// printMNISTTable prints the accuracies as percentages.
func printMNISTTable(w io.Writer, res *mnistResults) {
	fmt.Fprintf(w, "MNIST linear probe, test accuracy (H=%d, T=%d, %d epochs, seed %d)\n", res.Hidden, res.Steps, res.Epochs, res.Seed)
	fmt.Fprintf(w, "%-28s %12s %12s\n", "features", "all labels", "100 labels")
	rows := []struct {
		name string
		a    accuracy
	}{
		{"spiking encoder, " + res.Method, res.Accuracy},
		{"untrained encoder", res.Baselines["untrained_encoder"]},
		{"raw pixels", res.Baselines["pixels"]},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-28s %11.2f%% %11.2f%%\n", r.name, 100*r.a.AllLabels, 100*r.a.Labels100)
	}
}

// writeFileAtomic writes data to a temporary file in path's folder and
// renames it over path.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// plotMNIST draws the loss per epoch and the probe accuracies side by
// side into a PNG file at path.
func plotMNIST(path string, res *mnistResults) error {
	loss := plot.New()
	loss.Title.Text = res.Method + " training loss"
	loss.X.Label.Text = "epoch"
	loss.Y.Label.Text = "mean loss"
	points := make(plotter.XYs, len(res.LossPerEpoch))
	for i, l := range res.LossPerEpoch {
		points[i] = plotter.XY{X: float64(i + 1), Y: l}
	}
	if len(points) > 0 {
		line, dots, err := plotter.NewLinePoints(points)
		if err != nil {
			return fmt.Errorf("plotting the loss: %w", err)
		}
		loss.Add(line, dots, plotter.NewGrid())
	}

	acc := plot.New()
	acc.Title.Text = "linear probe, test accuracy"
	acc.Y.Label.Text = "accuracy (%)"
	models := []accuracy{res.Baselines["pixels"], res.Baselines["untrained_encoder"], res.Accuracy}
	acc.NominalX("raw pixels", "untrained encoder", "trained ("+res.Method+")")
	width := vg.Points(28)
	for k, series := range []struct {
		name  string
		value func(accuracy) float64
	}{
		{"all labels", func(a accuracy) float64 { return a.AllLabels }},
		{"100 labels", func(a accuracy) float64 { return a.Labels100 }},
	} {
		values := make(plotter.Values, len(models))
		for i, m := range models {
			values[i] = 100 * series.value(m)
		}
		bars, err := plotter.NewBarChart(values, width)
		if err != nil {
			return fmt.Errorf("plotting the accuracies: %w", err)
		}
		bars.Offset = vg.Length(2*k-1) * width / 2
		bars.Color = plotutil.Color(k)
		bars.LineStyle.Width = 0
		acc.Add(bars)
		acc.Legend.Add(series.name, bars)
	}
	acc.Legend.Top = true
	acc.Add(plotter.NewGrid())
	// The range is set after Add, which widens it to the bars' base at 0.
	// The y axis starts at 50% when every bar is above it, so that
	// differences of a few points stay visible, and leaves room for the
	// legend above 100%.
	acc.Y.Min, acc.Y.Max = 0, 112
	lowest := 100.0
	for _, m := range models {
		lowest = min(lowest, 100*m.AllLabels, 100*m.Labels100)
	}
	if lowest > 55 {
		acc.Y.Min, acc.Y.Max = 50, 106
		acc.Y.Label.Text = "accuracy (%, axis from 50)"
	}

	img := vgimg.New(vg.Points(960), vg.Points(380))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 6, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	plots := [][]*plot.Plot{{loss, acc}}
	canvases := plot.Align(plots, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return writeFileAtomic(path, buf.Bytes())
}
