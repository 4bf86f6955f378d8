#!/usr/bin/env bash
# The collector at scale (issue 13), not part of .ci/run: builds
# bench/scale/scale.c against the release libobjffi.a and runs it at 1M,
# 10M and 100M live objects (`ci/scale.sh 1000000 ...` picks the sizes),
# one process per size, printing a Markdown table: build time and full
# collection time per object, the pause of one full collection, the ratio
# of the time per object to the first size's, peak RSS against the bytes
# the heap has in objects, and the time and size of a heap snapshot
# (obj_heap_snapshot, up to 10M objects). 100M objects take about 6.5 GB and a few
# minutes in all on the CI machine's kind.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1000000 10000000 100000000)
cargo build --release -p objffi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -Iinclude bench/scale/scale.c "${CARGO_TARGET_DIR:-target}/release/libobjffi.a" \
    -lpthread -ldl -lm -o "$out/scale"
echo "| objects | build ns/object | full collection pause | collection ns/object | vs first size | MiB in objects | peak RSS MiB | snapshot |"
echo "|--:|--:|--:|--:|--:|--:|--:|--:|"
first=
for n in "${sizes[@]}"; do
    # Snapshots (about 90 bytes of JSON per object) only up to 10M objects.
    snapshot=()
    ((n > 10000000)) || snapshot=("$out/snapshot.json")
    read -r objects build pause per_object mib rss snap_s snap_mib < <("$out/scale" "$n" "${snapshot[@]}")
    [[ -n "$first" ]] || first=$per_object
    snap=-
    [[ "$snap_s" == -1.00 ]] || snap="$snap_s s, $snap_mib MiB"
    printf '| %s | %s | %s s | %s | %.2f | %s | %s | %s |\n' "$objects" "$build" "$pause" "$per_object" \
        "$(echo "$per_object / $first" | bc -l)" "$mib" "$rss" "$snap"
done
