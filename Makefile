# ign-runtime: the two commands of the README, and their parts.
#   make demo    set up, build, boot our kernel with the hello initramfs in ign-vmm
#   make check   set up, build, run every test (unit + VM end to end)
# Each sets itself up on a fresh Debian 12 machine (apt-get) and caches the
# guest kernel outside the tree (images/kernel/build.sh).

BUILD ?= build
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBS := gcc make cmake pkg-config libc6-dev libyajl-dev zlib1g-dev libcriterion-dev \
	linux-source-6.1 bc bison flex libelf-dev libssl-dev cpio gzip xz-utils kmod python3 \
	qemu-system-x86 linux-image-amd64 busybox-static clang libclang-rt-14-dev \
	erofs-utils e2fsprogs debootstrap libnl-3-dev libnl-route-3-dev libcap-dev libseccomp-dev \
	podman conmon crun runc netavark aardvark-dns iptables novnc websockify
KERNEL_DIR = $(shell images/kernel/build.sh)

PREFIX ?= /usr/local

.PHONY: all deps build kernel demo browser check unit vm fuzz bench install clean

all: build

deps:
	@missing=$$(for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$$(nproc)

kernel: deps
	images/kernel/build.sh

# The browser where /dev/kvm is usable; otherwise (no way to look at a nested
# one from here) our kernel booted in our VMM, nested.
demo: build kernel
	@if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then \
		bundles/browser/run.sh $(BUILD) $(KERNEL_DIR); \
	else \
		echo "demo: no usable /dev/kvm: the browser needs one (docs/browser.md); our kernel in our VMM, nested, instead"; \
		tests/vm/run.sh $(BUILD) $(KERNEL_DIR) demo; \
	fi

unit: build
	cd $(BUILD) && ctest --output-on-failure

vm: build kernel
	tests/vm/run.sh $(BUILD) $(KERNEL_DIR)

browser: build kernel
	bundles/browser/run.sh $(BUILD) $(KERNEL_DIR)

check: build kernel
	tests/check.sh $(BUILD) $(KERNEL_DIR)

fuzz: deps
	tests/fuzz/run.sh

bench: build kernel
	bench/boot.sh $(BUILD) $(KERNEL_DIR)
	bench/snapshot.sh $(BUILD) $(KERNEL_DIR)
	bench/io.sh $(BUILD) $(KERNEL_DIR)
	bench/runtime.sh $(BUILD) $(KERNEL_DIR)
	bench/browser.sh $(BUILD) $(KERNEL_DIR)

install: build kernel
	$(SUDO) cmake --install $(BUILD) --prefix $(PREFIX)
	$(SUDO) install -m 0644 $(KERNEL_DIR)/vmlinux $(PREFIX)/share/ign-runtime/vmlinux

clean:
	rm -rf $(BUILD)
