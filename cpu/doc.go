// Package cpu is the reference implementation of spikessl's mathematics on
// the CPU, built on gonum's BLAS.
//
// Matrices are dense, row-major slices with their dimensions passed beside
// them: a (batch, features) view is a []float32 or []float64 of length
// batch*features. Every function works for both precisions. Functions never
// modify their inputs and write only to the output slices they are given.
//
// InfoNCE never forms the batch × batch similarity matrix. It computes the
// matrix in row × column tiles, keeps an online log-sum-exp for each row
// (and, for the symmetric loss, for each column), and recomputes the tiles
// in the backward pass, so its memory grows with batch × features.
//
// The tile products go through gonum's blas32 and blas64 packages, so a
// faster BLAS installed with blas32.Use or blas64.Use is used here too.
//
// Inputs are assumed to be validated by the caller (package ssl checks
// shapes, finiteness and the temperature); functions here check only that
// slice lengths match the dimensions, and return an error if they do not.
package cpu
