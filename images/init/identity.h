/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What makes a clone of a warm base itself (docs/snapshot-format.md, "Clone
 * identity"): every clone resumes with its base's kernel RNG state and wall
 * clock, so the host's "setup" message gives it a fresh seed and the time.
 */
#ifndef IGN_INIT_IDENTITY_H
#define IGN_INIT_IDENTITY_H

#include "ign/err.h"
#include "ign/json.h"

/*
 * Applies a "setup" message's "seed" (hex, 16 to 256 bytes: mixed into the
 * kernel's pool as entropy, then the CRNG is reseeded) and "time" ({"sec",
 * "nsec"}: the wall clock). Both are optional.
 */
int identity_apply(const struct ign_json *msg, struct ign_err *err);

#endif
