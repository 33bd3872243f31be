package ssl_test

import (
	"fmt"

	"github.com/spikessl/spikessl/ssl"
)

func ExampleInfoNCEGrad() {
	// Two views of three samples with four neurons each: spike rates.
	a := ssl.Matrix[float64]{Rows: 3, Cols: 4, Data: []float64{
		0.9, 0.1, 0.0, 0.2,
		0.0, 0.8, 0.3, 0.0,
		0.1, 0.0, 0.7, 0.6,
	}}
	b := ssl.Matrix[float64]{Rows: 3, Cols: 4, Data: []float64{
		0.8, 0.2, 0.1, 0.1,
		0.1, 0.9, 0.2, 0.0,
		0.0, 0.1, 0.6, 0.7,
	}}
	e, err := ssl.New(ssl.Options{Backend: ssl.BackendCPU})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := ssl.InfoNCEGrad(e, a, b, ssl.DefaultInfoNCE())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss %.4f on %s, gradients %d×%d\n", res.Loss, res.Backend, res.GradA.Rows, res.GradA.Cols)

	_, err = ssl.InfoNCELoss(e, a, b, ssl.InfoNCEOptions{Temperature: 0})
	fmt.Println(err)
	// Output:
	// loss 0.3748 on cpu, gradients 3×4
	// ssl: invalid parameter: temperature is 0, must be finite and > 0 (default 0.5)
}

func ExampleCSDPStep() {
	weights := ssl.Matrix[float64]{Rows: 2, Cols: 3, Data: []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}}
	real := ssl.Phase[float64]{
		Pre:  ssl.RowVector([]float64{1, 0, 1}),
		Post: ssl.RowVector([]float64{1, 0}),
	}
	corrupted := ssl.Phase[float64]{
		Pre:  ssl.RowVector([]float64{0, 1, 1}),
		Post: ssl.RowVector([]float64{0, 1}),
	}
	rule := ssl.CSDP{LR: 0.1, Decay: 0}
	res, err := ssl.CSDPStep(nil, rule, weights, real, corrupted)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Weights.Data)
	fmt.Println(weights.Data) // unchanged
	// Output:
	// [0.2 0.2 0.4 0.4 0.4 0.5]
	// [0.1 0.2 0.3 0.4 0.5 0.6]
}
