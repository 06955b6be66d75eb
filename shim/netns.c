// SPDX-License-Identifier: Apache-2.0
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/addr.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/matchall.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ign/cleanup.h"

static void free_sock(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}

static void free_cache(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}

#define cleanup_nlsock __attribute__((cleanup(free_sock)))
#define cleanup_nlcache __attribute__((cleanup(free_cache)))

int ign_netns_enter(const char *path, struct ign_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ign_err_set(err, errno, "network namespace `%s`", path);
	if (setns(fd, CLONE_NEWNET) < 0)
		return ign_err_set(err, errno, "join network namespace `%s`", path);
	return 0;
}

static int nl_open(struct nl_sock **out, struct ign_err *err)
{
	struct nl_sock *s = nl_socket_alloc();
	int r;

	if (!s)
		return ign_err_set(err, ENOMEM, "netlink socket");
	if ((r = nl_connect(s, NETLINK_ROUTE)) < 0) {
		nl_socket_free(s);
		return ign_err_setx(err, EIO, "netlink: %s", nl_geterror(r));
	}
	*out = s;
	return 0;
}

struct addr_walk {
	struct ign_netif *nif;
};

static void one_addr(struct nl_object *o, void *arg)
{
	struct ign_netif *nif = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	char buf[64];

	if (rtnl_addr_get_ifindex(a) != nif->ifindex || rtnl_addr_get_family(a) != AF_INET ||
	    nif->naddrs == IGN_NETIF_MAX_ADDRS)
		return;
	nl_addr2str(rtnl_addr_get_local(a), buf, sizeof(buf));
	if (!strchr(buf, '/'))
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%d",
			 rtnl_addr_get_prefixlen(a));
	snprintf(nif->addrs[nif->naddrs++], sizeof(nif->addrs[0]), "%s", buf);
}

static void one_route(struct nl_object *o, void *arg)
{
	struct ign_netif *nif = arg;
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct rtnl_nexthop *nh;

	if (nif->gateway[0] || rtnl_route_get_family(r) != AF_INET ||
	    rtnl_route_get_table(r) != RT_TABLE_MAIN || !rtnl_route_get_dst(r) ||
	    nl_addr_get_prefixlen(rtnl_route_get_dst(r)) != 0 ||
	    !(nh = rtnl_route_nexthop_n(r, 0)) || !rtnl_route_nh_get_gateway(nh))
		return;
	nl_addr2str(rtnl_route_nh_get_gateway(nh), nif->gateway, sizeof(nif->gateway));
}

int ign_netns_find(struct ign_netif *nif, struct ign_err *err)
{
	cleanup_nlsock struct nl_sock *s = NULL;
	cleanup_nlcache struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL;
	int r;

	memset(nif, 0, sizeof(*nif));
	if ((r = nl_open(&s, err)) < 0)
		return r;
	if ((r = rtnl_link_alloc_cache(s, AF_UNSPEC, &links)) < 0)
		return ign_err_setx(err, EIO, "list interfaces: %s", nl_geterror(r));
	for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);
		struct nl_addr *mac = rtnl_link_get_addr(l);
		if (rtnl_link_get_arptype(l) != ARPHRD_ETHER || !strncmp(name, "ign", 3) || !mac ||
		    nl_addr_get_len(mac) != 6)
			continue;
		snprintf(nif->name, sizeof(nif->name), "%s", name);
		nif->ifindex = rtnl_link_get_ifindex(l);
		memcpy(nif->mac, nl_addr_get_binary_addr(mac), 6);
		nif->mtu = rtnl_link_get_mtu(l);
		break;
	}
	if (!nif->ifindex)
		return 0;
	if ((r = rtnl_addr_alloc_cache(s, &addrs)) < 0)
		return ign_err_setx(err, EIO, "list addresses: %s", nl_geterror(r));
	nl_cache_foreach(addrs, one_addr, nif);
	if ((r = rtnl_route_alloc_cache(s, AF_INET, 0, &routes)) < 0)
		return ign_err_setx(err, EIO, "list routes: %s", nl_geterror(r));
	nl_cache_foreach(routes, one_route, nif);
	return 0;
}

/* Removes ifindex's ingress qdisc, and so its filters; 0 also when there was none. */
static int clear_ingress(struct nl_sock *s, int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int r;

	if (!q)
		return -NLE_NOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(0xffff, 0));
	rtnl_tc_set_kind(TC_CAST(q), "ingress");
	r = rtnl_qdisc_delete(s, q);
	rtnl_qdisc_put(q);
	return r == -NLE_OBJ_NOTFOUND || r == -NLE_INVAL ? 0 : r;
}

/*
 * ingress qdisc on ifindex, and a matchall filter that redirects everything
 * to egress of `to`. A qdisc left by an earlier VM in this namespace (its
 * shim killed) goes first: its filter would still catch every frame.
 */
static int redirect(struct nl_sock *s, int ifindex, int to, const char *what, struct ign_err *err)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct rtnl_cls *c = rtnl_cls_alloc();
	struct rtnl_act *a = rtnl_act_alloc();
	int r = -ENOMEM;

	if (!q || !c || !a) {
		ign_err_set(err, ENOMEM, "tc for %s", what);
		goto out;
	}
	clear_ingress(s, ifindex);
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(0xffff, 0));
	if ((r = rtnl_tc_set_kind(TC_CAST(q), "ingress")) < 0 ||
	    (r = rtnl_qdisc_add(s, q, NLM_F_CREATE)) < 0) {
		ign_err_setx(err, EIO, "tc ingress qdisc on %s: %s", what, nl_geterror(r));
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(0xffff, 0));
	rtnl_cls_set_protocol(c, ETH_P_ALL);
	rtnl_tc_set_kind(TC_CAST(a), "mirred");
	rtnl_mirred_set_action(a, TCA_EGRESS_REDIR);
	rtnl_mirred_set_policy(a, TC_ACT_STOLEN);
	rtnl_mirred_set_ifindex(a, to);
	if ((r = rtnl_tc_set_kind(TC_CAST(c), "matchall")) < 0 ||
	    (r = rtnl_mall_append_action(c, a)) < 0 ||
	    (r = rtnl_cls_add(s, c, NLM_F_CREATE)) < 0) {
		ign_err_setx(err, EIO, "tc redirect filter on %s: %s", what, nl_geterror(r));
		goto out;
	}
	r = 0;
out:
	if (a)
		rtnl_act_put(a);
	if (c)
		rtnl_cls_put(c);
	if (q)
		rtnl_qdisc_put(q);
	return r < 0 ? -EIO : 0;
}

int ign_netns_redirect(const struct ign_netif *nif, const char *tap, struct ign_err *err)
{
	cleanup_nlsock struct nl_sock *s = NULL;
	struct rtnl_link *link = NULL, *change = NULL;
	int r, tapidx;

	if ((r = nl_open(&s, err)) < 0)
		return r;
	if ((r = rtnl_link_get_kernel(s, 0, tap, &link)) < 0)
		return ign_err_setx(err, ENODEV, "tap `%s`: %s", tap, nl_geterror(r));
	tapidx = rtnl_link_get_ifindex(link);
	change = rtnl_link_alloc();
	rtnl_link_set_flags(change, IFF_UP);
	if (nif->mtu)
		rtnl_link_set_mtu(change, nif->mtu);
	r = rtnl_link_change(s, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	if (r < 0)
		return ign_err_setx(err, EIO, "bring tap `%s` up: %s", tap, nl_geterror(r));
	if ((r = redirect(s, nif->ifindex, tapidx, nif->name, err)) < 0 ||
	    (r = redirect(s, tapidx, nif->ifindex, tap, err)) < 0)
		return r;
	return 0;
}

int ign_netns_clear(const char *path, struct ign_err *err)
{
	struct ign_netif nif;
	int status, r;

	/* in a child: the caller stays in its own namespace */
	pid_t pid = fork();
	if (pid < 0)
		return ign_err_set(err, errno, "fork");
	if (pid == 0) {
		cleanup_nlsock struct nl_sock *s = NULL;
		if (ign_netns_enter(path, NULL) < 0 || ign_netns_find(&nif, NULL) < 0 ||
		    nl_open(&s, NULL) < 0)
			_exit(1);
		_exit(nif.ifindex && clear_ingress(s, nif.ifindex) < 0 ? 2 : 0);
	}
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 2)
		return ign_err_setx(err, EIO, "network namespace `%s`: remove the tc redirect", path);
	return 0;  /* a namespace already gone has nothing left to clear */
}
