#!/usr/bin/env bash
# Plumbline's set-up and entry points.
#   ./run.sh main    install what is missing, build (release), run the main job on the built-in default
#   ./run.sh test    install what is missing, build (release, testable), run the whole test suite
#   ./run.sh setup   only install what is missing and build
# Needs: a Swift 6 toolchain (https://swift.org/install; /opt/swift/usr/bin is searched too) and
# Debian/Ubuntu's apt for the system libraries below.
set -euo pipefail
cd "$(dirname "$0")"

# System packages: OpenBLAS (cblas.h), SentencePiece (library and its spm_* tools, used by tests),
# zstd (library and the zstd/zstdcat tools, used by tests), zlib (.gz inputs), gzip (the shard benchmark's anchor),
# Open MPI (library and mpirun, for `--distributed mpi` and its tests).
PACKAGES=(libopenblas-dev libsentencepiece-dev sentencepiece libzstd-dev zstd zlib1g-dev gzip libopenmpi-dev openmpi-bin)

install_system_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "run.sh: installing missing system packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

find_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 || {
        echo "run.sh: no Swift toolchain found; install Swift 6 (https://swift.org/install) and retry" >&2
        exit 1
    }
}

# OpenBLAS picks its kernels by CPU model; Debian's 0.3.21 does not know some recent Xeons and falls
# back to its SSE3 "Prescott" kernels (sgemm 52 against 306 GFLOP/s on this 2-core VM: docs/engine.md).
# When the kernel choice is not set already, name the family the CPU's flags support.
choose_openblas_kernels() {
    [ -n "${OPENBLAS_CORETYPE:-}" ] && return 0
    local flags
    flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
    if [[ " $flags " == *" avx512f "* && " $flags " == *" avx512bw "* && " $flags " == *" avx512vl "* ]]; then
        export OPENBLAS_CORETYPE=SkylakeX
    elif [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* ]]; then
        export OPENBLAS_CORETYPE=Haswell
    fi
}
choose_openblas_kernels

setup() {
    install_system_packages
    find_swift
    swift build -c release --product plumb
}

case "${1:-}" in
    setup) setup ;;
    main)
        setup
        shift
        .build/release/plumb demo "$@"
        ;;
    test)
        install_system_packages
        find_swift
        shift
        # One release build with testing enabled serves both the tests and the `plumb` binary that
        # the process tests (kill and resume) start as a child.
        swift build -c release -Xswiftc -enable-testing --build-tests
        swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing "$@"
        ;;
    *)
        echo "usage: ./run.sh main|test|setup" >&2
        exit 2
        ;;
esac
