#!/bin/bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time; a crash, sanitizer report or timeout fails. Seeds are in
# tests/fuzz/corpus/<target>/; new inputs found go to a scratch copy.
# usage: tests/fuzz/run.sh [SECONDS per target, default 30]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-${IGN_FUZZ_SECONDS:-30}}
command -v clang >/dev/null || { echo "fuzz: clang missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

common=("$top/vmm/mem.c" "$top/vmm/snapshot/snapfile.c" "$top/runtime/lib/ign/err.c" "$top/runtime/lib/ign/fdio.c" "$top/runtime/lib/ign/log.c"
	"$top/runtime/lib/ign/json.c")
declare -A srcs=(
	[fuzz_virtio]="$top/vmm/virtio/queue.c $top/vmm/virtio/mmio.c $top/vmm/virtio/blk.c $top/vmm/virtio/rng.c"
	[fuzz_p9]="$top/vmm/p9/p9.c"
	[fuzz_snapshot]="$top/vmm/virtio/queue.c $top/vmm/virtio/mmio.c $top/vmm/virtio/blk.c"
	[fuzz_vsock_net]="$top/vmm/virtio/queue.c $top/vmm/virtio/mmio.c $top/vmm/virtio/vsock.c $top/vmm/virtio/net.c $top/vmm/evloop.c"
	[fuzz_config]="$top/runtime/oci/config.c"
	[fuzz_agent]="$top/shim/agent.c $top/runtime/lib/ign/frame.c $top/images/init/spec.c"
)
rc=0 total=0
for t in "${!srcs[@]}"; do
	# shellcheck disable=SC2086
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I"$top/vmm" -I"$top/vmm/include" -I"$top/runtime/lib" \
		-I"$top/runtime" -I"$top/shim" -I"$top/images/init" \
		"$here/$t.c" ${srcs[$t]} "${common[@]}" $(pkg-config --cflags --libs yajl) -lpthread \
		-lz -o "$out/$t"
	mkdir -p "$out/corpus-$t"
	[ -d "$here/corpus/$t" ] && cp "$here/corpus/$t"/* "$out/corpus-$t/" 2>/dev/null || true
	echo "fuzz: $t for ${secs}s"
	if "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$out/" \
		"$out/corpus-$t" >"$out/$t.log" 2>&1; then
		n=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$')
		cov=$(grep -a -o 'cov: [0-9]*' "$out/$t.log" | tail -n 1 | grep -o '[0-9]*$')
		total=$((total + n))
		echo "fuzz: $t ok: $n inputs, $cov coverage points, $(ls "$here/corpus/$t" | wc -l) seeds, no crash"
	else
		rc=1
		echo "fuzz: $t FAILED"
		tail -n 40 "$out/$t.log"
		mkdir -p "$top/build/fuzz-crashes" && cp "$out"/crash-* "$out"/timeout-* "$top/build/fuzz-crashes/" 2>/dev/null || true
	fi
done
echo "fuzz: ${#srcs[@]} targets, $total inputs run in all, ${secs}s each"
exit $rc
