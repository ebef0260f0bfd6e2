#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the fuzz targets with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, makes their seed corpora from the test PKI
# and real handshakes (fuzz/make-corpus.c), and runs each target for a
# bounded time. Fails if any target crashes, leaks, hangs or trips a
# sanitizer; the input that did it is kept (see "Reproducing" in
# fuzz/README.md). Prints the executions of each target.
#
# Usage: fuzz/run.sh [--smoke | --long SECONDS] [--parallel N] [--target NAME]...
#                    [MESON_SETUP_OPTION...]
#
#   --smoke         every target for $FUZZ_SMOKE_SECONDS (default 60) seconds:
#                   what CI runs (tools/quickstart.sh test)
#   --long SECONDS  every target for SECONDS, at the lowest CPU priority,
#                   keeping the corpus it grows for the next run
#   --parallel N    run N targets at once (default 1)
#   --target NAME   only this target (repeatable): client-handshake,
#                   server-handshake, records, certificate, store-lookup
#   MESON_SETUP_OPTION...  passed to `meson setup`, e.g. -Dwerror=true
#
# Environment: FUZZ_BUILDDIR (default: _build-fuzz), CC (default: clang),
# FUZZ_SMOKE_SECONDS.
# Results: $FUZZ_BUILDDIR/fuzz/results/TARGET.log, the corpus grown in
# $FUZZ_BUILDDIR/fuzz/work/TARGET, crashing inputs as
# $FUZZ_BUILDDIR/fuzz/artifacts/TARGET-crash-*.

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$srcdir"

ALL_TARGETS=(client-handshake server-handshake records certificate store-lookup)

usage() {
  sed -n 's/^# \{0,1\}//; 4,27p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

mode=smoke
seconds=${FUZZ_SMOKE_SECONDS:-60}
parallel=1
targets=()
setup_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) mode=smoke ;;
    --long)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { echo "run.sh: --long needs a number of seconds" >&2; usage; }
      mode=long; seconds=$2; shift ;;
    --parallel)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --parallel needs a number" >&2; usage; }
      parallel=$2; shift ;;
    --target)
      [[ $# -ge 2 ]] || usage
      [[ " ${ALL_TARGETS[*]} " == *" $2 "* ]] || { echo "run.sh: unknown target '$2' (one of: ${ALL_TARGETS[*]})" >&2; exit 2; }
      targets+=("$2"); shift ;;
    -h|--help) usage ;;
    -D*) setup_args+=("$1") ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")

export CC=${CC:-clang}
BUILDDIR=${FUZZ_BUILDDIR:-_build-fuzz}

step() { printf '\n== fuzz: %s\n' "$*"; }

# --- tools ----------------------------------------------------------------
if ! command -v "$CC" >/dev/null; then
  echo "run.sh: $CC not found: libFuzzer needs clang (Debian 12: apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
probe=$(mktemp -d "${TMPDIR:-/tmp}/gsecsock-fuzz-probe.XXXXXX")
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput (const unsigned char *d, unsigned long n) { return 0; }\n' >"$probe/probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" 2>"$probe/log"; then
  echo "run.sh: $CC cannot build a libFuzzer target (Debian 12: apt-get install libclang-rt-14-dev):" >&2
  cat "$probe/log" >&2
  exit 1
fi

# --- build ------------------------------------------------------------------
# Only the fuzz targets and what they need are built: the library once
# more with coverage instrumentation, the test PKI and make-corpus.
setup=(-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false
       -Dintrospection=disabled -Ddocs=false "${setup_args[@]}")
if [[ -f "$BUILDDIR/meson-private/coredata.dat" ]]; then
  step "reconfiguring $BUILDDIR"
  meson setup --reconfigure "$BUILDDIR" "${setup[@]}" >"$probe/log" 2>&1 || { cat "$probe/log" >&2; exit 1; }
else
  step "configuring $BUILDDIR (CC=$CC, libFuzzer, ASan, UBSan)"
  meson setup "$BUILDDIR" "${setup[@]}" >"$probe/log" 2>&1 || { cat "$probe/log" >&2; exit 1; }
fi
step "building the targets and the seed corpora"
build_targets=(fuzz-corpus)
for target in "${targets[@]}"; do build_targets+=("fuzz-$target"); done
meson compile -C "$BUILDDIR" -j 2 "${build_targets[@]}"

fuzzdir="$BUILDDIR/fuzz"
results="$fuzzdir/results"
artifacts="$fuzzdir/artifacts"
mkdir -p "$results" "$artifacts"

export GSECSOCK_TEST_PKI_DIR="$(cd "$BUILDDIR" && pwd)/tests/pki"
export G_SLICE=always-malloc G_DEBUG=gc-friendly
# A smaller quarantine and shorter allocation stacks than ASan's defaults
# double the executions per second of the handshake targets (fewer page
# faults); use-after-free within the last 32 MiB freed is still caught.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=32:malloc_context_size=10:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# --- run --------------------------------------------------------------------
# One target: libFuzzer grows work/TARGET (the first directory) from the
# fresh seeds and the committed reproducers; the log ends with its stats.
# An input takes milliseconds, except a PKCS#12 file or key asking for
# close to the 2 million key derivation iterations the library accepts:
# a few seconds, for each password tried. Longer than 60 s is a hang.
run_target() {
  local target=$1 log="$results/$1.log"
  local work="$fuzzdir/work/$target" seeds=("$fuzzdir/corpus/$target")
  local nice_cmd=()

  mkdir -p "$work"
  [[ -d "fuzz/regressions/$target" ]] && seeds+=("fuzz/regressions/$target")
  [[ $mode == long ]] && nice_cmd=(nice -n 19)
  "${nice_cmd[@]}" "$fuzzdir/fuzz-$target" \
    -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2560 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
    "$work" "${seeds[@]}" >"$log" 2>&1
}

step "running ${targets[*]} for ${seconds} s each ($mode, $parallel at a time)"
declare -A status
pids=()
names=()
for target in "${targets[@]}"; do
  run_target "$target" &
  pids+=($!)
  names+=("$target")
  if [[ ${#pids[@]} -ge $parallel ]]; then
    wait "${pids[0]}" && status[${names[0]}]=0 || status[${names[0]}]=$?
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" && status[${names[$i]}]=0 || status[${names[$i]}]=$?
done

# --- report -----------------------------------------------------------------
failed=0
printf '\n%-18s %14s %9s %8s  %s\n' target executions exec/s corpus result
for target in "${targets[@]}"; do
  log="$results/$target.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  corpus=$(find "$fuzzdir/work/$target" -type f | wc -l)
  if [[ ${status[$target]} -eq 0 ]]; then
    result=ok
  else
    result="FAILED (exit ${status[$target]})"
    failed=1
  fi
  printf '%-18s %14s %9s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" "$corpus" "$result"
done

if [[ $failed -ne 0 ]]; then
  for target in "${targets[@]}"; do
    [[ ${status[$target]} -eq 0 ]] && continue
    echo
    echo "== fuzz: $target failed; the end of $results/$target.log:" >&2
    tail -n 60 "$results/$target.log" >&2
  done
  echo >&2
  echo "fuzz: inputs that failed are in $artifacts; see \"Reproducing\" in fuzz/README.md" >&2
  exit 1
fi
