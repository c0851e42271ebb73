#!/usr/bin/env bash
# Every netcap command side by side with `cat` of the same files (from the page cache)
# and with tshark doing the same work, on generated TCP-in-VXLAN captures: one capture
# with 0.5 % of its packets missing, and two captures of one stream as two points (the
# second 40 µs later with 0.5 % lost). Wall time, ratios, the scaling from 1 to 2
# threads, peak RSS, and peak RSS at three sizes. See docs/performance.md.
#
# usage: benches/compare.sh [--size SIZE] [--mem-sizes "S1 S2 S3"] [--runs N] [--no-tshark]
#   --size       the captures timed (default 1600M: each of the two files; ≥ 1.5 GB)
#   --mem-sizes  the sizes of the memory table (default "512M 1600M 4G")
#   --runs       runs per netcap measurement, the median is reported (default 3)
#   --no-tshark  skip tshark
# Sizes take K/M/G (powers of 1024) or KB/MB/GB (powers of 1000). The captures go to a
# temporary directory under ${TMPDIR:-/tmp} (about 2 × SIZE + the largest mem size),
# deleted at the end.
set -euo pipefail

SIZE=1600M
MEM_SIZES="512M 1600M 4G"
RUNS=3
TSHARK=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift 2 ;;
    --mem-sizes) MEM_SIZES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-tshark) TSHARK=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# ---- tools -------------------------------------------------------------------------
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
[ -x /usr/bin/time ] || missing+=(time)
if [ "$TSHARK" = 1 ] && ! command -v tshark >/dev/null; then missing+=(tshark); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq && as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== build"
cargo build --release -q -p netcap-cli -p netcap-benches
BIN=${CARGO_TARGET_DIR:-target}/release
NETCAP=$BIN/netcap

WORK=$(mktemp -d "${TMPDIR:-/tmp}/netcap-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- helpers -----------------------------------------------------------------------
wall_seconds() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f\n", s }' "$1"
}
max_rss_kb() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
warm() { cat "$@" >/dev/null; }

# The files read back into the page cache before every run: this machine's kernel
# reclaims page cache within seconds (DAMON), so "from the page cache" holds only right
# after a read.
WARM=()

# measure TAG CMD...: median wall of RUNS runs into WALL, the largest peak RSS (KiB)
# into RSS; the output of the last run in $WORK/TAG.out.
measure() {
  local tag=$1; shift
  local walls=() rss=0 i r
  for i in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/export"
    [ ${#WARM[@]} -gt 0 ] && warm "${WARM[@]}"
    /usr/bin/time -v -o "$WORK/$tag.time" "$@" >"$WORK/$tag.out" 2>"$WORK/$tag.err" || {
      echo "compare.sh: $tag failed:" >&2; cat "$WORK/$tag.err" >&2; exit 1; }
    walls+=("$(wall_seconds "$WORK/$tag.time")")
    r=$(max_rss_kb "$WORK/$tag.time"); [ "$r" -gt "$rss" ] && rss=$r
  done
  WALL=$(printf '%s\n' "${walls[@]}" | median)
  FASTEST=$(printf '%s\n' "${walls[@]}" | sort -g | head -1)
  RSS=$rss
}

# The commands, as "name|arguments" (FILES stands for the inputs).
COMMANDS=(
  "summary|summary FILES"
  "flows|flows FILES"
  "correlate|correlate FILES"
  "export|export -o $WORK/export FILES"
  "report|report -o $WORK/report.html FILES"
)
# run_netcap NAME THREADS FILES...: measure one command.
run_netcap() {
  local name=$1 threads=$2; shift 2
  local spec args=()
  for spec in "${COMMANDS[@]}"; do [ "${spec%%|*}" = "$name" ] && break; done
  for a in ${spec#*|}; do
    if [ "$a" = FILES ]; then args+=("$@"); else args+=("$a"); fi
  done
  measure "$name-$threads" "$NETCAP" "${args[@]}" --threads "$threads"
}

# ---- captures ----------------------------------------------------------------------
echo "== generate two points of one stream, $SIZE each (TCP in VXLAN/8472, 4 connections)"
"$BIN/gen-bulk" --size "$SIZE" --out "$WORK/a.pcap" 2>&1 | sed 's/^/   /'
"$BIN/gen-bulk" --size "$SIZE" --loss 0.5 --delay-us 40 --out "$WORK/b.pcap" 2>&1 | sed 's/^/   /'
A=$WORK/a.pcap B=$WORK/b.pcap
sync  # the captures on disk: no writeback competes with the runs
BYTES_B=$(stat -c %s "$B") BYTES_AB=$(( $(stat -c %s "$A") + BYTES_B ))

echo "== machine"
echo "   $(lscpu | awk -F': *' '/^Model name/ { print $2 }'), $(nproc) CPUs, $(free -g | awk '/^Mem/ { print $2 }') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   netcap $($NETCAP --version | awk '{ print $2 }')$( [ "$TSHARK" = 1 ] && echo ", $(tshark --version 2>/dev/null | head -1)")"

# ---- cat ---------------------------------------------------------------------------
# The fastest of RUNS reads right after the files were read: the page cache's speed.
WARM=("$B"); measure cat-b cat "$B"; CAT_B=$FASTEST
WARM=("$A" "$B"); measure cat-ab cat "$A" "$B"; CAT_AB=$FASTEST
echo "== cat from the page cache (fastest of $RUNS): $CAT_B s for one capture ($BYTES_B B), $CAT_AB s for both ($BYTES_AB B)"

# ---- the facts the runs must show --------------------------------------------------
"$NETCAP" correlate --format json "$A" "$B" >"$WORK/facts.json"
LOST=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(p["lost"] for p in d["pairs"]))' "$WORK/facts.json" 2>/dev/null || echo "?")
echo "== correlate of the two points: $LOST packets lost between them (the generator left out 0.5 %)"

# ---- tshark ------------------------------------------------------------------------
TS_ONE=- TS_BOTH=- TS_ONE_RSS=-
if [ "$TSHARK" = 1 ]; then
  tshark_run() {
    /usr/bin/time -v -o "$WORK/tshark.time" tshark -n -q -r "$1" -z conv,tcp -z expert \
      -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE \
      -o tcp.analyze_sequence_numbers:TRUE -d udp.port==8472,vxlan >/dev/null 2>&1
  }
  warm "$B"; warm "$B"; tshark_run "$B"; TS_ONE=$(wall_seconds "$WORK/tshark.time"); TS_ONE_RSS=$(max_rss_kb "$WORK/tshark.time")
  warm "$A"; warm "$A"; tshark_run "$A"; TS_A=$(wall_seconds "$WORK/tshark.time")
  TS_BOTH=$(awk -v a="$TS_A" -v b="$TS_ONE" 'BEGIN { printf "%.2f", a + b }')
  echo "== tshark (conversations, expert info, TCP analysis, 3 checksums): $TS_ONE s / $(mib "$TS_ONE_RSS") MiB for one capture, $TS_BOTH s for both"
fi

# ---- netcap ------------------------------------------------------------------------
echo
echo "== netcap, page cache warm, median of $RUNS runs"
printf '%-10s %-6s %8s %8s %8s %8s %8s %8s %9s\n' command input "2 thr s" "1 thr s" "1→2" "cat s" "÷cat" "÷tshark" "RSS MiB"
row() { # name input files...
  local name=$1 input=$2; shift 2
  WARM=("$@")
  run_netcap "$name" 2 "$@"; local w2=$WALL r2=$RSS
  run_netcap "$name" 1 "$@"; local w1=$WALL
  # cat of the same files, measured beside the command (fastest of RUNS, as above).
  measure "cat-$name-$input" cat "$@"; local cat=$FASTEST ts=$TS_ONE
  [ "$input" = "a+b" ] && ts=$TS_BOTH
  printf '%-10s %-6s %8s %8s %8s %8s %8s %8s %9s\n' "$name" "$input" "$w2" "$w1" "$(ratio "$w1" "$w2")x" \
    "$cat" "$(ratio "$w2" "$cat")" "$(ratio "$w2" "$ts")" "$(mib "$r2")"
}
for c in summary flows correlate export report; do row "$c" b "$B"; done
for c in correlate export report; do row "$c" a+b "$A" "$B"; done

# ---- memory at three sizes ---------------------------------------------------------
echo
echo "== peak RSS (MiB) by capture size, one capture with 0.5 % loss, 2 threads"
printf '%-10s' command; for s in $MEM_SIZES; do printf ' %10s' "$s"; done; echo
for s in $MEM_SIZES; do
  "$BIN/gen-bulk" --size "$s" --loss 0.5 --delay-us 40 --out "$WORK/m-$s.pcap" >/dev/null 2>&1
done
for c in summary flows correlate export report; do
  printf '%-10s' "$c"
  for s in $MEM_SIZES; do
    WARM=("$WORK/m-$s.pcap")
    RUNS_SAVED=$RUNS; RUNS=1; run_netcap "$c" 2 "$WORK/m-$s.pcap"; RUNS=$RUNS_SAVED
    printf ' %10s' "$(mib "$RSS")"
  done
  echo
done
