// SPDX-License-Identifier: GPL-2.0
/*
 * TX ring cost, side by side in one run: N NETLINK_ROUTE requests sent
 *   ring      - through the TX ring by an exclusive sender (the 2013 series'
 *               zero-copy case; copied since D16),
 *   ring-dup  - through the TX ring with a dup()ed descriptor (always copied),
 *   plain     - with sendmsg() of a user buffer.
 * Requests are NLMSG_NOOP without ACK ("noop", pure TX cost) or RTM_GETLINK
 * for ifindex 1 ("getlink", a realistic request with a reply read by recv()).
 * Each mode runs REPS times interleaved; prints ns/request min/median/max and
 * the median speed relative to plain (plain ns / mode ns: > 1 is faster).
 *   gcc -O2 -Wall -o /tmp/tx_ring bench/tx_ring.c
 *   python -m vm run --kernel BZIMAGE -- /tmp/tx_ring [N [REPS]]
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_TX_RING
#define NETLINK_TX_RING 7
#endif
#define HDRLEN 24		/* NL_MMAP_HDRLEN */
#define ST_UNUSED 0
#define ST_VALID 2
#define FRAME 4096
#define FRAMES 64

struct req { unsigned int bs, bn, fs, fn; };
struct hdr { unsigned int status, len, group, pid, uid, gid; };

static void die(const char *what)
{
	fprintf(stderr, "tx_ring: %s: %s\n", what, strerror(errno));
	exit(2);
}

static size_t build(unsigned char *buf, int getlink, unsigned int seq)
{
	struct nlmsghdr *nlh = (void *)buf;

	memset(buf, 0, 64);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (!getlink) {
		nlh->nlmsg_type = NLMSG_NOOP;
		nlh->nlmsg_len = NLMSG_HDRLEN;
	} else {
		struct ifinfomsg *ifi = NLMSG_DATA(nlh);

		nlh->nlmsg_type = RTM_GETLINK;
		nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
		ifi->ifi_index = 1;
	}
	return nlh->nlmsg_len;
}

static void drain(int fd, int n)
{
	static char rbuf[65536];

	while (n > 0) {
		ssize_t r = recv(fd, rbuf, sizeof(rbuf), 0);

		if (r < 0)
			die("recv");
		for (struct nlmsghdr *h = (void *)rbuf; NLMSG_OK(h, r);
		     h = NLMSG_NEXT(h, r))
			n--;
	}
}

static double run(const char *mode, int getlink, int n, int batch)
{
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), dupfd = -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	unsigned char msg[64], *ring = NULL;
	struct req rq = { FRAME * 16, FRAMES / 16, FRAME, FRAMES };
	unsigned int head = 0;
	struct timespec t0, t1;
	size_t len;
	int i, b;

	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)))
		die("socket");
	if (strcmp(mode, "plain")) {
		if (setsockopt(fd, 270, NETLINK_TX_RING, &rq, sizeof(rq)))
			die("NETLINK_TX_RING");
		ring = mmap(NULL, FRAME * FRAMES, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
		if (ring == MAP_FAILED)
			die("mmap");
		if (!strcmp(mode, "ring-dup"))
			dupfd = dup(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i += batch) {
		for (b = 0; b < batch; b++) {
			len = build(msg, getlink, i + b);
			if (!ring) {
				if (send(fd, msg, len, 0) < 0)
					die("send");
				continue;
			}
			struct hdr *h = (void *)(ring + head * FRAME);

			if (h->status != ST_UNUSED) {
				fprintf(stderr, "tx_ring: frame %u busy\n", head);
				exit(2);
			}
			memcpy((unsigned char *)h + HDRLEN, msg, len);
			h->len = len;
			__atomic_store_n(&h->status, ST_VALID, __ATOMIC_RELEASE);
			head = (head + 1) % FRAMES;
		}
		if (ring && sendto(fd, NULL, 0, 0, (void *)&sa, sizeof(sa)) < 0)
			die("sendto(NULL)");
		if (getlink)
			drain(fd, batch);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ring)
		munmap(ring, FRAME * FRAMES);
	if (dupfd >= 0)
		close(dupfd);
	close(fd);
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *modes[] = { "plain", "ring", "ring-dup" };
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	int batch = 16;
	double t[3][64], med[3];

	if (reps > 64)
		reps = 64;
	printf("%-8s %-9s %10s %10s %10s %9s\n", "request", "mode",
	       "min ns", "median ns", "max ns", "speed");
	for (int g = 0; g < 2; g++) {
		for (int r = 0; r < reps; r++)
			for (int m = 0; m < 3; m++)
				t[m][r] = run(modes[m], g, n, batch);
		for (int m = 0; m < 3; m++) {
			qsort(t[m], reps, sizeof(double), cmp);
			med[m] = t[m][reps / 2];
			printf("%-8s %-9s %10.0f %10.0f %10.0f %8.2fx\n",
			       g ? "getlink" : "noop", modes[m], t[m][0], med[m],
			       t[m][reps - 1], med[0] / med[m]);
		}
	}
	return 0;
}
