// Package snn is a small spiking network that learns from MNIST without
// labels: rate coding of images into spike trains, augmented views, a
// layer of leaky integrate-and-fire (LIF) neurons, and its training by
// InfoNCE or by contrastive signal-dependent plasticity (CSDP) through
// package ssl.
//
// # Spike trains
//
// Encode turns a grey-scale image into a Bernoulli spike train over T
// steps: pixel intensity q in [0, 1] spikes at each step with probability
// q. For contrastive training, an Augment makes each view differ: a random
// translation, an independent spike draw, spike dropout, ±1-step temporal
// jitter and background noise. All randomness comes from Stream, which
// derives a generator from the seed and the image's index, so results do
// not depend on the order or the goroutine in which images are processed.
//
// # Neurons
//
// An Encoder is one layer of LIF neurons with membrane decay β, threshold
// θ and reset by subtraction. Its output, the feature that a linear probe
// reads, is each neuron's spike rate: the number of spikes divided by T.
// Input spikes are binary and sparse, so the input current adds the weight
// rows of the pixels that spike instead of computing a dense product.
//
// # Training
//
// InfoNCE training encodes two views of each image, projects the rates
// through a linear head, takes the InfoNCE loss and its gradients from
// ssl.InfoNCEGrad, and back-propagates through time with the fast-sigmoid
// surrogate gradient ∂s/∂u ≈ 1/(1 + k·|u − θ|)², treating the reset as a
// constant; Adam updates the weights, biases and head.
//
// CSDP training presents real images (positive phase) and mask blends of
// two images (negative phase), and updates the weights with
// ssl.CSDPModulated, or with ssl.CSDPStep for the plain rule. Pre-synaptic
// activity is the input spike rate, post-synaptic activity the output
// spike rate.
//
// A Trainer saves its whole state between two batches, so that a run
// resumed from a checkpoint ends with the same weights as one that was
// never interrupted.
package snn
