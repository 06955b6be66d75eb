# Snapshots with ign-vmm (docs/snapshot-format.md): a guest that counts over
# its memory is saved at its boot marker (--snapshot-at-marker; snap_diff saves
# clones mid-count) and restored as clones
# (--restore), which must finish with what the original printed. Sourced
# after lib.sh.
# ign.tag=console: each VM reads a tag from its console that seeds what it
# writes (0 gives the original's checksum), and checks every word at the end.
COUNT="ign.test=count ign.mem=8 ign.rounds=25 ign.tag=console"
SNAP=$T/snap

# done_line NAME: the guest's final checksum line.
done_line() { grep -o "IGN_COUNT_DONE [0-9a-f]*" "$T/$1.out"; }

case_begin snap_count
rm -rf "$SNAP"
for v in clone1 seq b_ok; do echo 0 >"$T/$v.in"; done
# The original's tag reaches it only once it is saved: input given before a
# snapshot is part of it (the guest's tty holds it), and every clone would
# read the original's tag. A FIFO, written when the state file is there.
rm -f "$T/orig.in" && mkfifo "$T/orig.in"
(
	exec >"$T/orig.in"  # opens once ign-vmm opens it to read
	i=0
	while [ ! -s "$SNAP/state" ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
	echo 0
) &
hello orig --vcpus 2 --mem 128 --rng --snapshot-at-marker "$SNAP" --append "$COUNT"
want_rc orig 0
want=$(done_line orig)
[ -n "$want" ] || bad="$bad the original did not finish counting;"
want_out orig "IGN_COUNT_CHECK ok"
[ -s "$SNAP/state" ] && [ -f "$SNAP/memory" ] || bad="$bad no snapshot in $SNAP;"
[ "$(stat -c %s "$SNAP/memory" 2>/dev/null)" = $((128 << 20)) ] || bad="$bad memory file size;"
used=$(du -k "$SNAP/memory" 2>/dev/null | cut -f1)
[ "${used:-0}" -gt 0 ] && [ "$used" -lt $((128 << 10)) ] || bad="$bad the memory file is not sparse ($used KiB);"
vm clone1 --restore "$SNAP" --vcpus 2 --mem 128 --rng
want_rc clone1 0
[ "$(done_line clone1)" = "$want" ] || bad="$bad the clone ended with '$(done_line clone1)', want '$want';"
grep -q "IGN_HELLO" "$T/clone1.out" && bad="$bad the clone booted instead of resuming;"
no_panic orig; no_panic clone1
cat "$T/clone1.out" >>"$T/orig.out"
check snap_count "2 vCPUs and virtio-rng saved at the boot marker, before counting (sparse memory file, $used KiB used of 128 MiB), restored: the clone resumes and ends with the original's checksum" orig

case_begin snap_clones
sum0=$(sha256sum <"$SNAP/memory" 2>/dev/null)
ssum0=$(sha256sum <"$SNAP/state" 2>/dev/null)
if [ -s "$SNAP/state" ] && [ -n "$want" ]; then
	# 10 at once, each with its own tag: each checks it saw only its own writes
	for i in $(seq 1 10); do
		echo "$i" >"$T/par$i.in"
		vm "par$i" --restore "$SNAP" --vcpus 2 --mem 128 --rng &
	done
	wait
	for i in $(seq 1 10); do
		want_rc "par$i" 0; no_panic "par$i"; want_out "par$i" "IGN_COUNT_CHECK ok"
		done_line "par$i" >>"$T/par.sums" || bad="$bad clone $i did not finish;"
	done
	echo "$want" >>"$T/par.sums"
	[ "$(sort -u "$T/par.sums" | wc -l)" = 11 ] || bad="$bad clones with other tags ended with the same checksum;"
	for i in $(seq 1 10); do
		vm seq --restore "$SNAP" --vcpus 2 --mem 128 --rng
		[ "$(cat "$T/seq.rc")" = 0 ] && [ "$(done_line seq)" = "$want" ] || { bad="$bad restore $i in a row failed;"; break; }
		no_panic seq
	done
	[ "$(sha256sum <"$SNAP/memory")" = "$sum0" ] || bad="$bad the snapshot's memory file changed;"
else
	bad="no snapshot to clone: snap_count did not make one;"
fi
check snap_clones "10 clones at once from one snapshot, each writing its own pattern, each finding only its own writes; 10 in a row each count to the original's checksum; the memory file is never written" par1

case_begin snap_bad
if [ -s "$SNAP/state" ]; then
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
	# the temporary directory of a writer killed mid-write goes with the next
	# snapshot of that name; one whose writer lives (this shell) stays
	mkdir -p "$T/snapk.tmp-999999" "$T/snapk.tmp-$$" && : >"$T/snapk.tmp-999999/memory"
	hello b_dead --mem 128 --snapshot-at-marker "$T/snapk" --append "ign.test=hello"
	want_rc b_dead 0
	[ -e "$T/snapk.tmp-999999" ] && bad="$bad a dead writer's temporary directory was left;"
	[ -d "$T/snapk.tmp-$$" ] || bad="$bad a live writer's temporary directory was removed;"
	[ -s "$T/snapk/state" ] || bad="$bad no snapshot beside the leftovers;"
	rm -rf "$T/snapk.tmp-$$"
	# a full disk while writing: a clear error, the VM ends there (its guest never
	# runs past the marker, so it cannot exit 0 first), nothing is left behind
	mkdir -p "$T/full" && mount -t tmpfs -o size=2m ignfull "$T/full"
	hello b_full --mem 128 --snapshot-at-marker "$T/full/snap" --append "ign.test=hello"
	want_rc b_full 1; want_out b_full "No space left on device"
	grep -q IGN_AFTER_MARKER "$T/b_full.out" && bad="$bad the guest ran on past a snapshot that failed;"
	[ -z "$(ls -A "$T/full")" ] || bad="$bad a failed snapshot left $(ls -A "$T/full");"
	umount "$T/full"
	vm b_ok --restore "$SNAP" --vcpus 2 --mem 128 --rng
	want_rc b_ok 0
else
	bad="no snapshot to damage: snap_count did not make one;"; : >"$T/b_none.out"
fi
cat "$T"/b_*.out >"$T/b_all.out"
check snap_bad "a snapshot restored with other memory, vCPUs or devices, truncated or corrupted state, a short or missing memory file, an existing target, a dead writer's leftover (removed, a live one kept), a full disk while saving: each a clear error, nothing left behind; the snapshot still restores" b_all

case_begin snap_100
# The hello guest saved at its marker, just before it exits with 7: each
# restore resumes there and ends at once, 100 times from one snapshot.
rm -rf "$T/snap7"
hello s7 --mem 64 --snapshot-at-marker "$T/snap7" --append "ign.exit=7"
want_rc s7 7
sum7=$(sha256sum <"$T/snap7/memory")
n=0
while [ $n -lt 100 ]; do
	vm r7 --restore "$T/snap7" --mem 64
	[ "$(cat "$T/r7.rc")" = 7 ] || { bad="$bad restore $((n + 1)) ended with $(cat "$T/r7.rc");"; break; }
	grep -q IGN_HELLO "$T/r7.out" && { bad="$bad restore $((n + 1)) booted;"; break; }
	n=$((n + 1))
done
[ "$(sha256sum <"$T/snap7/memory")" = "$sum7" ] || bad="$bad the memory file changed;"
check snap_100 "100 restores in a row of one snapshot: each resumes at the marker and exits 7; the snapshot is unchanged ($n done)" r7

case_begin snap_diff
# A chain: S1 full at boot; a clone of S1 saves S2 (diff) after round 5; a
# clone of S2 saves S3 (diff over S2) after round 10; S3 restored finishes.
DCOUNT="ign.test=count ign.mem=8 ign.rounds=16 ign.mark_at=5,10"
rm -rf "$T/s1" "$T/s2" "$T/s3"
hello d0 --vcpus 2 --mem 128 --rng --snapshot-at-marker "$T/s1" --append "$DCOUNT"
want_rc d0 0; no_panic d0
dwant=$(done_line d0)
[ -n "$dwant" ] || bad="$bad the original did not finish;"
vm d1 --restore "$T/s1" --vcpus 2 --mem 128 --rng --snapshot-at-marker "$T/s2" --diff
vm d2 --restore "$T/s2" --vcpus 2 --mem 128 --rng --snapshot-at-marker "$T/s3" --diff
vm d3 --restore "$T/s3" --vcpus 2 --mem 128 --rng
for c in d1 d2 d3; do
	want_rc $c 0; no_panic $c
	[ "$(done_line $c)" = "$dwant" ] || bad="$bad $c ended with '$(done_line $c)', want '$dwant';"
done
grep -q "IGN_COUNT 9 " "$T/d3.out" && bad="$bad the S3 clone counted round 9 again;"
grep -q "IGN_COUNT 11 " "$T/d3.out" || bad="$bad the S3 clone did not go on from round 11;"
grep -q "IGN_COUNT 4 " "$T/d2.out" && bad="$bad the S2 clone counted round 4 again;"
k1=$(du -k "$T/s1/memory" | cut -f1); k2=$(du -k "$T/s2/memory" | cut -f1); k3=$(du -k "$T/s3/memory" | cut -f1)
[ "$k2" -lt "$k1" ] && [ "$k3" -lt "$k1" ] || bad="$bad diffs not smaller than the full snapshot ($k2, $k3 vs $k1 KiB);"
grep -q "^parent=.*/s1$" "$T/s2/state" 2>/dev/null || strings "$T/s2/state" | grep -q "^parent=.*/s1$" || bad="$bad S2 does not name S1 as its parent;"
# the parent changes under a diff: refused by name; a diff of a cold VM is refused
mv "$T/s1/state" "$T/s1/state.real"
cp "$SNAP/state" "$T/s1/state"
vm d4 --restore "$T/s3" --vcpus 2 --mem 128 --rng
want_rc d4 1; want_out d4 "the parent changed"
mv "$T/s1/state.real" "$T/s1/state"
hello d5 --mem 64 --snapshot-at-marker "$T/s5" --diff
want_out d5 "a diff snapshot is made of a VM restored from a snapshot"
[ -e "$T/s5" ] && bad="$bad a refused diff left $T/s5;"
cat "$T"/d[1-5].out >>"$T/d0.out"
check snap_diff "diff snapshots: a chain full -> diff -> diff (S1 $k1 KiB, S2 $k2 KiB, S3 $k3 KiB on disk) restores and finishes counting with the original's checksum; a changed parent and a diff of a cold VM are refused" d0

case_begin snap_reset
# A clone of S1 (saved at boot, before counting) rolls itself back when it
# marks after round 5: it counts rounds 0-5 twice and still ends with the
# original's checksum. A VM that was booted, not restored, cannot reset.
vm rs --restore "$T/s1" --vcpus 2 --mem 128 --rng --reset-at-marker
want_rc rs 0; no_panic rs
[ "$(done_line rs)" = "$dwant" ] || bad="$bad the reset clone ended with '$(done_line rs)', want '$dwant';"
[ "$(grep -c "IGN_COUNT 3 " "$T/rs.out")" = 2 ] || bad="$bad round 3 was not counted twice;"
[ "$(grep -c "IGN_COUNT 7 " "$T/rs.out")" = 1 ] || bad="$bad round 7 was not counted once;"
hello rs2 --mem 64 --reset-at-marker
want_rc rs2 1; want_out rs2 "reset: the VM was not restored from a snapshot"
cat "$T/rs2.out" >>"$T/rs.out"
check snap_reset "reset: a running clone rolled back in place to its snapshot (changed pages dropped, vCPU, irqchip, clock and device state set again) counts the same rounds again and ends with the original's checksum; a booted VM cannot reset" rs

case_begin snap_state
# The KVM selftests' state_test round trip: a snapshot restored and saved again
# at once (--resave: no guest instruction runs) gives back every saved register
# and device field (ign-snapcmp, tests/tools/snapcmp.c, names what may differ),
# at four guest points: at boot with 2 vCPUs (SNAP), mid-count (S2, a diff),
# later in the count (S3, a diff chain the resave flattens), just before the
# guest exits (snap7). The flattened S3 still finishes as S3 does.
resave() {  # resave NAME SNAPSHOT ARGS...: SNAPSHOT restored, saved in $T/NAME.re, compared
	rname=$1 rsrc=$2
	shift 2
	rm -rf "$T/$rname.re"
	vm "$rname" --restore "$rsrc" --resave "$T/$rname.re" "$@"
	want_rc "$rname" 0
	if ! "$D/ign-snapcmp" "$rsrc" "$T/$rname.re" >"$T/$rname.cmp" 2>&1; then
		bad="$bad $rname: $(grep -v '^ign-snapcmp: [0-9]' "$T/$rname.cmp" | head -n 4 | tr '\n' ' ');"
		# shown last on failure, with both states' sizes and sums
		{ echo "$rname: $rsrc against its resave:"; cat "$T/$rname.cmp"
		  ls -l "$rsrc/state" "$T/$rname.re/state"; sha256sum "$rsrc/state"; } >>"$T/st_diffs"
	fi
	cat "$T/$rname.cmp" >>"$T/$rname.out"
}
[ "$(sha256sum <"$SNAP/state" 2>/dev/null)" = "$ssum0" ] || bad="$bad the boot snapshot's state changed since snap_count;"
resave st_boot "$SNAP" --vcpus 2 --mem 128 --rng
resave st_mid "$T/s2" --vcpus 2 --mem 128 --rng
resave st_chain "$T/s3" --vcpus 2 --mem 128 --rng
resave st_exit "$T/snap7" --mem 64
vm st_flat --restore "$T/st_chain.re" --vcpus 2 --mem 128 --rng
want_rc st_flat 0; no_panic st_flat
[ "$(done_line st_flat)" = "$dwant" ] || bad="$bad the flattened S3 ended with '$(done_line st_flat)', want '$dwant';"
grep -q "^parent=" "$T/st_chain.re/state" 2>/dev/null && bad="$bad the resave of S3 is a diff;"
# the comparison does see a difference: S1 (at boot) against S2's round trip (5 rounds on)
"$D/ign-snapcmp" "$T/s1" "$T/st_mid.re" >"$T/st_neg.out" 2>&1
[ $? = 1 ] && grep -q "^vcpu0 " "$T/st_neg.out" || bad="$bad S1 and S2 compared equal;"
vm st_usage --kernel "$D/vmlinux" --resave "$T/st_usage.re"
want_rc st_usage 1; want_out st_usage "resave needs --restore"
cat "$T"/st_*.out >"$T/st_all.out"
[ -s "$T/st_diffs" ] && cat "$T/st_diffs" >>"$T/st_all.out"
check snap_state "state round trip (restore, save at once, compare every register and device field) at boot, mid-count, in a diff chain (flattened, and it still finishes) and before exit" st_all
