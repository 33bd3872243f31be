package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// printEngines writes what each backend runs on.
func printEngines(w io.Writer, engines []engineInfo) {
	for _, e := range engines {
		switch {
		case e.err != nil:
			fmt.Fprintf(w, "%s: unavailable: %v\n", e.name, e.err)
		case e.name == "cpu":
			fmt.Fprintf(w, "cpu: %s, %d threads, BLAS %s\n", e.device, threads(), e.blas)
		default:
			fmt.Fprintf(w, "%s: %s, driver %s\n", e.name, e.device, orDash(e.driver))
		}
	}
}

// printPeak writes the CPU's multiply-add peak.
func printPeak(w io.Writer, p cpuPeak) {
	if p.gflops == 0 {
		fmt.Fprintln(w, "cpu peak: not measured (no vector multiply-add loop for this CPU)")
		return
	}
	fmt.Fprintf(w, "cpu peak: %.0f GFLOP/s float32, %.0f float64 (%s multiply-add loop, %d threads)\n", p.gflops, p.forPrecision("float64"), p.isa, p.threads)
}

// printProgress writes one line per finished configuration to stderr.
func printProgress(w io.Writer, r record) {
	if r.Error != "" {
		fmt.Fprintf(w, "%s: %s\n", r.Name, r.Error)
		return
	}
	fmt.Fprintf(w, "%s: median %.4g s\n", r.Name, r.MedianSeconds)
}

// peerKey identifies the configuration a peer row can be compared with.
type peerKey struct {
	peer, op, precision string
	batch, features     int
}

// printTable writes the records as a table. Each spikessl row shows its
// median time divided by each peer's median on the same configuration.
// Each loss row also shows its median divided by that of the sgemm row of
// its shape. A ratio below 1/0.7 ≈ 1.43 means that the loss reaches 70%
// of the product's GFLOP/s.
func printTable(w io.Writer, records []record) {
	peerTimes := map[peerKey]float64{}
	var peerNames []string
	for _, r := range records {
		if !r.peer() || r.Error != "" {
			continue
		}
		peerTimes[peerKey{r.Backend, r.Op, r.Precision, r.Batch, r.Features}] = r.MedianSeconds
		if !slices.Contains(peerNames, r.Backend) {
			peerNames = append(peerNames, r.Backend)
		}
	}

	// The loss rows are also compared with the sgemm row of their shape.
	for _, r := range records {
		if r.Op == "sgemm" && r.Error == "" {
			peerTimes[peerKey{"sgemm", "loss", r.Precision, r.Batch, r.Features}] = r.MedianSeconds
			if !slices.Contains(peerNames, "sgemm") {
				peerNames = append(peerNames, "sgemm")
			}
		}
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	showPeak := slices.ContainsFunc(records, func(r record) bool { return r.CPUPeakGFLOPS > 0 })
	header := []string{"name", "median ms", "min ms", "max ms", "GFLOP/s"}
	if showPeak {
		header = append(header, "% CPU peak")
	}
	header = append(header, "peak RSS MiB")
	for _, p := range peerNames {
		header = append(header, "÷ "+p)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range records {
		cells := []string{r.Name}
		if r.Error != "" {
			cells = append(cells, "failed: "+r.Error)
			fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
			continue
		}
		cells = append(cells,
			fmt.Sprintf("%.2f", 1e3*r.MedianSeconds),
			fmt.Sprintf("%.2f", 1e3*r.MinSeconds),
			fmt.Sprintf("%.2f", 1e3*r.MaxSeconds),
			fmt.Sprintf("%.1f", r.GFLOPS))
		if showPeak {
			fraction := "-"
			if r.CPUPeakGFLOPS > 0 && r.GFLOPS > 0 {
				fraction = fmt.Sprintf("%.0f", 100*r.GFLOPS/r.CPUPeakGFLOPS)
			}
			cells = append(cells, fraction)
		}
		cells = append(cells, fmt.Sprintf("%.0f", float64(r.PeakRSSBytes)/(1<<20)))
		for _, p := range peerNames {
			ratio := "-"
			if t, ok := peerTimes[peerKey{p, r.Op, r.Precision, r.Batch, r.Features}]; ok && !r.peer() && r.Op != "sgemm" {
				ratio = fmt.Sprintf("%.2f", r.MedianSeconds/t)
			}
			cells = append(cells, ratio)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeJSON writes the records to path as an indented JSON list.
func writeJSON(path string, records []record) error {
	data, err := json.MarshalIndent(records, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the results: %w", err)
	}
	return nil
}

// writePlot draws the median time against batch size, on log–log axes,
// with one line for each backend or peer, operation, feature count and
// precision, and saves it as a PNG at path.
func writePlot(path string, records []record) error {
	type seriesKey struct {
		backend, op, precision string
		features               int
	}
	var keys []seriesKey
	points := map[seriesKey]plotter.XYs{}
	precisions := map[string]bool{}
	var batches []int
	for _, r := range records {
		if r.Error != "" || r.MedianSeconds <= 0 {
			continue
		}
		k := seriesKey{r.Backend, r.Op, r.Precision, r.Features}
		if _, ok := points[k]; !ok {
			keys = append(keys, k)
		}
		points[k] = append(points[k], plotter.XY{X: float64(r.Batch), Y: r.MedianSeconds})
		if !slices.Contains(batches, r.Batch) {
			batches = append(batches, r.Batch)
		}
		precisions[r.Precision] = true
	}
	if len(keys) == 0 {
		return fmt.Errorf("writing the plot %s: no successful results to draw", path)
	}

	p := plot.New()
	p.Title.Text = "spikessl: median time per call"
	if slices.ContainsFunc(records, record.peer) {
		p.Title.Text = "spikessl and peers: median time per call"
	}
	p.X.Label.Text = "batch"
	p.Y.Label.Text = "seconds"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	// One labelled tick per batch size: the sizes often lie within one
	// decade, where log ticks would label nothing.
	var ticks []plot.Tick
	for _, batch := range batches {
		ticks = append(ticks, plot.Tick{Value: float64(batch), Label: strconv.Itoa(batch)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true

	minY, maxY := math.Inf(1), math.Inf(-1)
	for i, k := range keys {
		xys := points[k]
		slices.SortFunc(xys, func(a, b plotter.XY) int { return int(a.X - b.X) })
		for _, xy := range xys {
			minY, maxY = min(minY, xy.Y), max(maxY, xy.Y)
		}
		line, dots, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("writing the plot %s: %w", path, err)
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i)
		dots.Color = plotutil.Color(i)
		dots.Shape = plotutil.Shape(i)
		if k.backend == "numpy" || k.backend == "torch" {
			line.Width = vg.Points(1)
		} else {
			line.Width = vg.Points(2)
		}
		label := fmt.Sprintf("%s %s, %d features", k.backend, k.op, k.features)
		if len(precisions) > 1 {
			label += ", " + k.precision
		}
		p.Add(line, dots)
		p.Legend.Add(label, line, dots)
	}
	// Leave room above the data for the legend.
	p.Y.Min, p.Y.Max = minY/2, maxY*math.Pow(10, 0.25*float64(len(keys)/3+1))
	p.BackgroundColor = color.White

	if err := p.Save(9*vg.Inch, 6*vg.Inch, path); err != nil {
		return fmt.Errorf("writing the plot %s: %w", path, err)
	}
	return nil
}
