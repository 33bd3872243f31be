#!/usr/bin/env bash
# Check spikessl on a machine with an NVIDIA GPU and its driver. The script
# makes the NVIDIA OpenCL driver visible to the ICD loader and runs the
# OpenCL cross-check tests with the device required, not skipped. Then it
# runs gpubench on the CPU and the GPU and writes JSON and a plot.
#
# Usage: scripts/gpu-check.sh [OUTPUT_DIR]   (default: runs/gpu-check)
#
# Needs Go, the NVIDIA driver (nvidia-smi and libnvidia-opencl.so.1), and
# the Debian packages ocl-icd-libopencl1 and clinfo; python3-numpy and
# python3-torch add the peers. Set GPUBENCH_ARGS to change the benchmark,
# for example GPUBENCH_ARGS="--batch 4096,16384 --repeat 3".
#
# NOTE: this script has not been run on an NVIDIA GPU yet: it was written
# on a machine without one, where it stops at the first step.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/gpu-check}"
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }

step "NVIDIA driver"
if ! command -v nvidia-smi >/dev/null; then
	echo "gpu-check: nvidia-smi not found: install the NVIDIA driver first" >&2
	exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.csv"

step "OpenCL ICD"
# The driver ships libnvidia-opencl.so.1; containers often lack the
# /etc/OpenCL/vendors/nvidia.icd file that points the ICD loader at it.
# Without it, write one into a private vendors directory and point the
# loader (ocl-icd) there with OCL_ICD_VENDORS.
if ! grep -qs nvidia /etc/OpenCL/vendors/*.icd; then
	library="$(ldconfig -p | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')"
	if [ -z "$library" ]; then
		echo "gpu-check: libnvidia-opencl.so.1 not found: install the driver's OpenCL part (for example libnvidia-compute or nvidia-opencl-icd)" >&2
		exit 1
	fi
	vendors="$PWD/$out/vendors"
	mkdir -p "$vendors"
	echo "$library" > "$vendors/nvidia.icd"
	export OCL_ICD_VENDORS="$vendors"
	echo "OCL_ICD_VENDORS=$OCL_ICD_VENDORS ($library)"
fi
clinfo -l | tee "$out/clinfo.txt"
if ! grep -qi nvidia "$out/clinfo.txt"; then
	echo "gpu-check: the ICD loader lists no NVIDIA platform" >&2
	exit 1
fi

# Select the first NVIDIA device for the tests and gpubench, unless the
# caller chose one.
export SPIKESSL_OPENCL_DEVICE="${SPIKESSL_OPENCL_DEVICE:-NVIDIA}"

step "cross-check tests on the GPU (SPIKESSL_REQUIRE_OPENCL=1)"
SPIKESSL_REQUIRE_OPENCL=1 go test -count=1 ./gpu/... ./ssl/... 2>&1 | tee "$out/tests.txt"

step "gpubench"
# shellcheck disable=SC2086 # GPUBENCH_ARGS is a list of flags.
go run ./cmd/gpubench --backends cpu,opencl --peers \
	--json "$out/gpubench.json" --plot "$out/gpubench.png" ${GPUBENCH_ARGS:-} | tee "$out/gpubench.txt"

echo
echo "gpu-check: results in $out"
