package snn

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/spikessl/spikessl/ssl"
)

func TestGatherAddMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 7, 8, 31, 32, 45, 64, 100} {
		stride := n + 3
		src := make([]float32, 50*stride)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		rows := []int32{4, 0, 49, 4, 17}
		dst := make([]float32, n)
		want := make([]float32, n)
		for j := range n {
			dst[j] = float32(j)
			want[j] = float32(j)
		}
		for _, r := range rows {
			for j := range n {
				want[j] += src[int(r)*stride+j]
			}
		}
		gatherAdd(dst, src, stride, rows)
		for j := range n {
			if dst[j] != want[j] {
				t.Fatalf("n %d: dst[%d] = %v, want %v exactly", n, j, dst[j], want[j])
			}
		}
	}
}

func BenchmarkGatherAdd(b *testing.B) {
	for _, avx := range []bool{false, true} {
		name := "kernel=go"
		if avx {
			name = "kernel=avx2"
		}
		b.Run(name+"/hidden=512/rows=110", func(b *testing.B) {
			if avx && !useAVX2 {
				b.Skip("no AVX2")
			}
			saved := useAVX2
			useAVX2 = avx
			defer func() { useAVX2 = saved }()
			src := make([]float32, 784*1024)
			rows := make([]int32, 110)
			for k := range rows {
				rows[k] = int32(k * 7)
			}
			dst := make([]float32, 512)
			b.SetBytes(int64(len(rows) * len(dst) * 4))
			for b.Loop() {
				gatherAdd(dst, src[256:], 1024, rows)
			}
		})
	}
}

func BenchmarkTrainBatch(b *testing.B) {
	for _, method := range []Method{InfoNCE, CSDP} {
		for _, batch := range []int{64, 256} {
			b.Run("method="+string(method)+"/backend=cpu/batch="+strconv.Itoa(batch), func(b *testing.B) {
				c := DefaultConfig(method)
				c.Batch = batch
				engine, err := ssl.New(ssl.Options{Backend: ssl.BackendCPU})
				if err != nil {
					b.Fatal(err)
				}
				images := syntheticImages(batch)
				tr, err := NewTrainer(c, engine)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if err := tr.TrainEpoch(context.Background(), images, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/float64(batch)*1e6, "µs/image")
			})
		}
	}
}
