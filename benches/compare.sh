#!/usr/bin/env bash
# netcap vs tshark on a generated bulk capture, plus netcap's memory at two file sizes
# and a one-core decode + checksum pass. See docs/performance.md.
#
# usage: benches/compare.sh [--size SIZE] [--small-size SIZE] [--runs N] [--no-tshark]
#                           [--payload text|random]
#   --size        the capture timed against tshark (default 1G = 1 GiB; at least 1 GB
#                 for the published figure)
#   --small-size  the second size for the memory comparison (default 256M)
#   --runs        netcap runs per file, the median is reported (default 3; tshark runs once)
#   --no-tshark   skip tshark (netcap figures only)
#   --payload     what the frames carry (default text; random makes tshark's Thrift
#                 heuristic reassemble without end: hours for 1 GiB, see the doc)
# Sizes take K/M/G (powers of 1024) or KB/MB/GB (powers of 1000). The captures go to a
# temporary directory under ${TMPDIR:-/tmp}, deleted at the end.
set -euo pipefail

SIZE=1G
SMALL_SIZE=256M
RUNS=3
TSHARK=1
PAYLOAD=text
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift 2 ;;
    --small-size) SMALL_SIZE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-tshark) TSHARK=0; shift ;;
    --payload) PAYLOAD=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# ---- tools -------------------------------------------------------------------------
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
apt_install() {
  echo "== installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y --no-install-recommends "$@"; then
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends "$@"
  fi
}
missing=()
[ -x /usr/bin/time ] || missing+=(time)
if [ "$TSHARK" = 1 ] && ! command -v tshark >/dev/null; then missing+=(tshark); fi
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c 0); fi

echo "== build"
cargo build --release -p netcap-cli -p netcap-benches
BIN=${CARGO_TARGET_DIR:-target}/release
NETCAP=$BIN/netcap

# ---- helpers -----------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/netcap-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Seconds from GNU time's "h:mm:ss" or "m:ss.ss".
wall_seconds() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f\n", s }' "$1"
}
max_rss_kb() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
cpu_seconds() {
  awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f\n", u + s }' "$1"
}
# Median of the numbers on standard input.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
gbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.2f", b / s / 1e9; else print "inf" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
warm() { cat "$1" >/dev/null; }

# Runs netcap summary on $1 RUNS times; sets NC_WALL (median), NC_RSS (max), NC_CPU.
time_netcap() {
  local file=$1 tag=$2 walls=() rss=0 cpu=0 i
  warm "$file"
  for i in $(seq 1 "$RUNS"); do
    /usr/bin/time -v -o "$WORK/$tag.$i.time" "$NETCAP" summary "$file" >"$WORK/$tag.out"
    walls+=("$(wall_seconds "$WORK/$tag.$i.time")")
    local r; r=$(max_rss_kb "$WORK/$tag.$i.time")
    [ "$r" -gt "$rss" ] && rss=$r
    cpu=$(cpu_seconds "$WORK/$tag.$i.time")
    echo "   run $i: wall ${walls[-1]} s, cpu $cpu s, max RSS $(mib "$r") MiB"
  done
  NC_WALL=$(printf '%s\n' "${walls[@]}" | median)
  NC_RSS=$rss
  NC_CPU=$cpu
}

# ---- captures ----------------------------------------------------------------------
echo "== generate ($SIZE and $SMALL_SIZE, full-size TCP-in-VXLAN/8472, $PAYLOAD payload) into $WORK"
"$BIN/gen-bulk" --size "$SIZE" --payload "$PAYLOAD" --out "$WORK/bulk.pcap" 2>&1 | tee "$WORK/gen.out" | sed 's/^/   /'
"$BIN/gen-bulk" --size "$SMALL_SIZE" --payload "$PAYLOAD" --out "$WORK/small.pcap" 2>&1 | sed 's/^/   /'
FRAMES=$(awk '{ print $2 }' "$WORK/gen.out")
BYTES=$(stat -c %s "$WORK/bulk.pcap")
SMALL_BYTES=$(stat -c %s "$WORK/small.pcap")

echo "== machine"
echo "   $(lscpu | awk -F': *' '/^Model name/ { print $2 }'), $(nproc) CPUs, $(free -g | awk '/^Mem/ { print $2 }') GiB RAM"
echo "   netcap $($NETCAP --version | awk '{ print $2 }')$( [ "$TSHARK" = 1 ] && echo ", $(tshark --version 2>/dev/null | head -1)")"

# ---- netcap ------------------------------------------------------------------------
echo "== netcap summary, $BYTES bytes ($RUNS runs, page cache warm)"
time_netcap "$WORK/bulk.pcap" netcap-big
BIG_WALL=$NC_WALL BIG_RSS=$NC_RSS BIG_CPU=$NC_CPU
sed -n '/^Encapsulations/,$p' "$WORK/netcap-big.out" | sed 's/^/   | /'
if [ "$(awk 'NR == 1 { print $1 }' "$WORK/netcap-big.out")" != "$FRAMES" ]; then
  echo "compare.sh: netcap did not count the $FRAMES frames written" >&2
  exit 1
fi
if grep -qE '^ +[a-z0-9]+@[0-9]+ +(bad|partial|absent|illegal_zero|unverifiable)' "$WORK/netcap-big.out"; then
  echo "compare.sh: netcap reported a non-good checksum on the generated capture" >&2
  exit 1
fi

echo "== netcap summary, $SMALL_BYTES bytes ($RUNS runs)"
time_netcap "$WORK/small.pcap" netcap-small
SMALL_WALL=$NC_WALL SMALL_RSS=$NC_RSS

echo "== one core: decode + every checksum (decode-pass, ${PIN[*]:-no taskset})"
warm "$WORK/bulk.pcap"
"${PIN[@]}" "$BIN/decode-pass" "$WORK/bulk.pcap" --repeat "$RUNS" | tee "$WORK/pass.out" | sed 's/^/   /'
PASS_GBPS=$(awk '{ for (i = 1; i < NF; i++) if ($i == "GB/s") print $(i + 1) }' "$WORK/pass.out" | median)
echo "== one core: netcap summary (${PIN[*]:-no taskset})"
/usr/bin/time -v -o "$WORK/pinned.time" "${PIN[@]}" "$NETCAP" summary "$WORK/bulk.pcap" >/dev/null
PINNED_WALL=$(wall_seconds "$WORK/pinned.time")
echo "   wall $PINNED_WALL s, $(gbps "$BYTES" "$PINNED_WALL") GB/s"

# ---- tshark ------------------------------------------------------------------------
# Runs the tshark command once on $1; sets TS_WALL, TS_RSS, TS_CPU.
time_tshark() {
  local file=$1 tag=$2
  warm "$file"
  /usr/bin/time -v -o "$WORK/$tag.time" tshark -n -q -r "$file" -z conv,tcp \
    -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE \
    -d udp.port==8472,vxlan >"$WORK/$tag.out" 2>"$WORK/$tag.err"
  TS_WALL=$(wall_seconds "$WORK/$tag.time")
  TS_RSS=$(max_rss_kb "$WORK/$tag.time")
  TS_CPU=$(cpu_seconds "$WORK/$tag.time")
}
if [ "$TSHARK" = 1 ]; then
  echo "== tshark, $SMALL_BYTES bytes (1 run, page cache warm)"
  time_tshark "$WORK/small.pcap" tshark-small
  TS_SMALL_RSS=$TS_RSS
  echo "   wall $TS_WALL s, cpu $TS_CPU s, max RSS $(mib "$TS_RSS") MiB"
  echo "== tshark, $BYTES bytes (1 run, page cache warm)"
  time_tshark "$WORK/bulk.pcap" tshark-big
  sed -n '/<->/p' "$WORK/tshark-big.out" | sed 's/^/   | /'
  echo "   wall $TS_WALL s, cpu $TS_CPU s, max RSS $(mib "$TS_RSS") MiB"
fi

# ---- results -----------------------------------------------------------------------
echo
echo "== results"
printf '%-34s %10s %10s %12s %10s\n' "" "wall s" "GB/s" "max RSS MiB" "cpu s"
printf '%-34s %10s %10s %12s %10s\n' "netcap summary ($BYTES B)" "$BIG_WALL" \
  "$(gbps "$BYTES" "$BIG_WALL")" "$(mib "$BIG_RSS")" "$BIG_CPU"
if [ "$TSHARK" = 1 ]; then
  printf '%-34s %10s %10s %12s %10s\n' "tshark conv,tcp + checksums" "$TS_WALL" \
    "$(gbps "$BYTES" "$TS_WALL")" "$(mib "$TS_RSS")" "$TS_CPU"
  echo "speed ratio (tshark wall / netcap wall): $(awk -v t="$TS_WALL" -v n="$BIG_WALL" \
    'BEGIN { if (n > 0) printf "%.1fx", t / n; else print "inf" }')"
fi
echo "netcap peak RSS: $(mib "$SMALL_RSS") MiB at $SMALL_BYTES B, $(mib "$BIG_RSS") MiB at $BYTES B" \
  "(wall $SMALL_WALL s / $BIG_WALL s)"
if [ "$TSHARK" = 1 ]; then
  echo "tshark peak RSS: $(mib "$TS_SMALL_RSS") MiB at $SMALL_BYTES B, $(mib "$TS_RSS") MiB at $BYTES B"
fi
echo "one core: decode-pass $PASS_GBPS GB/s (median), netcap summary $(gbps "$BYTES" "$PINNED_WALL") GB/s"
