// SPDX-License-Identifier: GPL-2.0
/*
 * TX ring cost, side by side in one run: N NETLINK_ROUTE requests sent
 *   sendmsg   - with send() of a user buffer, one call per request (baseline),
 *   ring      - through the TX ring by an exclusive sender, one sendto(NULL)
 *               per BATCH frames (the 2013 series' zero-copy case; copied
 *               since D16),
 *   ring-dup  - the same with a dup()ed descriptor (always copied).
 * Requests: NLMSG_NOOP without ACK ("noop": pure TX cost), NLMSG_NOOP with
 * NLM_F_ACK ("noop+ack": the ACK is read by recv()), RTM_GETLINK for ifindex 1
 * ("getlink": a realistic request, its reply read by recv()), and a 16 KiB
 * NLMSG_NOOP without ACK ("noop 16KiB": where copying costs most).
 * Each mode runs REPS times interleaved; then one counted pass per mode
 * (COUNT_N requests) gives syscalls, allocations and copies per request.
 * Output: the BENCH lines of bench.h, and a table for humans.
 *   gcc -O2 -Wall -o tx_ring bench/tx_ring.c
 *   python -m vm run --kernel BZIMAGE -- ./tx_ring [N [REPS [COUNT_N]]]
 */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "bench.h"

#define FRAME 32768		/* holds the 16 KiB request */
#define FRAMES 16
#define BIG (16 * 1024)
#define BATCH 16
#define MAXREPS 64

enum request { NOOP, NOOP_ACK, GETLINK, NOOP_BIG, NREQ };
static const char *const req_names[] = {
	"tx noop", "tx noop+ack", "tx getlink", "tx noop 16KiB"
};
static const char *const modes[] = { "sendmsg", "ring", "ring-dup" };
#define NMODES 3

static double reply_bytes;

static size_t build(unsigned char *buf, enum request r, unsigned int seq)
{
	struct nlmsghdr *nlh = (void *)buf;

	memset(buf, 0, 64);	/* a 16 KiB NOOP's payload is never read */
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (r != GETLINK) {
		nlh->nlmsg_type = NLMSG_NOOP;
		nlh->nlmsg_len = r == NOOP_BIG ? BIG : NLMSG_HDRLEN;
		if (r == NOOP_ACK)
			nlh->nlmsg_flags |= NLM_F_ACK;
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
		reply_bytes += r;
		for (struct nlmsghdr *h = (void *)rbuf; NLMSG_OK(h, r);
		     h = NLMSG_NEXT(h, r)) {
			if (h->nlmsg_type == NLMSG_ERROR &&
			    ((struct nlmsgerr *)NLMSG_DATA(h))->error)
				fail("request %u failed: %d", h->nlmsg_seq,
				     ((struct nlmsgerr *)NLMSG_DATA(h))->error);
			n--;
		}
	}
}

/* ns per request; with @count, the counted pass instead (returns 0). */
static double run(const char *mode, enum request r, int n, int count)
{
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), dupfd = -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static unsigned char msg[BIG];
	unsigned char *ring = NULL;
	unsigned int head = 0;
	size_t len = 0;
	double t0, t1;
	int i, b;

	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)))
		die("socket");
	if (strcmp(mode, "sendmsg")) {
		ring = ring_setup(fd, FRAME, 0, FRAMES);
		if (!strcmp(mode, "ring-dup"))
			dupfd = dup(fd);
	}
	reply_bytes = 0;
	if (count)
		trace_start();
	t0 = now_ns();
	for (i = 0; i < n; i += BATCH) {
		for (b = 0; b < BATCH; b++) {
			if (!ring) {
				len = build(msg, r, i + b);
				if (send(fd, msg, len, 0) < 0)
					die("send");
				continue;
			}
			struct nl_hdr *h = frame_at(ring, FRAME, head);

			if (frame_status(h) != ST_UNUSED)
				fail("TX frame %u still in use", head);
			/* built in place, as a ring user would */
			len = build((unsigned char *)h + NL_HDRLEN, r, i + b);
			h->len = len;
			__atomic_store_n(&h->status, ST_VALID, __ATOMIC_RELEASE);
			head = (head + 1) % FRAMES;
		}
		if (ring && sendto(fd, NULL, 0, 0, (void *)&sa, sizeof(sa)) < 0)
			die("sendto(NULL)");
		if (r == NOOP_ACK || r == GETLINK)
			drain(fd, BATCH);
	}
	t1 = now_ns();
	if (count) {
		char extra[128];

		snprintf(extra, sizeof(extra),
			 "\"request_bytes\":%zu,\"reply_bytes\":%.1f", len,
			 reply_bytes / n);
		trace_stop(req_names[r], mode, n, extra);
	}
	if (ring)
		munmap(ring, FRAME * FRAMES);
	if (dupfd >= 0)
		close(dupfd);
	close(fd);
	return (t1 - t0) / n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	int count_n = argc > 3 ? atoi(argv[3]) : 1024;
	double t[NMODES][MAXREPS], s[MAXREPS];
	int nmodes = variants(NMODES);

	if (n < BATCH || n % BATCH || reps < 1 || reps > MAXREPS ||
	    count_n < BATCH || count_n % BATCH)
		fail("usage: tx_ring [N [REPS [COUNT_N]]] (N, COUNT_N multiples of %d, REPS 1..%d)",
		     BATCH, MAXREPS);
	printf("%-12s %-9s %10s %10s %10s %7s\n", "request", "mode",
	       "min ns", "median ns", "max ns", "speed");
	for (int g = 0; g < NREQ; g++) {
		for (int m = 0; m < nmodes; m++)
			run(modes[m], g, BATCH * 4, 0);	/* warm up */
		for (int r = 0; r < reps; r++)
			for (int m = 0; m < nmodes; m++)
				t[m][r] = run(modes[m], g, n, 0);
		for (int m = 0; m < nmodes; m++)
			emit_samples(req_names[g], modes[m], "ns/msg", t[m], reps);
		for (int m = 0; m < nmodes; m++) {
			memcpy(s, t[m], reps * sizeof(double));
			qsort(s, reps, sizeof(double), cmp);
			memcpy(t[m], s, reps * sizeof(double));
		}
		for (int m = 0; m < nmodes; m++)
			printf("%-12s %-9s %10.0f %10.0f %10.0f %6.2fx\n",
			       req_names[g], modes[m], t[m][0], t[m][reps / 2],
			       t[m][reps - 1], t[0][reps / 2] / t[m][reps / 2]);
		for (int m = 0; m < nmodes; m++)
			run(modes[m], g, count_n, 1);
	}
	return 0;
}
