/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's network, as podman (or another caller) prepared it: a
 * network namespace holding one interface (a veth with an address). The
 * shim joins the namespace, hands the interface's MAC and addresses to the
 * guest, and ties the interface to the VM's tap with two tc mirred redirects
 * (ingress of each to egress of the other), as Kata's "tcfilter" does: the
 * guest's frames leave through the veth and the veth's reach the guest.
 */
#ifndef IGN_SHIM_NETNS_H
#define IGN_SHIM_NETNS_H

#include <net/if.h>
#include <stdint.h>

#include "ign/err.h"

#define IGN_NETIF_MAX_ADDRS 8

struct ign_netif {
	char name[IF_NAMESIZE];
	int ifindex;                 /* 0: the namespace has no interface to carry */
	uint8_t mac[6];
	unsigned mtu;
	char addrs[IGN_NETIF_MAX_ADDRS][64];  /* "10.88.0.4/16" */
	unsigned naddrs;
	char gateway[64];            /* IPv4 default route's gateway, "" if none */
};

/* Moves the calling thread (call it before any other thread exists) into the namespace at path. */
int ign_netns_enter(const char *path, struct ign_err *err);
/* The first Ethernet interface of the current namespace other than taps named ign*. */
int ign_netns_find(struct ign_netif *nif, struct ign_err *err);
/*
 * Brings tap up with the interface's MTU and redirects each one's ingress to
 * the other, replacing what an earlier VM in the namespace left.
 */
int ign_netns_redirect(const struct ign_netif *nif, const char *tap, struct ign_err *err);
/*
 * Removes the interface's redirect in the namespace at path (the tap's goes
 * with the tap): `delete` calls it, since a killed shim cannot. Runs in a
 * child process, so the caller's namespace does not change.
 */
int ign_netns_clear(const char *path, struct ign_err *err);

#endif
