#!/bin/sh
# The demo: our kernel boots the hello initramfs in ign-vmm with 2 vCPUs; the
# guest says hello, counts its CPUs and exits with status 0.
# usage: demo.sh DIR   (DIR holds ign-vmm, vmlinux, hello.cpio.gz)
D=${1:?usage: demo.sh DIR}
echo "demo: ign-vmm --kernel vmlinux --initrd hello.cpio.gz --vcpus 2 --mem 256 --boot-timer"
"$D/ign-vmm" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --vcpus 2 --mem 256 \
	--boot-timer --append "ign.test=cpus" </dev/null
rc=$?
echo "demo: ign-vmm exited with status $rc"
exit $rc
