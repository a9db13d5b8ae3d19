#!/usr/bin/env bash
# deps.sh [build|test] — installs the Debian 12 packages hostpass needs, only those missing.
#
# build: compiler, CMake, Ninja and the libraries libhostpass links (libpci, yaml-cpp,
#        nlohmann-json, CLI11, gRPC/protobuf, SQLite, libcurl) plus pci.ids (hwdata) and usb.ids
#        (the usb.ids package: hwdata only links to it) for names.
# test:  build + GoogleTest/Benchmark, cpp-httplib and OpenSSL (the fake API server), the peers
#        the tests compare against (lspci, lsusb, virt-xml-validate, qemu) and what the
#        real-kernel tier boots (qemu, busybox, cpio) and builds (make, xz-utils, libelf1 for the
#        mtty sample module, with gcc-12 from g++), and the tools the test command runs
#        (clang-format, clang-tidy, clang and its fuzzer runtime).
# Idempotent: when every package is present it runs no apt-get at all.
set -euo pipefail

what=${1:-build}
# One package per line, so that a change adds or removes one line and says why.
build_pkgs=(
  g++
  cmake
  ninja-build
  pkg-config
  libpci-dev
  pciutils                # lspci: the peer discovery is checked against
  hwdata                  # pci.ids
  usb.ids                 # usb.ids (hwdata only links to it)
  libyaml-cpp-dev
  nlohmann-json3-dev
  libcli11-dev
  libgrpc++-dev
  protobuf-compiler
  protobuf-compiler-grpc
  libprotobuf-dev
  libsqlite3-dev
  libcurl4-openssl-dev    # the Kubernetes API client (src/kube_client): HTTPS to the API server
  libgtest-dev
  libgmock-dev
)
test_pkgs=(
  libbenchmark-dev
  libcpp-httplib-dev      # the fake Kubernetes API server the DRA and agent tests talk to
  libssl-dev              #   over HTTPS (the test CA and server certificate; httplib's SSL server)
  usbutils                # lsusb: the peer USB discovery is checked against
  libvirt-clients         # virt-xml-validate for render --format libvirt
  libxml2-utils           # xmllint, which virt-xml-validate runs (only a Recommends of libvirt-clients)
  qemu-system-x86         # the real-kernel tier and render --format qemu's property check
  busybox-static          # the real-kernel tier's guest userland
  cpio
  strace
  ca-certificates
  make                    # tests/kernel/build_mtty.sh: kbuild's make,
  xz-utils                #   the kernel source tarball,
  libelf1                 #   objtool
  clang-format            # scripts/lint.sh: the format check (the repo's .clang-format)
  clang-tidy              # scripts/lint.sh: static checks (.clang-tidy)
  clang                   # the libFuzzer build of fuzz/ (build-fuzz/)
  libclang-rt-14-dev      # libFuzzer's and the sanitizers' runtime for clang 14
)

pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}; run as root (or install them)" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
