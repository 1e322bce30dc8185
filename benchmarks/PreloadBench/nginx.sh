#!/usr/bin/env bash
# Debian's nginx, one process (master_process off), serving short requests a connection each while
# idle keep-alive connections sit in its epoll set, on the kernel's epoll and on EpollGen's through
# LD_PRELOAD=libepollgen.so.
#
# Compiles idle_holder.c with gcc -O2, publishes src/Preload (NativeAOT) into a temporary directory
# unless --so names a built libepollgen.so, then runs interleaved rounds: in every round, for every
# idle count, one kernel run and one preload run, the order swapped each round so a slow spell of
# this shared VM hits both sides alike. A run starts a fresh nginx (a 4 KiB static page, no access
# log, worker_connections and keepalive_timeout large enough), opens the idle connections with
# idle_holder (one keep-alive request answered on each, then held), sends --warmup requests with ab,
# then the timed ab run: --requests requests, --concurrency at a time, "Connection: close", so each
# is an accept, a request, a response and nginx's close. ab must report every request complete and
# none failed or non-2xx, and the holder must find all its connections still open at the end, or
# the run counts as failed. The table gives ab's requests/s, median and min–max over the rounds per
# side, and the preload/kernel ratio of each round's pair, median and min–max.
#
# Usage: benchmarks/PreloadBench/nginx.sh [options]
#   --so PATH          use this libepollgen.so instead of publishing one
#   --rounds R         interleaved rounds (default 5)
#   --idle "N ..."     idle keep-alive connection counts (default "0 5000")
#   --requests Q       timed requests per run (default 20000)
#   --concurrency C    ab's concurrency (default 50)
#   --warmup W         untimed requests before each timed run (default 1000)
# Exit status: 0 every run passed; 1 some run failed (its output is shown); 2 bad usage, a missing
# tool or a failed build.
set -euo pipefail
export LC_ALL=C

rounds=5 idle_counts="0 5000" requests=20000 concurrency=50 warmup=1000 so=""
usage() { sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --so) so="$(realpath "$2")"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --idle) idle_counts="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "nginx.sh: unknown option '$1'" >&2; usage ;;
  esac
done
unset LD_PRELOAD  # the kernel side, ab and the holder must not inherit a preload from the caller

nginx=/usr/sbin/nginx
for tool in "$nginx" ab gcc; do
  command -v "$tool" >/dev/null || { echo "nginx.sh: $tool is missing (apt-get install -y nginx apache2-utils gcc)" >&2; exit 2; }
done

# nginx in single-process mode does not apply worker_rlimit_nofile; it, ab and the holder inherit this.
ulimit -n "$(ulimit -Hn)"
max_idle=0
for n in $idle_counts; do [ "$n" -gt "$max_idle" ] && max_idle=$n; done
if [ $((max_idle + concurrency + 64)) -gt "$(ulimit -n)" ]; then
  echo "nginx.sh: $max_idle idle connections need more than the fd limit of $(ulimit -n)" >&2
  exit 2
fi

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/epollgen-nginxbench.XXXXXX)"
nginx_pid="" holder_pid=""
cleanup() {
  [ -z "$holder_pid" ] || kill -KILL "$holder_pid" 2>/dev/null || true
  [ -z "$nginx_pid" ] || kill -KILL "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so that the EXIT trap runs and kills what this run started

gcc -O2 -Wall -o "$work/idle_holder" "$here/idle_holder.c"

if [ -z "$so" ]; then
  project="$repo/src/Preload/EpollGen.Preload.csproj"
  echo "publishing $project (NativeAOT) ..." >&2
  if ! dotnet publish "$project" -c Release -r linux-x64 -o "$work/preload" -nologo -v:quiet >"$work/publish.log" 2>&1; then
    cat "$work/publish.log" >&2
    exit 2
  fi
  so="$work/preload/libepollgen.so"
fi
[ -f "$so" ] || { echo "nginx.sh: no library at $so" >&2; exit 2; }

mkdir -p "$work/html" "$work/temp" "$work/results"
head -c 4095 /dev/zero | tr '\0' x >"$work/html/page.html"
echo >>"$work/html/page.html"

# A loopback port nothing listens on now, below the ephemeral range (32768 up): every run leaves
# thousands of connections in TIME-WAIT, and one of a client's ephemeral port blocks nginx's bind.
free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

write_config() { # port
  {
    echo "master_process off;"
    echo "worker_processes 1;"
    # As root nginx would otherwise switch to nobody, who cannot read this 0700 folder.
    [ "$(id -u)" != 0 ] || echo "user root;"
    echo "pid $work/nginx.pid;"
    echo "error_log $work/error.log notice;"
    echo "events { worker_connections $((max_idle + concurrency + 1000)); }"
    echo "http {"
    echo "  access_log off;"
    echo "  keepalive_timeout 3600s;"
    echo "  keepalive_requests 1000000;"
    for temp in client_body proxy fastcgi uwsgi scgi; do echo "  ${temp}_temp_path $work/temp/$temp;"; done
    echo "  server { listen 127.0.0.1:$1 backlog=4096; root $work/html; }"
    echo "}"
  } >"$work/nginx.conf"
}

# Polls the command every 50 ms until it succeeds (status 0), gives up when it says it never will
# (status 2) or when the deadline passes.
wait_for() { # description seconds command...
  local what="$1" limit="$2" status; shift 2
  local deadline=$((SECONDS + limit))
  while :; do
    status=0; "$@" || status=$?
    [ "$status" != 0 ] || return 0
    if [ "$status" = 2 ]; then echo "gave up waiting for $what: the process exited" >&2; return 1; fi
    if [ "$SECONDS" -ge "$deadline" ]; then echo "timed out after $limit s waiting for $what" >&2; return 1; fi
    sleep 0.05
  done
}

# A child that exited is a zombie until waited for, which kill -0 still finds.
gone() { [ ! -e "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || { gone "$nginx_pid" && return 2; return 1; }; }
holding() { grep -qx "holding $1" "$work/holder.out" || { gone "$holder_pid" && return 2; return 1; }; }

ab_check() { # report expected-count: every request complete, none failed, all 2xx
  awk -v n="$2" '
    /^Complete requests:/ { complete = $3 }
    /^Failed requests:/ { failed = $3 }
    /^Non-2xx responses:/ { non2xx = $3 }
    /^Write errors:/ { writes = $3 }
    /^Requests per second:/ { rate = $4 }
    END {
      if (complete != n || failed != 0 || non2xx + 0 != 0 || writes + 0 != 0 || rate == "") exit 1
      print rate
    }' "$1"
}

# One run: sets rate to ab's requests/s, or fails with what went wrong in $work/run.err. It runs in
# this shell, not a subshell, so that the EXIT trap knows the pids it starts.
run_once() { # side idle
  local side="$1" idle="$2" port status=0
  rate=""
  port="$(free_port)"
  write_config "$port"
  : >"$work/error.log"
  rm -f "$work/ab.out"
  if [ "$side" = preload ]; then
    LD_PRELOAD="$so" "$nginx" -p "$work/" -c "$work/nginx.conf" -e "$work/error.log" -g 'daemon off;' >"$work/nginx.out" 2>&1 &
  else
    "$nginx" -p "$work/" -c "$work/nginx.conf" -e "$work/error.log" -g 'daemon off;' >"$work/nginx.out" 2>&1 &
  fi
  nginx_pid=$!
  {
    wait_for "nginx on port $port" 10 listening "$port" &&
    if [ "$side" = preload ] && ! grep -q "/$(basename "$so")$" "/proc/$nginx_pid/maps"; then
      echo "nginx started with LD_PRELOAD=$so has not loaded it" >&2; false
    fi &&
    if [ "$idle" -gt 0 ]; then
      # The last run's file goes first: the new holder truncates it only once it has started, and
      # until then its "holding" line would let the load begin beside a set still filling up.
      rm -f "$work/holder.out"
      "$work/idle_holder" -p "$port" -n "$idle" >"$work/holder.out" 2>&1 &
      holder_pid=$!
      wait_for "$idle idle connections" 120 holding "$idle"
    fi &&
    ab -q -n "$warmup" -c "$concurrency" -H 'Connection: close' "http://127.0.0.1:$port/page.html" >"$work/ab.out" 2>&1 &&
    ab_check "$work/ab.out" "$warmup" >/dev/null &&
    ab -q -n "$requests" -c "$concurrency" -H 'Connection: close' "http://127.0.0.1:$port/page.html" >"$work/ab.out" 2>&1 &&
    rate="$(ab_check "$work/ab.out" "$requests")"
  } 2>"$work/run.err" || status=1
  [ "$status" = 0 ] || cat "$work/ab.out" >>"$work/run.err" 2>/dev/null || true
  if [ -n "$holder_pid" ]; then
    kill -TERM "$holder_pid" 2>/dev/null || true
    local held=0
    wait "$holder_pid" || held=$?
    if [ "$held" != 0 ]; then
      status=1
      { echo "idle_holder exited $held (128 + n: signal n), its output:"; cat "$work/holder.out"; } >>"$work/run.err"
    fi
    holder_pid=""
  fi
  kill -QUIT "$nginx_pid" 2>/dev/null || true
  if ! wait_for "nginx to exit" 10 gone "$nginx_pid" 2>>"$work/run.err"; then
    kill -KILL "$nginx_pid" 2>/dev/null || true
    status=1
  fi
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=""
  if [ "$status" != 0 ]; then
    { echo "nginx error log and output:"; cat "$work/error.log" "$work/nginx.out"; } >>"$work/run.err"
    return 1
  fi
}

source "$(dirname "$0")/stats.sh"

failed=0
echo "nginx $("$nginx" -v 2>&1 | sed 's/.*nginx\///'), master_process off; idle [$idle_counts]; ab -n $requests -c $concurrency -H 'Connection: close' (after $warmup warm-up); $rounds rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq 1 "$rounds"); do
  order="kernel preload"
  [ $((round % 2)) = 1 ] || order="preload kernel"
  line="round $round/$rounds:"
  for idle in $idle_counts; do
    line+=" idle=$idle"
    declare -A this_round=()
    for side in $order; do
      if run_once "$side" "$idle"; then
        echo "$rate" >>"$work/results/$idle-$side"
        this_round[$side]="$rate"
        line+=" $side=$rate"
      else
        failed=1
        line+=" $side=FAIL"
        { echo "--- $side, $idle idle (round $round) failed:"; cat "$work/run.err"; } >>"$work/failures"
      fi
    done
    # The ratio pairs the two runs of one round, which a slow spell of the VM hit alike.
    if [ -n "${this_round[kernel]:-}" ] && [ -n "${this_round[preload]:-}" ]; then
      awk -v k="${this_round[kernel]}" -v p="${this_round[preload]}" 'BEGIN { printf "%.3f\n", p / k }' >>"$work/results/$idle-ratio"
    fi
    unset this_round
  done
  echo "$line" >&2
done

echo
echo "nginx, one process, ab -n $requests -c $concurrency with Connection: close, requests/s: median (min–max) of $rounds rounds; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
# The cells hold an en dash, three bytes in the C locale that printf pads by: the header pads two less.
printf '%-6s %-26s %-26s %s\n' idle kernel preload "ratio preload/kernel"
for idle in $idle_counts; do
  read -r km kmin kmax kc < <(stats "$work/results/$idle-kernel" 0)
  read -r pm pmin pmax pc < <(stats "$work/results/$idle-preload" 0)
  read -r rm rmin rmax rc < <(stats "$work/results/$idle-ratio" 3)
  printf '%-6s %-28s %-28s %s\n' "$idle" "$(cell "$km" "$kmin" "$kmax" "$kc")" "$(cell "$pm" "$pmin" "$pmax" "$pc")" "$(cell "$rm" "$rmin" "$rmax" "$rc")"
done

if [ "$failed" = 1 ]; then
  echo
  cat "$work/failures" >&2
  exit 1
fi
