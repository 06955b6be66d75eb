/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's Ethernet interface, configured as the host's container interface was. */
#ifndef IGN_INIT_NET_H
#define IGN_INIT_NET_H

#include "ign/err.h"
#include "spec.h"

/* Brings the first non-loopback interface up with the address, MTU and default route of net. */
int net_setup(const struct spec_net *net, struct ign_err *err);

#endif
