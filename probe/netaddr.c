/*
 * netaddr.c - what kind of address an IPv4 or IPv6 socket address is
 * (public, loopback, private, link-local, cloud metadata, special), for
 * the address policies of the HTTP checks and /probe.
 * Depends on libc only.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"

struct net {
	unsigned char addr[16];
	unsigned bits;
	enum vd_addr_class cls;
};

static bool
in_net(const unsigned char *a, const unsigned char *net, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, net, full) != 0)
		return false;
	return rest == 0 ||
	       ((a[full] ^ net[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* Most specific first: the first match wins. */
static const struct net nets4[] = {
	{{169, 254, 169, 254}, 32, VD_ADDR_METADATA},
	{{100, 100, 100, 200}, 32, VD_ADDR_METADATA},
	{{0}, 8, VD_ADDR_SPECIAL}, /* "this network"; 0.0.0.0 is local */
	{{10}, 8, VD_ADDR_PRIVATE},
	{{100, 64}, 10, VD_ADDR_PRIVATE}, /* carrier-grade NAT */
	{{127}, 8, VD_ADDR_LOOPBACK},
	{{169, 254}, 16, VD_ADDR_LINK_LOCAL},
	{{172, 16}, 12, VD_ADDR_PRIVATE},
	{{192, 0, 0}, 24, VD_ADDR_SPECIAL},
	{{192, 0, 2}, 24, VD_ADDR_SPECIAL},
	{{192, 168}, 16, VD_ADDR_PRIVATE},
	{{198, 18}, 15, VD_ADDR_SPECIAL},
	{{198, 51, 100}, 24, VD_ADDR_SPECIAL},
	{{203, 0, 113}, 24, VD_ADDR_SPECIAL},
	{{224}, 3, VD_ADDR_SPECIAL}, /* multicast, reserved, broadcast */
};

static const struct net nets6[] = {
	{{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54},
	 128,
	 VD_ADDR_METADATA},
	{{0}, 127, VD_ADDR_SPECIAL}, /* :: and ::1 (::1 below first) */
	{{0xfc}, 7, VD_ADDR_PRIVATE},
	{{0xfe, 0x80}, 10, VD_ADDR_LINK_LOCAL},
	{{0xfe, 0xc0}, 10, VD_ADDR_SPECIAL}, /* site-local, deprecated */
	{{0xff}, 8, VD_ADDR_SPECIAL},
	{{0x20, 0x01, 0x0d, 0xb8}, 32, VD_ADDR_SPECIAL},
	{{0x01, 0x00}, 64, VD_ADDR_SPECIAL}, /* discard */
	{{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96, VD_ADDR_SPECIAL},
};

static enum vd_addr_class
classify4(const unsigned char *a)
{
	size_t i;
	for (i = 0; i < sizeof(nets4) / sizeof(nets4[0]); i++)
		if (in_net(a, nets4[i].addr, nets4[i].bits))
			return nets4[i].cls;
	return VD_ADDR_PUBLIC;
}

enum vd_addr_class
vd_addr_classify(const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char loop6[16] = {[15] = 1};
	const unsigned char *a;
	size_t i;

	if (sa->sa_family == AF_INET)
		return classify4(
			(const unsigned char *)&((const struct sockaddr_in *)sa)
				->sin_addr);
	if (sa->sa_family != AF_INET6)
		return VD_ADDR_SPECIAL;
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return classify4(a + 12);
	if (memcmp(a, loop6, sizeof(loop6)) == 0)
		return VD_ADDR_LOOPBACK;
	for (i = 0; i < sizeof(nets6) / sizeof(nets6[0]); i++)
		if (in_net(a, nets6[i].addr, nets6[i].bits))
			return nets6[i].cls;
	return VD_ADDR_PUBLIC;
}

const char *
vd_addr_class_name(enum vd_addr_class c)
{
	switch (c) {
	case VD_ADDR_PUBLIC:
		return "public";
	case VD_ADDR_LOOPBACK:
		return "loopback";
	case VD_ADDR_PRIVATE:
		return "private";
	case VD_ADDR_LINK_LOCAL:
		return "link-local";
	case VD_ADDR_METADATA:
		return "cloud metadata";
	case VD_ADDR_SPECIAL:
		break;
	}
	return "special-purpose";
}

void
vd_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	socklen_t sl = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in);
	if (getnameinfo(sa, sl, buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST) !=
	    0)
		snprintf(buf, len, "?");
}
