/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's control socket, <state dir>/ctl.sock: one request per
 * connection, framed like the agent protocol (ign/frame.h):
 *   {"type":"start"}                       -> {"type":"ok"}
 *   {"type":"kill","signal":N,"all":B}     -> {"type":"ok"}
 *   {"type":"reset"}                       -> {"type":"ok"}
 * or {"type":"error","message":"..."}.
 */
#ifndef IGN_OCI_CTL_H
#define IGN_OCI_CTL_H

#include "ign/err.h"

#define IGN_CTL_SOCK "ctl.sock"
#define IGN_VSOCK_SOCK "vsock.sock"

int ign_ctl_call(const char *dir, const char *type, int sig, int all, struct ign_err *err);
/*
 * The pid of the shim listening on dir's control socket (SO_PEERCRED: the
 * process that is listening now, whatever state.json says), or -errno when
 * none answers.
 */
int ign_ctl_peer_pid(const char *dir);

#endif
