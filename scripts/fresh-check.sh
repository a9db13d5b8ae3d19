#!/usr/bin/env bash
# fresh-check.sh [--keep] [--rebuild-base] — runs the README's two commands, as the README states
# them, as root on a pristine minimal Debian 12 (a `debootstrap --variant=minbase bookworm` chroot:
# no compiler, no cmake, no git). CI runs on a machine where packages installed by hand stay, so a
# green CI can hide a package scripts/deps.sh forgets; this catches it. Too slow for CI (the builds
# start from nothing, twice, then six QEMU boots: well over an hour on two shared cores): run it
# when dependencies or the README change. .ci/run does not.
#
# What it does:
#   1. Once: debootstraps the minbase tree into $cache/base (cache: $HOSTPASS_FRESH_CACHE, default
#      ~/.cache/hostpass-fresh). The mirror and the chroot's apt sources are read at run time from
#      this machine's own apt configuration (/etc/apt/sources.list, /etc/apt/sources.list.d/*):
#      nothing names a mirror here. Installs debootstrap on this machine first when it is missing
#      (that is the only package it installs outside the chroot; deps.sh does not list it).
#   2. Each run: a fresh copy of the base ($cache/runs/<stamp>/root), the checkout's tracked files
#      (`git ls-files`) in /work/hostpass and ../shared beside it in /work/shared, as CI has them.
#   3. In a private mount namespace (`unshare -m`, so no mount is seen by or left on this machine):
#      /proc, /sys bound read-only from this machine, a minimal /dev on a tmpfs (null, zero,
#      random, urandom, tty, the fd/std* links, a private devpts instance and a /dev/shm tmpfs;
#      never this machine's /dev), a tmpfs /tmp, apt's archives bound from $cache/apt-archives and
#      the real-kernel tier's download cache bound from ~/.cache/hostpass-kernel (so a rerun
#      downloads nothing), and this machine's resolv.conf copied in (the network is only what apt
#      needs). The chroot shares this machine's network; it gets no other device, none of this
#      machine's /etc and no credentials.
#   4. Runs the first ```sh block of README.md line by line (trailing comments stripped), each
#      `&&`-joined part timed. `hostpass check` exiting 1 (host not ready: the README says so) is
#      success; any other non-zero exit is a failure. Processes left inside the chroot are killed
#      by pid, the mounts undone, the run tree removed (unless --keep).
# Prints each step with its time and ends with "fresh-check: PASS" or "fresh-check: FAIL ...";
# exit 0 on PASS, 1 on FAIL, 2 on bad usage or a machine that cannot run it (not root, no unshare).
#
# Options: --keep          keep the run's tree ($cache/runs/<stamp>/root) for inspection
#          --rebuild-base  debootstrap the base again (the .deb cache makes that quick)
#          --help
set -uo pipefail

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; }

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${HOSTPASS_FRESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostpass-fresh}
kcache=${HOSTPASS_KERNEL_CACHE:-$HOME/.cache/hostpass-kernel}
suite=bookworm
keep=0
rebuild=0
t0=$SECONDS

# ---------------------------------------------------------------------------------------------
# The inner half: runs in the private mount namespace made by the outer half (below).
# $0 --inner ROOT KCACHE APTCACHE
if [ "${1:-}" = --inner ]; then
  R=$2
  kc=$3
  ac=$4
  mounted=()
  mnt() {  # mnt TARGET mount-args...: mounts, remembers TARGET for the unwinding
    local target=$1
    shift
    mount "$@" "$target" || { echo "fresh-check: mount $* $target failed" >&2; return 1; }
    mounted+=("$target")
  }
  cleanup() {
    local p root i
    # Processes still running inside the chroot (a daemon a package started, a stuck test):
    # ended by their pid, found by their root directory.
    for p in /proc/[0-9]*; do
      root=$(readlink "$p/root" 2>/dev/null) || continue
      case "$root" in "$R" | "$R"/*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
    done
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
      umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"
    done
  }
  trap cleanup EXIT
  # The namespace's mounts must not propagate back, whatever this machine's default is.
  mount --make-rprivate / || exit 2
  mnt "$R/proc" -t proc -o nosuid,nodev,noexec proc || exit 2
  mnt "$R/sys" --bind /sys || exit 2
  mount -o remount,bind,ro,nosuid,nodev,noexec "$R/sys" || exit 2
  mnt "$R/dev" -t tmpfs -o mode=0755,nosuid,size=16m fresh-dev || exit 2
  mknod -m 666 "$R/dev/null" c 1 3 && mknod -m 666 "$R/dev/zero" c 1 5 &&
    mknod -m 666 "$R/dev/random" c 1 8 && mknod -m 666 "$R/dev/urandom" c 1 9 &&
    mknod -m 666 "$R/dev/tty" c 5 0 || exit 2
  ln -s /proc/self/fd "$R/dev/fd" && ln -s /proc/self/fd/0 "$R/dev/stdin" &&
    ln -s /proc/self/fd/1 "$R/dev/stdout" && ln -s /proc/self/fd/2 "$R/dev/stderr" || exit 2
  # A private devpts instance (not this machine's ptys): apt and dpkg log through a pty.
  mkdir -p "$R/dev/pts" && mnt "$R/dev/pts" -t devpts -o newinstance,ptmxmode=0666,mode=0620,nosuid,noexec fresh-pts &&
    ln -s pts/ptmx "$R/dev/ptmx" || exit 2
  mkdir -p "$R/dev/shm" && mnt "$R/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev,size=1g fresh-shm || exit 2
  mnt "$R/tmp" -t tmpfs -o mode=1777,nosuid,nodev,size=6g fresh-tmp || exit 2
  mnt "$R/var/cache/apt/archives" --bind "$ac" || exit 2
  mkdir -p "$R/root/.cache/hostpass-kernel" && mnt "$R/root/.cache/hostpass-kernel" --bind "$kc" || exit 2
  # The chroot's stdin is /dev/null: nothing inside may wait for a terminal.
  chroot "$R" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
    LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash /root/fresh-driver.sh </dev/null
  exit $?
fi

# ---------------------------------------------------------------------------------------------
# The outer half.
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --rebuild-base) rebuild=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "fresh-check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

stamp() { printf '[%02d:%02d:%02d]' $(((SECONDS - t0) / 3600)) $((((SECONDS - t0) / 60) % 60)) $(((SECONDS - t0) % 60)); }
say() { echo "$(stamp) fresh-check: $*"; }
fail() { say "FAIL: $*"; exit 1; }
step_start=0
# Interrupted: the namespace's mounts die with its processes; the run's tree stays for a look.
trap 'say "FAIL: interrupted (the run'"'"'s tree, if any, is under $cache/runs)"; exit 1' INT TERM
step() { step_start=$SECONDS; say "== $*"; }
step_done() { say "-- done in $((SECONDS - step_start)) s"; }

[ "$(id -u)" -eq 0 ] || { echo "fresh-check: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
if ! command -v unshare >/dev/null || ! command -v chroot >/dev/null; then
  echo "fresh-check: needs unshare and chroot (util-linux, coreutils)" >&2
  exit 2
fi
command -v git >/dev/null || { echo "fresh-check: needs git to list the checkout's files" >&2; exit 2; }

# mirror: the first Debian mirror this machine's apt configuration names for $suite.
mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822 stanzas: a URIs and a Suites field naming exactly $suite, Types with deb.
    awk -v suite="$suite" '
      function flush() { if (uris != "" && deb && (" " suites " ") ~ (" " suite " ")) { split(uris, u, " "); print u[1]; found = 1; exit } uris = ""; suites = ""; deb = 0 }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]*#/ { next }
      tolower($1) == "uris:"   { $1 = ""; uris = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "types:"  { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "enabled:" && tolower($2) == "no" { uris = "" }
      END { if (!found) flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -nE "s/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+$suite([[:space:]].*)?\$/\2/p" "$f"
  done
}

# sources_into DIR: this machine's apt source files that name $suite, into DIR/etc/apt (so the
# chroot asks the same mirrors, with security and updates, as a machine installed from them).
sources_into() {
  local dir=$1 f n=0
  rm -f "$dir/etc/apt/sources.list"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && grep -Eq "(^|[[:space:]])$suite([[:space:]]|-|\$)" "$f" || continue
    cp "$f" "$dir${f}" && n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}

mkdir -p "$cache" "$cache/apt-archives/partial" "$cache/debootstrap-debs" "$cache/runs" "$kcache" || exit 2
exec 9>"$cache/lock"
flock -n 9 || { echo "fresh-check: another fresh-check holds $cache/lock" >&2; exit 2; }

# 1. The cached minbase tree.
base=$cache/base
if [ "$rebuild" = 1 ] || [ ! -f "$base/.complete" ]; then
  step "minbase $suite tree into $base (once)"
  if ! command -v debootstrap >/dev/null; then
    say "debootstrap is missing on this machine: apt-get install debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
      fail "could not install debootstrap"
  fi
  m=$(mirror | head -1)
  [ -n "$m" ] || fail "this machine's apt configuration names no mirror for $suite"
  say "mirror: the first one this machine's apt sources name for $suite"
  # Nothing may be mounted below a tree that is removed (the runs mount only in their own
  # namespace, but a tree is never removed on faith).
  grep -q " $cache/" /proc/self/mountinfo && fail "something is mounted below $cache; not removing"
  rm -rf --one-file-system "$base" "$base.tmp"
  debootstrap --variant=minbase --cache-dir="$cache/debootstrap-debs" "$suite" "$base.tmp" "$m" \
    >"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log"; fail "debootstrap failed ($cache/debootstrap.log)"; }
  sources_into "$base.tmp" || fail "no apt source file of this machine names $suite"
  rm -f "$base.tmp"/var/cache/apt/archives/*.deb
  # A package's postinst must not start a daemon that would outlive the run (there is no init
  # in the chroot; this is the usual chroot guard, and it changes nothing that is installed).
  printf '#!/bin/sh\nexit 101\n' >"$base.tmp/usr/sbin/policy-rc.d" && chmod 755 "$base.tmp/usr/sbin/policy-rc.d"
  touch "$base.tmp/.complete" && mv "$base.tmp" "$base" || fail "could not finish $base"
  step_done
fi

# 2. The run's tree.
run=$cache/runs/$(date -u +%Y%m%dT%H%M%SZ)-$$
R=$run/root
step "fresh copy of the base into $R"
mkdir -p "$run" && cp -a --reflink=auto "$base" "$R" || fail "could not copy $base"
rm -f "$R/.complete"
shared=$repo/../shared
if [ ! -d "$shared" ]; then
  # A git worktree: ../shared is beside the main checkout.
  common=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)
  shared=$(dirname "$common")/../shared
fi
mkdir -p "$R/work/hostpass" "$R/work/shared"
# The checkout's tracked files as they are on disk (a tracked file deleted on disk is left out).
(cd "$repo" && git ls-files -z --cached | tr '\0' '\n' | while IFS= read -r f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -C "$R/work/hostpass" -xf - || fail "could not copy the checkout"
if [ -d "$shared" ]; then
  cp -a "$shared/." "$R/work/shared/" && chmod -R u+w "$R/work/shared" || fail "could not copy $shared"
else
  say "no ../shared beside the checkout; /work/shared stays empty"
fi
cp -L /etc/resolv.conf "$R/etc/resolv.conf" || fail "could not copy resolv.conf"
say "$(git -C "$repo" ls-files | wc -l) tracked files of $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD || echo ' (with uncommitted changes)')"
step_done

# 3. The README's first ```sh block: exactly its lines, trailing comments stripped.
mapfile -t cmds < <(awk '/^```sh[[:space:]]*$/ { inb = 1; next } inb && /^```/ { exit } inb' "$repo/README.md" |
  sed -E 's/[[:space:]]+#.*$//; s/[[:space:]]+$//' | grep -v '^$')
[ ${#cmds[@]} -eq 2 ] || fail "README.md's first sh block has ${#cmds[@]} commands, not 2"
for c in "${cmds[@]}"; do say "README command: $c"; done
printf '%s\n' "${cmds[@]}" >"$R/root/readme-commands"

cat >"$R/root/fresh-driver.sh" <<'DRIVER'
# Inside the chroot: runs each README command from /work/hostpass, its &&-joined parts in order in
# one shell, as the line would; `hostpass check` may exit 1 (a host that is not ready).
cd /work/hostpass || exit 1
t0=$SECONDS
n=0
while IFS= read -r line; do
  n=$((n + 1))
  echo "@@ command $n: $line"
  rest=$line
  while :; do
    part=${rest%% && *}
    [ "$part" = "$rest" ] && rest="" || rest=${rest#* && }
    s=$SECONDS
    echo "@@ run: $part"
    eval "$part" </dev/null
    rc=$?
    echo "@@ exit $rc after $((SECONDS - s)) s: $part"
    if [ $rc -ne 0 ]; then
      if [ $rc -eq 1 ] && [[ "$part" =~ (^|/)hostpass[[:space:]]+check([[:space:]]|$) ]]; then
        echo "@@ hostpass check: this host is not ready (exit 1); the README counts that as success"
      else
        echo "@@ FAILED command $n at: $part (exit $rc)"
        exit 1
      fi
    fi
    [ -z "$rest" ] && break
  done
done </root/readme-commands
echo "@@ both commands succeeded in $((SECONDS - t0)) s"
DRIVER

# 4. Run them, in a private mount namespace, with every output line stamped.
step "the README's two commands in the chroot (private mount namespace)"
unshare -m --propagation private -- bash "$0" --inner "$R" "$(cd "$kcache" && pwd)" "$cache/apt-archives" 2>&1 |
  while IFS= read -r l; do echo "$(stamp) $l"; done
rc=${PIPESTATUS[0]}
step_done

# 5. The run's tree: removed unless --keep (never while anything is mounted below it).
if grep -q " $run/" /proc/self/mountinfo; then
  say "something is still mounted below $run on this machine; left in place"
elif [ "$keep" = 1 ]; then
  say "kept the run's tree: $R (enter it with: unshare -m chroot $R /bin/bash; remove $run when done)"
else
  rm -rf --one-file-system "$run"
fi

total=$((SECONDS - t0))
if [ "$rc" -eq 0 ]; then
  say "PASS: the README's two commands on a fresh minimal Debian 12 in $((total / 60)) min $((total % 60)) s"
  exit 0
fi
say "FAIL: the README's commands failed in the chroot (exit $rc) after $((total / 60)) min $((total % 60)) s"
exit 1
