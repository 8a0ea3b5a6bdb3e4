// SPDX-License-Identifier: GPL-2.0
/*
 * Dump cost, side by side in one run: the same dump read
 *   recvmsg  - with recv() into a 64 KiB buffer (baseline; the kernel then
 *              fills chunks of up to 32 KiB),
 *   ring     - from an RX ring of 16 KiB frames (chunks of up to 16 KiB, D18):
 *              VALID frames read in place, COPY frames with recv(), poll()
 *              when the ring is empty (which also continues the dump).
 * Dumps:
 *   "dump routes"  - RTM_GETROUTE of ROUTES routes, created first in a new
 *                    netns (unicast /32 routes on lo),
 *   "dump test"    - NLMMAP_TEST_CMD_DUMP of COUNT messages of 16 bytes
 *                    (the series' test driver, CONFIG_NETLINK_MMAP_TEST).
 * Every dump is checked to deliver all its objects and NLMSG_DONE.
 * Each mode runs REPS times interleaved, then one counted pass per mode.
 *   gcc -O2 -Wall -o dump bench/dump.c
 *   python -m vm run --kernel BZIMAGE -- ./dump [ROUTES [COUNT [REPS]]]
 */
#define _GNU_SOURCE
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <net/if.h>

#include "bench.h"

#define FSIZE 16384
#define RX_FRAMES 256
#define RBUF 65536
#define MAXREPS 64
#define TEST_SIZE 16

enum { TEST_CMD_DUMP = 5, TEST_A_SIZE = 2, TEST_A_COUNT = 5 };

static unsigned char rbuf[RBUF];
static int test_family;

struct tally {
	long objects;
	int done;
};

/* Count the messages of one chunk; NLMSG_ERROR or an error in DONE is fatal. */
static void tally_chunk(struct tally *t, const void *buf, long len)
{
	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_type == NLMSG_DONE) {
			if (*(int *)NLMSG_DATA(h))
				fail("dump ended with error %d", *(int *)NLMSG_DATA(h));
			t->done = 1;
		} else if (h->nlmsg_type == NLMSG_ERROR) {
			fail("dump request failed: %d", ((struct nlmsgerr *)NLMSG_DATA(h))->error);
		} else {
			t->objects++;
		}
	}
}

static void xsend(int fd, struct nlmsghdr *nlh)
{
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		die("send");
}

/* Wait for the ACK of one request. */
static void ack(int fd)
{
	ssize_t r = recv(fd, rbuf, sizeof(rbuf), 0);
	struct nlmsghdr *h = (void *)rbuf;

	if (r < 0)
		die("recv ack");
	if (h->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(h))->error)
		fail("request type %d failed: %d", ((struct nlmsgerr *)NLMSG_DATA(h))->msg.nlmsg_type,
		     ((struct nlmsgerr *)NLMSG_DATA(h))->error);
}

static int nl_socket(int proto)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW, proto);

	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)))
		die("netlink socket");
	return fd;
}

/* A fresh netns with lo up and @n /32 routes via lo in the main table. */
static void make_routes(int n)
{
	struct { struct nlmsghdr h; struct rtmsg r; char a[64]; } m;
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, s, lo;

	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)");
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		die("SIOCSIFFLAGS lo");
	close(s);
	lo = if_nametoindex("lo");
	fd = nl_socket(NETLINK_ROUTE);
	for (int i = 0; i < n; i++) {
		unsigned int dst = htonl(0x0a000000 | (i + 1)), oif = lo;

		memset(&m, 0, sizeof(m));
		m.h.nlmsg_len = NLMSG_LENGTH(sizeof(m.r));
		m.h.nlmsg_type = RTM_NEWROUTE;
		m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
		m.r.rtm_family = AF_INET;
		m.r.rtm_dst_len = 32;
		m.r.rtm_table = RT_TABLE_MAIN;
		m.r.rtm_protocol = RTPROT_STATIC;
		m.r.rtm_scope = RT_SCOPE_LINK;
		m.r.rtm_type = RTN_UNICAST;
		put_attr(&m.h, RTA_DST, &dst, 4);
		put_attr(&m.h, RTA_OIF, &oif, 4);
		xsend(fd, &m.h);
		ack(fd);
	}
	close(fd);
}

/* The NLMMAP_TEST family id, via CTRL_CMD_GETFAMILY. */
static int resolve_test_family(void)
{
	struct { struct nlmsghdr h; struct genlmsghdr g; char a[64]; } m = {
		.h = { .nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN), .nlmsg_type = GENL_ID_CTRL,
		       .nlmsg_flags = NLM_F_REQUEST },
		.g = { .cmd = CTRL_CMD_GETFAMILY, .version = 1 },
	};
	int fd = nl_socket(NETLINK_GENERIC), id = -1;
	ssize_t r;

	put_attr(&m.h, CTRL_ATTR_FAMILY_NAME, "NLMMAP_TEST", 12);
	xsend(fd, &m.h);
	r = recv(fd, rbuf, sizeof(rbuf), 0);
	if (r > 0 && ((struct nlmsghdr *)rbuf)->nlmsg_type == GENL_ID_CTRL) {
		struct nlmsghdr *h = (void *)rbuf;
		struct nlattr *a = (void *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
		long left = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

		for (; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
		     left -= NLA_ALIGN(a->nla_len), a = (void *)a + NLA_ALIGN(a->nla_len))
			if (a->nla_type == CTRL_ATTR_FAMILY_ID)
				id = *(unsigned short *)((char *)a + NLA_HDRLEN);
	}
	close(fd);
	if (id < 0)
		fail("generic netlink family NLMMAP_TEST not found (CONFIG_NETLINK_MMAP_TEST?)");
	return id;
}

static void send_dump_request(int fd, int test, int count)
{
	struct { struct nlmsghdr h; union { struct rtmsg r; struct genlmsghdr g; }; char a[64]; } m;

	memset(&m, 0, sizeof(m));
	m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (test) {
		unsigned int size = TEST_SIZE;

		m.h.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
		m.h.nlmsg_type = test_family;
		m.g.cmd = TEST_CMD_DUMP;
		m.g.version = 1;
		put_attr(&m.h, TEST_A_COUNT, &count, 4);
		put_attr(&m.h, TEST_A_SIZE, &size, 4);
	} else {
		m.h.nlmsg_len = NLMSG_LENGTH(sizeof(m.r));
		m.h.nlmsg_type = RTM_GETROUTE;
		m.r.rtm_family = AF_INET;
	}
	xsend(fd, &m.h);
}

/* One dump; returns ns per object. Checks that @expect objects arrived. */
static double run(int ring_mode, int test, long expect, int count_pass, const char *row)
{
	int fd = nl_socket(test ? NETLINK_GENERIC : NETLINK_ROUTE);
	unsigned char *ring = NULL;
	struct tally t = { 0 };
	unsigned int head = 0;
	double t0, t1, k2u = 0;
	char extra[96];

	if (ring_mode)
		ring = ring_setup(fd, FSIZE, RX_FRAMES, 0);
	if (count_pass)
		trace_start();
	t0 = now_ns();
	send_dump_request(fd, test, expect);
	while (!t.done) {
		ssize_t r;

		if (ring) {
			struct nl_hdr *h = frame_at(ring, FSIZE, head);
			unsigned int st = frame_status(h);

			if (st == ST_VALID || st == ST_COPY || st == ST_SKIP) {
				if (st == ST_VALID && h->len)
					tally_chunk(&t, (unsigned char *)h + NL_HDRLEN, h->len);
				if (st == ST_COPY) {
					r = recv(fd, rbuf, sizeof(rbuf), 0);
					if (r < 0)
						die("recv (COPY frame)");
					k2u += r;
					tally_chunk(&t, rbuf, r);
				}
				frame_release(h);
				head = (head + 1) % RX_FRAMES;
				continue;
			}
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 5000) <= 0)
				fail("poll: no dump progress in 5 s");
			if (p.revents & POLLERR) {
				int err = 0;
				socklen_t l = sizeof(err);

				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
				fail("ring dump: socket error %d", err);
			}
			continue;
		}
		r = recv(fd, rbuf, sizeof(rbuf), 0);
		if (r < 0)
			die("recv");
		k2u += r;
		tally_chunk(&t, rbuf, r);
	}
	t1 = now_ns();
	if (t.objects < expect)
		fail("%s: %ld objects dumped, %ld expected", row, t.objects, expect);
	if (count_pass) {
		snprintf(extra, sizeof(extra), "\"objects\":%ld,\"recv_bytes\":%.1f",
			 t.objects, k2u / t.objects);
		trace_stop(row, ring ? "ring" : "recvmsg", t.objects, extra);
	}
	if (ring)
		munmap(ring, (size_t)FSIZE * RX_FRAMES);
	close(fd);
	return (t1 - t0) / t.objects;
}

int main(int argc, char **argv)
{
	int routes = argc > 1 ? atoi(argv[1]) : 2000;
	int count = argc > 2 ? atoi(argv[2]) : 100000;
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	static const char *const rows[] = { "dump routes", "dump test" };
	static const char *const modes[] = { "recvmsg", "ring" };
	double t[2][MAXREPS];
	int nmodes = variants(2), ndumps = nmodes == 1 ? 1 : 2;

	if (routes < 1 || count < 1 || reps < 1 || reps > MAXREPS)
		fail("usage: dump [ROUTES [COUNT [REPS]]] (REPS 1..%d)", MAXREPS);
	make_routes(routes);
	if (ndumps == 1)	/* the test driver needs CONFIG_NETLINK_MMAP */
		fprintf(stderr, "bench: baseline only: dump test left out\n");
	else
		test_family = resolve_test_family();
	for (int d = 0; d < ndumps; d++) {
		long expect = d ? count : routes;

		fprintf(stderr, "bench: %s (%ld objects), %d reps\n", rows[d], expect, reps);
		for (int m = 0; m < nmodes; m++)
			run(m, d, expect, 0, rows[d]);	/* warm up */
		for (int r = 0; r < reps; r++)
			for (int m = 0; m < nmodes; m++)
				t[m][r] = run(m, d, expect, 0, rows[d]);
		for (int m = 0; m < nmodes; m++)
			emit_samples(rows[d], modes[m], "ns/msg", t[m], reps);
		for (int m = 0; m < nmodes; m++)
			run(m, d, expect, 1, rows[d]);
	}
	return 0;
}
