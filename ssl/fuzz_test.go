package ssl_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/spikessl/spikessl/ssl"
)

// FuzzInfoNCE decodes two small views from the input and checks that the
// loss either returns an error or a finite, non-negative loss with finite
// gradients, in both precisions.
func FuzzInfoNCE(f *testing.F) {
	f.Add(uint8(2), uint8(3), 0.5, false, []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789"))
	f.Add(uint8(4), uint8(1), 0.01, true, make([]byte, 64))
	f.Add(uint8(1), uint8(5), 2.0, false, []byte{0xff, 0xf0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, batch, features uint8, temperature float64, symmetric bool, data []byte) {
		rows, cols := int(batch%9), int(features%9)
		n := rows * cols
		a := ssl.Matrix[float64]{Rows: rows, Cols: cols, Data: make([]float64, n)}
		b := ssl.Matrix[float64]{Rows: rows, Cols: cols, Data: make([]float64, n)}
		for i := range 2 * n {
			var x float64
			if len(data) >= 8*(i+1) {
				x = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			}
			if i < n {
				a.Data[i] = x
			} else {
				b.Data[i-n] = x
			}
		}
		opt := ssl.InfoNCEOptions{Temperature: temperature, Symmetric: symmetric}
		e := cpuEngine(t)

		got, err := ssl.InfoNCEGrad(e, a, b, opt)
		if err != nil {
			return
		}
		if math.IsNaN(got.Loss) || math.IsInf(got.Loss, 0) || got.Loss < 0 {
			t.Fatalf("loss = %v", got.Loss)
		}
		for k := range got.GradA.Data {
			if math.IsNaN(got.GradA.Data[k]) || math.IsNaN(got.GradB.Data[k]) {
				t.Fatalf("gradient %d is NaN", k)
			}
		}

		// float32 cannot hold every float64 input: only compare when the
		// conversion keeps every value finite.
		a32 := ssl.Matrix[float32]{Rows: rows, Cols: cols, Data: make([]float32, n)}
		b32 := ssl.Matrix[float32]{Rows: rows, Cols: cols, Data: make([]float32, n)}
		for i := range n {
			a32.Data[i], b32.Data[i] = float32(a.Data[i]), float32(b.Data[i])
		}
		got32, err := ssl.InfoNCEGrad(e, a32, b32, opt)
		if err != nil {
			return
		}
		if math.IsNaN(got32.Loss) || math.IsInf(got32.Loss, 0) || got32.Loss < 0 {
			t.Fatalf("float32 loss = %v", got32.Loss)
		}
	})
}
