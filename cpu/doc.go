// Package cpu is the reference implementation of spikessl's mathematics on
// the CPU, built on gonum's BLAS.
//
// Matrices are dense, row-major slices with their dimensions passed beside
// them: a (batch, features) view is a []float32 or []float64 of length
// batch*features. Every function works for both precisions. Functions never
// modify their inputs and write only to the output slices they are given.
//
// InfoNCE never forms the batch × batch similarity matrix, so its memory
// grows with batch × features. The loss alone is computed in row × column
// tiles with an online log-sum-exp for each row (and, for the symmetric
// loss, for each column). With gradients, each worker takes a strip of rows
// × all columns, capped in size, and the loss and both gradients come from
// three matrix products in all. The symmetric loss needs every column's
// log-sum-exp before its gradients. When 1/temperature ≤ 40, every
// exponential can share one shift, so a single pass over the tiles gives
// the rows' and the columns' sums: the symmetric loss costs one product,
// and four with gradients. Colder temperatures take a pass for the rows and
// one for the columns: two products, and five with gradients.
//
// The products go through gonum's blas32 and blas64 packages. The first
// product installs a system CBLAS (OpenBLAS where present) through package
// cblas, unless another BLAS than gonum's is installed already or the
// environment sets SPIKESSL_BLAS=gonum.
//
// Callers validate the inputs: package ssl checks shapes, finiteness and
// the temperature. Functions here check only that slice lengths match the
// dimensions, and return an error if they do not.
package cpu
