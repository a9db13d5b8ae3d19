# debcache.sh — sourced by fetch_kernel.sh, fetch_kmod.sh and build_mtty.sh: Debian packages
# fetched once with `apt-get download` and unpacked with `dpkg -x` into the tier's cache
# ($HOSTPASS_KERNEL_CACHE, default $HOME/.cache/hostpass-kernel). Nothing is installed on this
# machine. A finished directory has a `.complete` marker; half-done work lives in <dir>.tmp and
# is started again from scratch.

hp_cache=${HOSTPASS_KERNEL_CACHE:-${HOME:-/root}/.cache/hostpass-kernel}
mkdir -p "$hp_cache"

# hp_candidate PACKAGE: apt's candidate version of PACKAGE, empty when apt knows none (offline,
# no `apt-get update` yet).
hp_candidate() {
  local v
  v=$(apt-cache policy "$1" 2>/dev/null | sed -nE 's/^ *Candidate: (.*)$/\1/p' | head -1)
  [ "$v" = "(none)" ] && v=""
  echo "$v"
}

# hp_newest_cached PREFIX WHO: prints the newest complete cached directory named PREFIX*, or
# fails saying that WHO can neither ask apt nor use the cache.
hp_newest_cached() {
  local newest
  newest=$(ls -1d "$hp_cache/$1"*/.complete 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$newest" ]; then
    echo "$2: apt knows no candidate and $hp_cache holds none; run 'apt-get update'" \
      "(Debian mirrors) and retry" >&2
    return 1
  fi
  dirname "$newest"
}

# hp_download DIR PACKAGE=VERSION...: the .deb files into DIR. As root, apt-get warns that _apt
# cannot write there (harmless: the download then runs unsandboxed); the warning is hidden
# unless the download fails.
hp_download() {
  local dl=$1
  shift
  mkdir -p "$dl"
  (cd "$dl" && apt-get download -q "$@" >&2 2>/dev/null) || (cd "$dl" && apt-get download -q "$@" >&2)
}

# hp_fetch_unpacked DIR CHECK PACKAGE=VERSION...: unless DIR is complete, downloads the packages,
# unpacks them into DIR/tree, requires DIR/tree/CHECK to exist, marks DIR complete. Prints DIR.
hp_fetch_unpacked() {
  local dir=$1 check=$2 deb
  shift 2
  if [ ! -f "$dir/.complete" ]; then
    echo "${0##*/}: fetching $* into $dir (once)" >&2
    rm -rf "$dir.tmp"
    hp_download "$dir.tmp/dl" "$@"
    for deb in "$dir.tmp"/dl/*.deb; do dpkg -x "$deb" "$dir.tmp/tree"; done
    rm -rf "$dir.tmp/dl"
    # shellcheck disable=SC2086  # CHECK may be a glob (boot/vmlinuz-*)
    ls "$dir.tmp"/tree/$check >/dev/null
    touch "$dir.tmp/.complete"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}
