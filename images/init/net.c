// SPDX-License-Identifier: Apache-2.0
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ign/cleanup.h"

static int first_ether(char name[IF_NAMESIZE])
{
	struct if_nameindex *all = if_nameindex(), *i;
	int found = 0;

	if (!all)
		return 0;
	for (i = all; i->if_index && !found; i++)
		if (strcmp(i->if_name, "lo")) {
			snprintf(name, IF_NAMESIZE, "%s", i->if_name);
			found = 1;
		}
	if_freenameindex(all);
	return found;
}

static void set_in(struct sockaddr *sa, in_addr_t a)
{
	struct sockaddr_in *s = (struct sockaddr_in *)sa;

	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	s->sin_addr.s_addr = a;
}

int net_setup(const struct spec_net *net, struct ign_err *err)
{
	struct ifreq ifr = { 0 };
	char addr[64];
	struct in_addr ip, gw;
	unsigned prefix = 32;

	if (!net->present)
		return 0;
	if (!first_ether(ifr.ifr_name))
		return ign_err_setx(err, ENODEV, "network: the guest has no network interface");
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ign_err_set(err, errno, "network: socket");
	if (net->has_mac) {
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, net->mac, 6);
		if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
			return ign_err_set(err, errno, "network: MAC address of %s", ifr.ifr_name);
	}
	if (net->mtu) {
		ifr.ifr_mtu = (int)net->mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			return ign_err_set(err, errno, "network: MTU %u on %s", net->mtu, ifr.ifr_name);
	}
	if (net->address) {
		snprintf(addr, sizeof(addr), "%s", net->address);
		char *slash = strchr(addr, '/');
		if (slash) {
			*slash = 0;
			prefix = (unsigned)atoi(slash + 1);
		}
		if (inet_pton(AF_INET, addr, &ip) != 1 || prefix > 32)
			return ign_err_setx(err, EINVAL, "network.addresses[0]: `%s` is not an IPv4 "
					    "address/prefix", net->address);
		set_in(&ifr.ifr_addr, ip.s_addr);
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			return ign_err_set(err, errno, "network: address %s", net->address);
		set_in(&ifr.ifr_netmask, prefix ? htonl(~0u << (32 - prefix)) : 0);
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			return ign_err_set(err, errno, "network: netmask /%u", prefix);
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return ign_err_set(err, errno, "network: flags of %s", ifr.ifr_name);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return ign_err_set(err, errno, "network: bring %s up", ifr.ifr_name);
	if (net->gateway && net->gateway[0]) {
		struct rtentry rt = { 0 };
		if (inet_pton(AF_INET, net->gateway, &gw) != 1)
			return ign_err_setx(err, EINVAL, "network.gateway: `%s` is not an IPv4 address",
					    net->gateway);
		set_in(&rt.rt_dst, 0);
		set_in(&rt.rt_genmask, 0);
		set_in(&rt.rt_gateway, gw.s_addr);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = ifr.ifr_name;
		if (ioctl(s, SIOCADDRT, &rt) < 0)
			return ign_err_set(err, errno, "network: default route via %s", net->gateway);
	}
	return 0;
}
