package snn

import "math"

// Adam is the state of the Adam optimiser for one parameter slice, with
// β₁ = 0.9, β₂ = 0.999 and ε = 1e-8.
type Adam struct {
	M, V []float32
	T    int
}

// NewAdam returns the zero state for n parameters.
func NewAdam(n int) *Adam { return &Adam{M: make([]float32, n), V: make([]float32, n)} }

// Step moves params against grad with learning rate lr.
func (a *Adam) Step(params, grad []float32, lr float64) {
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	a.T++
	c1 := 1 - math.Pow(beta1, float64(a.T))
	c2 := 1 - math.Pow(beta2, float64(a.T))
	rate := float32(lr / c1)
	root := float32(1 / math.Sqrt(c2))
	m, v := a.M[:len(params)], a.V[:len(params)]
	grad = grad[:len(params)]
	for k, g := range grad {
		mk := beta1*m[k] + (1-beta1)*g
		vk := beta2*v[k] + (1-beta2)*g*g
		m[k], v[k] = mk, vk
		params[k] -= rate * mk / (float32(math.Sqrt(float64(vk)))*root + eps)
	}
}
