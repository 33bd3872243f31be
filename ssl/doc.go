// Package ssl is the public interface of spikessl: the InfoNCE contrastive
// loss over spike-rate vectors, with its gradients, and contrastive
// signal-dependent plasticity (CSDP), on the CPU or an OpenCL device.
//
// # Shapes and precision
//
// A Matrix is dense and row-major, of float32 or float64. The two views of
// InfoNCE are (batch, features) matrices of the same shape. CSDP weights are
// (nPost, nPre); pre- and post-synaptic activity is (batch, nPre) and
// (batch, nPost), and a single sample is a matrix of one row. Every function
// validates its input and returns an error that names the argument at
// fault; none modifies its arguments, and every result is newly allocated.
//
// # InfoNCE
//
// Rows are divided by max(‖row‖, 1e-8). The logits are
// s_ij = u_i·v_j / temperature and the loss is the mean over rows i of
// logsumexp_j(s_ij) − s_ii, computed exactly: no probability is clipped, so
// the loss of a row is not capped and its gradient does not vanish. A batch
// of fewer than two rows has loss 0. The symmetric option averages this
// loss with the same loss over columns.
//
// The batch × batch matrix of logits is never stored. The loss is computed
// in tiles with an online log-sum-exp. With gradients, each strip of a few
// rows × the whole batch gives its rows' loss and gradient terms at once,
// and the symmetric loss recomputes its tiles after a first pass.
//
// # CSDP
//
// The plain rule updates W by lr·post⊗pre − decay·W on real data (positive
// phase) and by −lr·post⊗pre on corrupted data (negative phase). For a batch
// the outer product is the batch mean postᵀ·pre / batch. The contrastive
// step applies both. The goodness of a sample is Σ z² over its
// post-synaptic activity z. The goodness-modulated rule scales each
// sample's outer product by how far σ(goodness − threshold) is from its
// label (1 for real, 0 for corrupted data):
//
//	W − lr·(1/N)·Σ_s (σ(g_s − θ) − y_s)·2·z_s⊗pre_s − decay·W
//
// over the N samples of both phases.
//
// # Backends
//
// An Engine runs each call on a Backend: the CPU (package cpu, with a
// system CBLAS such as OpenBLAS when one is installed, else gonum's BLAS)
// or an OpenCL device (package gpu). With BackendAuto it uses an
// OpenCL GPU or accelerator for calls of at least MinDeviceWork
// multiply-adds and the CPU otherwise. An OpenCL CPU device such as PoCL is
// slower than the CPU backend on the same cores, so auto uses it only with
// Options.AllowCPUDevice. A device failure is redone on the CPU with a
// warning, and after a failure that would recur, such as a kernel that does
// not build, the engine stops using the device. A nil *Engine means the
// package's default engine, which is BackendAuto. Engines are safe for
// concurrent use.
package ssl
