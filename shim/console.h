/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host end of a container's terminal: a pty pair whose master goes to
 * the caller over --console-socket (SCM_RIGHTS, the pty's name as payload,
 * as runc and conmon do) and whose slave the shim or exec proxy relays to the
 * guest's pty stream. The slave is raw: the guest's pty does the line
 * discipline.
 */
#ifndef IGN_SHIM_CONSOLE_H
#define IGN_SHIM_CONSOLE_H

#include "ign/err.h"

/* Returns the slave in *slave; rows/cols 0: leave the size. */
int ign_console_open(const char *socket_path, unsigned rows, unsigned cols, int *slave,
		     struct ign_err *err);

#endif
