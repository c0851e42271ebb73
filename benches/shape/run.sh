#!/usr/bin/env bash
# Wall time and peak RSS of every command on the hostile-shape captures of gen.py
# (docs/performance.md, "Shape"); the instruction-count version is
# netcap-cli/tests/shape.rs. Usage: benches/shape/run.sh [NETCAP] (default: the
# release build). The captures are written to a temporary directory and removed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
netcap="${1:-$here/../../target/release/netcap}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
printf '| capture | frames | command | wall | peak RSS | exit |\n|---|---:|---|---:|---:|---:|\n'
for shape in interfaces same sections sll2 flood; do
  python3 "$here/gen.py" "$shape" "$dir/$shape.cap"
  frames="$("$netcap" summary "$dir/$shape.cap" --format json 2>/dev/null | python3 -c 'import json,sys; print(sum(p["frames"] for p in json.load(sys.stdin)["points"]))')"
  for command in summary correlate flows report export; do
    out=()
    case $command in
      report) out=(-o "$dir/report.html");;
      export) rm -rf "$dir/export"; out=(-o "$dir/export");;
    esac
    set +e
    /usr/bin/time -f '%e %M' -o "$dir/time" timeout 120 "$netcap" "$command" "$dir/$shape.cap" "${out[@]}" >/dev/null 2>&1
    code=$?
    set -e
    read -r wall rss < <(tail -1 "$dir/time")
    printf '| %s | %s | `%s` | %.2f s | %d MiB | %d |\n' "$shape" "$frames" "$command" "$wall" "$((rss / 1024))" "$code"
  done
  rm -f "$dir/$shape.cap"
done
