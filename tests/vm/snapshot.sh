# Snapshots with ign-vmm (docs/snapshot-format.md): a guest that counts over
# its memory is saved mid-way (--snapshot-at-marker) and restored as clones
# (--restore), which must finish with what the original printed. Sourced
# after lib.sh.
COUNT="ign.test=count ign.mem=8 ign.rounds=25"
SNAP=$T/snap

# done_line NAME: the guest's final checksum line.
done_line() { grep -o "IGN_COUNT_DONE [0-9a-f]*" "$T/$1.out"; }

case_begin snap_count
rm -rf "$SNAP"
hello orig --vcpus 2 --mem 128 --rng --snapshot-at-marker "$SNAP" --append "$COUNT"
want_rc orig 0
want=$(done_line orig)
[ -n "$want" ] || bad="$bad the original did not finish counting;"
[ -s "$SNAP/state" ] && [ -f "$SNAP/memory" ] || bad="$bad no snapshot in $SNAP;"
[ "$(stat -c %s "$SNAP/memory" 2>/dev/null)" = $((128 << 20)) ] || bad="$bad memory file size;"
used=$(du -k "$SNAP/memory" | cut -f1)
[ "$used" -lt $((128 << 10)) ] || bad="$bad the memory file is not sparse ($used KiB);"
vm clone1 --restore "$SNAP" --vcpus 2 --mem 128 --rng
want_rc clone1 0
[ "$(done_line clone1)" = "$want" ] || bad="$bad the clone ended with '$(done_line clone1)', want '$want';"
grep -q "IGN_HELLO" "$T/clone1.out" && bad="$bad the clone booted instead of resuming;"
cat "$T/clone1.out" >>"$T/orig.out"
check snap_count "2 vCPUs and virtio-rng saved mid-count (sparse memory file, $used KiB used of 128 MiB), restored: the clone resumes and ends with the original's checksum" orig

case_begin snap_clones
sum0=$(sha256sum <"$SNAP/memory")
for i in 1 2 3 4; do vm "par$i" --restore "$SNAP" --vcpus 2 --mem 128 --rng & done
wait
for i in 1 2 3 4; do
	want_rc "par$i" 0
	[ "$(done_line "par$i")" = "$want" ] || bad="$bad clone $i ended with '$(done_line "par$i")';"
done
for i in $(seq 1 10); do
	vm seq --restore "$SNAP" --vcpus 2 --mem 128 --rng
	[ "$(cat "$T/seq.rc")" = 0 ] && [ "$(done_line seq)" = "$want" ] || { bad="$bad restore $i in a row failed;"; break; }
done
[ "$(sha256sum <"$SNAP/memory")" = "$sum0" ] || bad="$bad the snapshot's memory file changed;"
check snap_clones "4 clones at once and 10 in a row from one snapshot: each counts to the same checksum, the memory file is never written" par1

case_begin snap_bad
vm b_mem --restore "$SNAP" --vcpus 2 --mem 256 --rng
want_rc b_mem 1; want_out b_mem "was made with mem_bytes=134217728, this VM has mem_bytes=268435456"
vm b_dev --restore "$SNAP" --vcpus 2 --mem 128
want_rc b_dev 1; want_out b_dev "sections more than this VM has"
vm b_cpu --restore "$SNAP" --vcpus 1 --mem 128 --rng
want_rc b_cpu 1; want_out b_cpu "vcpus=2, this VM has vcpus=1"
mkdir -p "$T/bad" && cp "$SNAP/state" "$T/bad/state" && cp --sparse=always "$SNAP/memory" "$T/bad/memory"
head -c 1000 "$SNAP/state" >"$T/bad/state"
vm b_trunc --restore "$T/bad" --vcpus 2 --mem 128 --rng
want_rc b_trunc 1; want_out b_trunc "truncated"
cp "$SNAP/state" "$T/bad/state"
printf 'X' | dd of="$T/bad/state" bs=1 seek=5000 conv=notrunc 2>/dev/null
vm b_crc --restore "$T/bad" --vcpus 2 --mem 128 --rng
want_rc b_crc 1; want_out b_crc "CRC mismatch (corrupted)"
cp "$SNAP/state" "$T/bad/state"
truncate -s 1M "$T/bad/memory"
vm b_memfile --restore "$T/bad" --vcpus 2 --mem 128 --rng
want_rc b_memfile 1; want_out b_memfile "truncated, or another snapshot's"
rm "$T/bad/memory"
vm b_nomem --restore "$T/bad" --vcpus 2 --mem 128 --rng
want_rc b_nomem 1; want_out b_nomem "snapshot memory .*No such file"
hello b_exists --mem 128 --snapshot-at-marker "$SNAP" --append "ign.test=hello"
want_rc b_exists 1; want_out b_exists "already exists: snapshots are never overwritten"
[ "$(sha256sum <"$SNAP/memory")" = "$sum0" ] || bad="$bad the snapshot changed;"
ls -d "$SNAP".tmp-* >/dev/null 2>&1 && bad="$bad a temporary snapshot directory was left;"
vm b_ok --restore "$SNAP" --vcpus 2 --mem 128 --rng
want_rc b_ok 0
cat "$T"/b_*.out >"$T/b_all.out"
check snap_bad "a snapshot restored with other memory, vCPUs or devices, truncated or corrupted state, a short or missing memory file, an existing target: each a clear error; the snapshot still restores" b_all
