package cpu

import "math"

// Operations on one row of logits. float32 rows use the vector kernels of
// exp.go, and float64 rows those of exp64.go, which are within one unit in
// the last place of math.Exp.

// rowMax returns the largest element of row, or −Inf for an empty row.
func rowMax[T Float](row []T) float64 {
	if row32, ok := any(row).([]float32); ok {
		return float64(max32(row32))
	}
	m := math.Inf(-1)
	for _, v := range row {
		m = max(m, float64(v))
	}
	return m
}

// rowExpSum returns Σ exp(row_i − shift). For a float32 row, shift is
// rounded to float32.
func rowExpSum[T Float](row []T, shift float64) float64 {
	if row32, ok := any(row).([]float32); ok {
		return expSum32(row32, float32(shift))
	}
	return expSum64(any(row).([]float64), shift)
}

// rowExpStore overwrites each row_i with exp(row_i − shift) and returns
// their sum. For a float32 row, shift is rounded to float32.
func rowExpStore[T Float](row []T, shift float64) float64 {
	if row32, ok := any(row).([]float32); ok {
		return expStore32(row32, float32(shift))
	}
	return expStore64(any(row).([]float64), shift)
}

// rowExpScalePair overwrites each row_i with
// scale·(exp(row_i − shift) + exp(row_i − columnShift_i)). columnShift32
// is columnShift rounded to float32, used for float32 rows.
func rowExpScalePair[T Float](row []T, shift float64, columnShift []float64, columnShift32 []float32, scale float64) {
	if row32, ok := any(row).([]float32); ok {
		expScalePair32(row32, float32(shift), columnShift32, float32(scale))
		return
	}
	expScalePair64(any(row).([]float64), shift, columnShift, scale)
}
