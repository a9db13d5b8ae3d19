#!/usr/bin/env bash
# lint.sh [--no-cache] — the two source checks of the test command (scripts/test.sh runs it as
# its stage "== format and tidy"):
#   format: clang-format (the repo's .clang-format) over every tracked .cc/.h; any difference
#           fails, and the files are printed with the first lines of their diff.
#   tidy:   clang-tidy (the checked-in .clang-tidy) over the non-test sources of src/, cli/ and
#           plugin/, with the compile commands of build/ (CMAKE_EXPORT_COMPILE_COMMANDS), findings
#           reported in those directories' own headers but not in /usr/include or generated
#           code. Zero findings passes.
# Tidy is the costly half (a TU that includes nlohmann/json or yaml-cpp takes seconds to parse),
# so files run in parallel, nproc at a time, and a file whose inputs have not changed since its
# last clean run is skipped. Its key is a hash of: the file's path and content, every project
# header (src/, cli/, plugin/ and the proto file the plugin's generated headers come from, all
# hashed together: simpler and safer than tracking each file's includes), its compile command,
# .clang-tidy, the options this script gives clang-tidy and clang-tidy's version. A clean result
# leaves an empty stamp named by the key in ${XDG_CACHE_HOME:-~/.cache}/hostpass-tidy (outside
# the checkout); a finding leaves none. --no-cache ignores the stamps (a cold run) but still writes new ones. Not in the
# key: the system headers (a libstdc++ update); clear the directory after one.
# The last two lines say "lint: format ok|FAILED" and "lint: tidy ok|FAILED"; test.sh counts them.
# Exit status: 0 when both pass, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

use_cache=1
for a in "$@"; do
  case $a in
    --no-cache) use_cache=0 ;;
    -h | --help)
      sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "lint.sh: unknown argument '$a' (usage: scripts/lint.sh [--no-cache])" >&2
      exit 2
      ;;
  esac
done

build=build
jobs=$(nproc)
status=0

# sources PATTERN...: the checkout's files matching git pathspec-style patterns ('*' matches '/'
# too), NUL-separated. git's list of tracked files in a git checkout; elsewhere (the source
# unpacked from an archive on a fresh machine without git, where the README's commands must work
# too) the same patterns over the source directories, found by find.
sources() {
  if command -v git >/dev/null && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -- "$@"
    return
  fi
  local dirs=() d f g
  for d in bench cli fuzz plugin proto src tests; do [ -d "$d" ] && dirs+=("$d"); done
  [ ${#dirs[@]} -gt 0 ] || return 0
  find "${dirs[@]}" -type f -print0 | sort -z | while IFS= read -r -d '' f; do
    for g in "$@"; do
      # shellcheck disable=SC2053 # $g is a pattern
      if [[ $f == $g ]]; then
        printf '%s\0' "$f"
        break
      fi
    done
  done
}

# ---- format ----
echo "-- clang-format: every tracked .cc/.h"
if ! command -v clang-format >/dev/null; then
  echo "lint.sh: clang-format missing (scripts/deps.sh test installs it)" >&2
  format_ok=0
else
  format_ok=1
  # One clang-format process for all files (one per file costs minutes on a loaded machine); its
  # --dry-run names each file that differs, "FILE:L:C: warning: code should be clang-formatted".
  if ! out=$(sources '*.cc' '*.h' | xargs -0 clang-format --style=file --dry-run 2>&1)
  then
    format_ok=0
    echo "$out" | head -n 20
  fi
  mapfile -t differ < <(echo "$out" |
    sed -nE 's/^(.+):[0-9]+:[0-9]+: (warning|error): code should be clang-formatted.*/\1/p' |
    sort -u)
  if [ ${#differ[@]} -gt 0 ]; then
    format_ok=0
    echo "${#differ[@]} file(s) not formatted (fix: clang-format -i FILE):"
    printf '  %s\n' "${differ[@]}"
    for f in "${differ[@]}"; do
      clang-format --style=file "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" - |
        head -n 20
    done
  fi
fi

# ---- tidy ----
echo "-- clang-tidy: src/, cli/, plugin/ (no tests)"
tidy_ok=1
if ! command -v clang-tidy >/dev/null; then
  echo "lint.sh: clang-tidy missing (scripts/deps.sh test installs it)" >&2
  tidy_ok=0
fi
if [ $tidy_ok = 1 ] && [ ! -f "$build/compile_commands.json" ]; then
  # The same configuration as scripts/test.sh's build, so both share one key.
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTPASS_WERROR=ON \
    >/dev/null || tidy_ok=0
fi
if [ $tidy_ok = 1 ]; then
  # The plugin includes protoc's generated headers: generate them (not the whole proto library).
  gen=$(ninja -C "$build" -t targets all 2>/dev/null | grep -oE '^[^:]*\.pb\.h' | sort -u)
  if [ -n "$gen" ]; then
    # shellcheck disable=SC2086 # one target per word
    ninja -C "$build" $gen >/dev/null || tidy_ok=0
  fi
fi

if [ $tidy_ok = 1 ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/hostpass-tidy
  mkdir -p "$cache"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # The options every run gives clang-tidy (no spaces inside one: they are split on spaces).
  tidy_args="-p $build --quiet --header-filter=^$root/(src|cli|plugin)/"
  # Everything every file's key shares.
  {
    clang-tidy --version
    echo "$tidy_args"
    cat .clang-tidy
    sources 'src/*.h' 'cli/*.h' 'plugin/*.h' 'proto/*.proto' | sort -z |
      xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1 >"$work/common"
  # "file<TAB>command" for each compile command of src/, cli/ or plugin/ that is not a test.
  # CMake writes each entry's "command" line before its "file" line.
  awk -v root="$root" '
    /^ *"command": / { cmd = $0 }
    /^ *"file": / {
      f = $0; sub(/^ *"file": "/, "", f); sub(/",?$/, "", f)
      if (f ~ "^" root "/(src|cli|plugin)/" && f !~ /_test\.cc$/) print f "\t" cmd
    }' "$build/compile_commands.json" | sort -u >"$work/entries"
  total=$(wc -l <"$work/entries")
  # Each key's material in a file of its own, hashed by one sha256sum for all of them.
  mkdir "$work/keys"
  n=0
  while IFS=$'\t' read -r f cmd; do
    n=$((n + 1))
    printf '%s\n%s\n%s\n' "$(cat "$work/common")" "$f" "$cmd" >"$work/keys/$n"
    cat "$f" >>"$work/keys/$n"
    printf '%s\n' "$f" >"$work/keys/$n.file"
  done <"$work/entries"
  : >"$work/todo"
  (cd "$work/keys" && sha256sum $(seq 1 "$n")) | while read -r key n; do
    read -r f <"$work/keys/$n.file"
    if [ $use_cache = 1 ] && [ -e "$cache/$key" ]; then continue; fi
    printf '%s\t%s\n' "$f" "$key" >>"$work/todo"
  done
  todo=$(wc -l <"$work/todo")
  echo "$total files, $((total - todo)) unchanged since a clean run, $todo to check ($jobs at a time)"

  tidy_one() {  # file key: stamps a clean file, keeps a finding's log
    local f=$1 key=$2 log
    log="$LINT_WORK/$(echo "$f" | tr / _).log"
    # shellcheck disable=SC2086 # LINT_ARGS holds several words
    if clang-tidy $LINT_ARGS "$f" >"$log" 2>&1 && ! grep -qE '(warning|error):' "$log"; then
      touch "$LINT_CACHE/$key"
      rm -f "$log"
    fi
  }
  export -f tidy_one
  export LINT_WORK=$work LINT_CACHE=$cache LINT_ARGS=$tidy_args
  tr '\t' '\n' <"$work/todo" | xargs -r -d '\n' -n 2 -P "$jobs" bash -c 'tidy_one "$1" "$2"' _
  shopt -s nullglob
  logs=("$work"/*.log)
  if [ ${#logs[@]} -gt 0 ]; then
    tidy_ok=0
    echo "${#logs[@]} file(s) with findings:"
    # One finding in a header shows up once per file that includes it: print each once.
    cat "${logs[@]}" | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' |
      grep -vE '^(Suppressed|Use -header-filter|Error while processing)' |
      awk '/^[^ ].*:[0-9]+:[0-9]+: (warning|error):/ { seen_it = seen[$0]++ } !seen_it' |
      head -n 200
  fi
fi

[ $format_ok = 1 ] && echo "lint: format ok" || { echo "lint: format FAILED"; status=1; }
[ $tidy_ok = 1 ] && echo "lint: tidy ok" || { echo "lint: tidy FAILED"; status=1; }
exit $status
