/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diff snapshots (docs/snapshot-format.md, "Diff snapshots"): a snapshot of a
 * VM that was itself restored from one keeps only the pages the VM changed
 * since, over that parent, which must stay as it was. Restoring maps the
 * chain: the root's memory file whole, then each diff's pages over it, all
 * MAP_PRIVATE, so every layer is shared by every clone that maps it.
 */
#ifndef IGN_SNAPSHOT_LAYERS_H
#define IGN_SNAPSHOT_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"

#define LAYERS_MAX_DEPTH 16
#define LAYERS_MAX_RANGES 16384

struct page_range {
	uint64_t first, count;   /* in 4 KiB pages */
};

/*
 * The pages of guest RAM [hva, hva + size) this process holds private copies
 * of: those the guest or the VMM wrote since the restore mapped them from
 * snapshot files (/proc/self/pagemap: present and anonymous, or swapped).
 * Gaps of fewer than 16 pages are closed (their bytes are the parent's).
 */
int layers_changed(const void *hva, uint64_t size, struct page_range **out, unsigned *n,
		   struct ign_err *err);
/* Checks a PAGES section's ranges against a RAM of `size` bytes. */
int layers_check(const struct page_range *r, unsigned n, uint64_t size, struct ign_err *err);
/*
 * Maps the memory of snapshot `dir` (size bytes): its file, or for a diff
 * its parent's chain and then its own pages. *hva: the mapping.
 */
int layers_map(const char *dir, uint64_t size, void **hva, struct ign_err *err);
/* From a state file's META text: its parent directory and the parent state's CRC. */
int layers_parent(const char *meta, size_t len, char *parent, size_t n, uint32_t *crc);

#endif
