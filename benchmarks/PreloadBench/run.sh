#!/usr/bin/env bash
# The libevent bench.c chain workload (chain.c) on the kernel's epoll and on EpollGen's through
# LD_PRELOAD=libepollgen.so, plus what the preload costs a process at start-up.
#
# Compiles chain.c and startup.c with gcc -O2, publishes src/Preload (NativeAOT) into a temporary
# directory unless --so names a built libepollgen.so, then runs interleaved rounds: in every round,
# for every n and mode, one kernel process and one preload process, the order swapped each round
# so a slow spell of this shared VM hits both sides alike. A process runs the iterations and
# reports the median of all but the first; the table gives the median and min–max of those
# per-process medians over the rounds, and the ratio preload / kernel of the medians.
#
# Usage: benchmarks/PreloadBench/run.sh [options]
#   --so PATH         use this libepollgen.so instead of publishing one
#   --kernel-only     run only the kernel side (no preload needed; checks the harness itself)
#   --rounds R        interleaved rounds (default 7)
#   --pairs "N ..."   socketpair counts (default "100 1000 9900"; the VM's fd limit of 20000
#                     allows up to 9975)
#   --active A        active pairs (default 100)
#   --writes W        chained writes per iteration (default 1000)
#   --iterations I    iterations per process, the first is not counted (default 25)
#   --modes "..."     lt, et or both (default "lt et")
#   --startup-runs S  timed runs per side of the start-up program (default 30)
#   --pin CPU         run everything on this CPU (taskset); default: unpinned, since the preload
#                     may run threads of its own that pinning would squeeze onto one CPU
#   --max-ratio X     the preload/kernel ratio the issue allows (default 1.2)
# Exit status: 0 all ran and every ratio is within --max-ratio; 1 a process failed (its stderr is
# shown); 3 all ran but some ratio is above --max-ratio; 2 bad usage or a failed build.
set -euo pipefail
export LC_ALL=C  # EPOCHREALTIME and printf use '.' as the decimal point

rounds=7 pairs="100 1000 9900" active=100 writes=1000 iterations=25 modes="lt et"
startup_runs=30 pin="" so="" kernel_only=0 max_ratio=1.2
original_args=("$@")
usage() { sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --so) so="$(realpath "$2")"; shift 2 ;;
    --kernel-only) kernel_only=1; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    --active) active="$2"; shift 2 ;;
    --writes) writes="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --startup-runs) startup_runs="$2"; shift 2 ;;
    --pin) pin="$2"; shift 2 ;;
    --max-ratio) max_ratio="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage ;;
  esac
done

# Pin by re-running this script under taskset: children inherit the affinity, and no taskset
# process sits between the script and the program, where LD_PRELOAD would load the library twice.
if [ -n "$pin" ] && [ "${EPOLLGEN_BENCH_PINNED:-}" != "$pin" ]; then
  EPOLLGEN_BENCH_PINNED="$pin" exec taskset -c "$pin" "$0" "${original_args[@]}"
fi
unset LD_PRELOAD  # the kernel side must not inherit a preload from the caller

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/epollgen-preloadbench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

gcc -O2 -Wall -o "$work/chain" "$here/chain.c"
gcc -O2 -Wall -o "$work/startup" "$here/startup.c"

sides="kernel"
if [ "$kernel_only" = 0 ]; then
  if [ -z "$so" ]; then
    project="$repo/src/Preload/EpollGen.Preload.csproj"
    if [ ! -f "$project" ]; then
      echo "run.sh: $project is missing; pass --so PATH or --kernel-only" >&2
      exit 2
    fi
    echo "publishing $project (NativeAOT) ..." >&2
    if ! dotnet publish "$project" -c Release -r linux-x64 -o "$work/preload" -nologo -v:quiet >"$work/publish.log" 2>&1; then
      cat "$work/publish.log" >&2
      exit 2
    fi
    so="$work/preload/libepollgen.so"
  fi
  if [ ! -f "$so" ]; then
    echo "run.sh: no library at $so" >&2
    exit 2
  fi
  sides="kernel preload"
fi

# Runs one program on one side; the preload is set on the program alone, not on this shell.
on_side() { # side program args...
  local side="$1"; shift
  if [ "$side" = preload ]; then LD_PRELOAD="$so" "$@"; else "$@"; fi
}

source "$(dirname "$0")/stats.sh"

per_event() { # median -> ns per event
  awk -v m="$1" -v e=$((active + writes)) 'BEGIN { if (m == "-") print "-"; else printf "%.0f", m * 1000 / e }'
}

failed=0
mkdir -p "$work/results"
echo "chain: pairs [$pairs], a=$active, w=$writes, $iterations iterations/process, modes [$modes], $rounds rounds${pin:+, pinned to CPU $pin}" >&2
for round in $(seq 1 "$rounds"); do
  order="$sides"
  if [ $((round % 2)) = 0 ] && [ "$kernel_only" = 0 ]; then order="preload kernel"; fi
  line="round $round/$rounds:"
  for n in $pairs; do
    for mode in $modes; do
      line+=" n=$n $mode"
      for side in $order; do
        key="$n-$mode-$side"
        if out="$(on_side "$side" "$work/chain" -n "$n" -a "$active" -w "$writes" -i "$iterations" -m "$mode" 2>"$work/stderr")"; then
          median="$(awk '/^summary / { sub(/.*median_us=/, ""); sub(/ .*/, ""); print }' <<<"$out")"
          echo "$median" >>"$work/results/$key"
          line+=" $side=$median"
        else
          failed=1
          line+=" $side=FAIL"
          { echo "--- $side n=$n mode=$mode (round $round) failed:"; cat "$work/stderr"; } >>"$work/failures"
        fi
      done
    done
  done
  echo "$line" >&2
done

echo
echo "Chain workload, a=$active w=$writes, µs per iteration: median (min–max) of $rounds per-process medians"
if [ "$kernel_only" = 1 ]; then
  printf '%-6s %-4s %-26s %10s\n' n mode kernel "ns/event"
else
  printf '%-6s %-4s %-26s %-26s %7s %10s %10s\n' n mode kernel preload ratio "ns/ev kern" "ns/ev pre"
fi
over=0
for n in $pairs; do
  for mode in $modes; do
    read -r km kmin kmax kc < <(stats "$work/results/$n-$mode-kernel" 1)
    if [ "$kernel_only" = 1 ]; then
      printf '%-6s %-4s %-26s %10s\n' "$n" "$mode" "$(cell "$km" "$kmin" "$kmax" "$kc")" "$(per_event "$km")"
      continue
    fi
    read -r pm pmin pmax pc < <(stats "$work/results/$n-$mode-preload" 1)
    ratio="$(awk -v k="$km" -v p="$pm" 'BEGIN { if (k == "-" || p == "-") print "-"; else printf "%.3f", p / k }')"
    mark=""
    if [ "$ratio" != "-" ] && awk -v r="$ratio" -v x="$max_ratio" 'BEGIN { exit !(r > x) }'; then
      mark=" > $max_ratio"; over=1
    fi
    printf '%-6s %-4s %-26s %-26s %7s %10s %10s%s\n' "$n" "$mode" "$(cell "$km" "$kmin" "$kmax" "$kc")" \
      "$(cell "$pm" "$pmin" "$pmax" "$pc")" "$ratio" "$(per_event "$km")" "$(per_event "$pm")" "$mark"
  done
done

# Start-up: bash's own clock around a fork+exec of the program, the same overhead on both sides.
# One untimed run per side first, so both start from a warm page cache.
echo
for side in $sides; do on_side "$side" "$work/startup" 2>/dev/null || true; done  # failures are counted below
for i in $(seq 1 "$startup_runs"); do
  for side in $sides; do
    t0=$EPOCHREALTIME
    if ! on_side "$side" "$work/startup" 2>"$work/stderr"; then
      failed=1
      { echo "--- startup under $side failed (run $i):"; cat "$work/stderr"; } >>"$work/failures"
    fi
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$work/results/startup-$side"
  done
done
echo "Start-up: fork + exec + one epoll_create1 + exit, ms: median (min–max) of $startup_runs runs"
read -r skm skmin skmax _ < <(stats "$work/results/startup-kernel" 3)
printf '  kernel   %s (%s–%s)\n' "$skm" "$skmin" "$skmax"
if [ "$kernel_only" = 0 ]; then
  read -r spm spmin spmax _ < <(stats "$work/results/startup-preload" 3)
  printf '  preload  %s (%s–%s), %s ms per process\n' "$spm" "$spmin" "$spmax" \
    "$(awk -v p="$spm" -v k="$skm" 'BEGIN { printf "%+.3f", p - k }')"
  size="$(stat -c %s "$so")"
  printf 'libepollgen.so: %s bytes (%s MiB), %s\n' "$size" "$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }')" "$so"
fi

if [ "$failed" = 1 ]; then
  echo
  cat "$work/failures" >&2
  exit 1
fi
[ "$over" = 0 ] || exit 3
