package snn

import (
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spikessl/spikessl/ssl"
)

// checkpointVersion changes whenever the layout of Trainer changes.
const checkpointVersion = 2

type checkpoint struct {
	Version int
	Trainer *Trainer
	Extra   map[string]float64
}

// Save writes the trainer's state, with extra values for the caller, to
// path atomically. It writes a temporary file in the same folder, syncs it
// and renames it over path, so that path contains either the old or the
// new checkpoint, never a partial one.
func (t *Trainer) Save(path string, extra map[string]float64) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("snn: saving checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := gob.NewEncoder(tmp).Encode(checkpoint{Version: checkpointVersion, Trainer: t, Extra: extra}); err != nil {
		return fmt.Errorf("snn: writing checkpoint %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("snn: writing checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("snn: writing checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("snn: writing checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("snn: saving checkpoint %s: %w", path, err)
	}
	return nil
}

// LoadTrainer reads a checkpoint written by Save and returns the trainer,
// using engine for its ssl calls, and the caller's extra values.
func LoadTrainer(path string, engine *ssl.Engine) (*Trainer, map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("snn: reading checkpoint: %w", err)
	}
	defer f.Close()
	var c checkpoint
	if err := gob.NewDecoder(f).Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("snn: reading checkpoint %s: %w", path, err)
	}
	if c.Version != checkpointVersion {
		return nil, nil, fmt.Errorf("snn: checkpoint %s has version %d, this program reads version %d", path, c.Version, checkpointVersion)
	}
	t := c.Trainer
	t.engine = engine
	if t == nil || t.Encoder == nil {
		return nil, nil, fmt.Errorf("snn: checkpoint %s contains no trainer", path)
	}
	if err := t.Config.Check(); err != nil {
		return nil, nil, fmt.Errorf("snn: checkpoint %s: %w", path, err)
	}
	if err := t.checkShapes(); err != nil {
		return nil, nil, fmt.Errorf("snn: checkpoint %s: %w", path, err)
	}
	return t, c.Extra, nil
}

// checkShapes returns an error unless every slice of a loaded trainer has
// the length that its configuration implies.
func (t *Trainer) checkShapes() error {
	l := t.Config.Layer
	e := t.Encoder
	if e.Layer != l || len(e.W) != l.Inputs*l.Hidden || len(e.Bias) != l.Hidden {
		return fmt.Errorf("%w: encoder does not match the layer configuration", ErrConfig)
	}
	if t.Config.Method != InfoNCE {
		return nil
	}
	if t.AdamW == nil || t.AdamBias == nil || len(t.AdamW.M) != len(e.W) || len(t.AdamW.V) != len(e.W) ||
		len(t.AdamBias.M) != l.Hidden || len(t.AdamBias.V) != l.Hidden {
		return fmt.Errorf("%w: optimiser state does not match the encoder", ErrConfig)
	}
	in := l.Hidden
	for k, layer := range t.Head {
		if layer == nil || layer.In != in || len(layer.W) != layer.In*layer.Out || len(layer.B) != layer.Out ||
			layer.AdamW == nil || layer.AdamB == nil || len(layer.AdamW.M) != len(layer.W) || len(layer.AdamW.V) != len(layer.W) ||
			len(layer.AdamB.M) != layer.Out || len(layer.AdamB.V) != layer.Out {
			return fmt.Errorf("%w: projection head layer %d does not match its sizes", ErrConfig, k)
		}
		in = layer.Out
	}
	return nil
}
