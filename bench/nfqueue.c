// SPDX-License-Identifier: GPL-2.0
/*
 * NFQUEUE with real packets, side by side in one run (the seed's table):
 * a sender in its own netns blasts 1400-byte UDP datagrams over a veth pair;
 * an nft rule queues them to queue 0; a consumer accepts every packet:
 *   recvmsg  - recv() each packet message, sendmsg() the verdicts (baseline),
 *   ring     - packets read in place from an RX ring, verdicts written to a
 *              TX ring frame and sent with sendto(NULL).
 * Rows: "nfqueue batch 1" (one NFQNL_MSG_VERDICT per packet) and
 * "nfqueue batch 10" (one NFQNL_MSG_VERDICT_BATCH per 10 packets): the consumer
 * keeps up with the sender, so it wakes for about every packet.
 * "nfqueue backlog 10": batch-10 verdicts for a queue that filled while the
 * consumer was away (the sender stopped meanwhile): how fast each path drains
 * queued packets, the case where frames accumulate in the ring.
 * Each variant consumes for SECONDS per repetition, REPS times interleaved;
 * figures are accepted packets/s and Mbit/s of UDP payload. Then one counted
 * pass per variant (COUNT_N packets) gives syscalls, allocations and copies
 * per packet (the sender's and softirq work included: the guest runs nothing
 * else). One queue: the guest's other CPUs, if any, are left to the sender.
 *   gcc -O2 -Wall -o nfqueue bench/nfqueue.c
 *   python -m vm run --kernel BZIMAGE -- ./nfqueue [SECONDS [REPS [COUNT_N]]]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include "bench.h"

#define PAYLOAD 1400
#define PORT 9999
#define FSIZE 4096
#define RX_FRAMES 2048		/* more than the queue's 1024 packets: never overruns */
#define TX_FRAMES 64
#define MAXREPS 64
#define BACKLOG 500		/* queued packets a backlog repetition drains */

static unsigned char rbuf[65536];

static void sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		fail("'%s' failed (status %d)", cmd, rc);
}

/* The sender: a child in a new netns holding the veth peer; returns its pid. */
static pid_t start_sender(void)
{
	int up[2], down[2];	/* child -> parent, parent -> child */
	char c, cmd[64];
	pid_t pid;

	if (pipe(up) || pipe(down))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(PORT) };
		static char payload[PAYLOAD];
		int s;

		if (unshare(CLONE_NEWNET))
			die("unshare(CLONE_NEWNET)");
		/* the consumer is measured: it runs whenever it can */
		if (nice(19) < 0)
			die("nice");
		if (write(up[1], "n", 1) != 1 || read(down[0], &c, 1) != 1)
			die("sender handshake");
		sh("ip link set lo up && ip addr add 10.9.0.2/24 dev nqb1 && ip link set nqb1 up");
		inet_pton(AF_INET, "10.9.0.1", &dst.sin_addr);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || connect(s, (void *)&dst, sizeof(dst)))
			die("sender socket");
		if (write(up[1], "r", 1) != 1)
			die("sender ready");
		for (;;)
			send(s, payload, sizeof(payload), MSG_DONTWAIT);
	}
	if (read(up[0], &c, 1) != 1)
		die("sender netns");
	snprintf(cmd, sizeof(cmd), "ip link set nqb1 netns %d", pid);
	sh(cmd);
	if (write(down[1], "g", 1) != 1)
		die("sender go");
	if (read(up[0], &c, 1) != 1 || c != 'r')
		fail("sender did not start");
	return pid;
}

static void setup_network(void)
{
	sh("ip link add nqb0 type veth peer name nqb1 && ip addr add 10.9.0.1/24 dev nqb0 && "
	   "ip link set nqb0 up");
	sh("nft add table inet nqbench && "
	   "nft 'add chain inet nqbench in { type filter hook input priority 0; }' && "
	   "nft add rule inet nqbench in iifname nqb0 udp dport 9999 queue num 0");
}

/* Accepted packets go to a socket nobody reads (dropped when full, no ICMP). */
static void bind_sink(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, "10.9.0.1", &a.sin_addr);
	if (s < 0 || bind(s, (void *)&a, sizeof(a)))
		die("sink socket");
}

static struct nlmsghdr *nfq_hdr(void *buf, int type, int flags)
{
	struct nlmsghdr *nlh = buf;
	struct nfgenmsg *g = NLMSG_DATA(nlh);

	memset(buf, 0, NLMSG_LENGTH(sizeof(*g)));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*g));
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(0);
	return nlh;
}

/* A socket bound to queue 0, its rings set up first (with @ring) so that no
 * packet is queued to it before they exist: packets taken off the socket by
 * a ring setup would never get a verdict and fill the queue. The config is
 * sent without ACK requests; a refused one shows up as an NLMSG_ERROR among
 * the packets (counted as a verdict error).
 */
static int queue_socket(int ring, unsigned char **map)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	struct nfqnl_msg_config_params p = { htonl(0xffff), NFQNL_COPY_PACKET };
	unsigned char buf[128];
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER), big = 4 << 20;
	struct nlmsghdr *nlh;

	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)))
		die("nfqueue socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	*map = ring ? ring_setup(fd, FSIZE, RX_FRAMES, TX_FRAMES) : NULL;
	nlh = nfq_hdr(buf, NFQNL_MSG_CONFIG, 0);
	put_attr(nlh, NFQA_CFG_CMD, &cmd, sizeof(cmd));
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		die("send NFQNL_CFG_CMD_BIND");
	nlh = nfq_hdr(buf, NFQNL_MSG_CONFIG, 0);
	put_attr(nlh, NFQA_CFG_PARAMS, &p, sizeof(p));
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		die("send NFQA_CFG_PARAMS");
	return fd;
}

/* The packet id of one queued-packet message; checks the payload length. */
static unsigned int packet_id(const struct nlmsghdr *h)
{
	const struct nlattr *a = (void *)((char *)NLMSG_DATA(h) + sizeof(struct nfgenmsg));
	long left = h->nlmsg_len - NLMSG_LENGTH(sizeof(struct nfgenmsg));
	unsigned int id = 0, len = 0;
	int have = 0;

	if (h->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
		fail("unexpected message type 0x%x on the queue socket", h->nlmsg_type);
	for (; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
	     left -= NLA_ALIGN(a->nla_len), a = (void *)a + NLA_ALIGN(a->nla_len)) {
		if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR) {
			id = ntohl(((struct nfqnl_msg_packet_hdr *)((char *)a + NLA_HDRLEN))->packet_id);
			have = 1;
		} else if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PAYLOAD) {
			len = a->nla_len - NLA_HDRLEN;
		}
	}
	/* packets queued before the copy mode took effect carry no payload */
	if (!have || (len && len != 20 + 8 + PAYLOAD))
		fail("queued packet without id or of %u bytes", len);
	return id;
}

struct consumer {
	int fd, ring, batch;
	unsigned char *map;
	unsigned int rx_head, tx_head;
	long packets, verdicts;
	double recv_bytes;
	unsigned int last_id;
	int pending;
};

static void verdict(struct consumer *c, unsigned int id)
{
	struct nfqnl_msg_verdict_hdr v = { htonl(NF_ACCEPT), htonl(id) };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	unsigned char buf[64], *dst = buf;
	struct nl_hdr *f = NULL;
	struct nlmsghdr *nlh;

	if (c->ring) {
		f = frame_at(c->map + (size_t)FSIZE * RX_FRAMES, FSIZE, c->tx_head);
		if (frame_status(f) != ST_UNUSED)
			fail("TX frame %u still in use", c->tx_head);
		dst = (unsigned char *)f + NL_HDRLEN;
	}
	nlh = nfq_hdr(dst, c->batch > 1 ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT, 0);
	put_attr(nlh, NFQA_VERDICT_HDR, &v, sizeof(v));
	if (c->ring) {
		f->len = nlh->nlmsg_len;
		__atomic_store_n(&f->status, ST_VALID, __ATOMIC_RELEASE);
		c->tx_head = (c->tx_head + 1) % TX_FRAMES;
		if (sendto(c->fd, NULL, 0, 0, (void *)&sa, sizeof(sa)) < 0)
			die("sendto(NULL) verdict");
	} else if (send(c->fd, nlh, nlh->nlmsg_len, 0) < 0) {
		die("send verdict");
	}
	c->verdicts++;
}

static long verdict_errors, socket_errors;

static void got_packet(struct consumer *c, const struct nlmsghdr *h)
{
	unsigned int id;

	if (h->nlmsg_type == NLMSG_ERROR) {	/* a verdict or config refused */
		if (!verdict_errors++)
			fprintf(stderr, "bench: first verdict error: %d\n",
				((struct nlmsgerr *)NLMSG_DATA(h))->error);
		return;
	}
	id = packet_id(h);

	c->packets++;
	c->last_id = id;
	if (++c->pending >= c->batch) {
		verdict(c, id);
		c->pending = 0;
	}
}

/* Consume until @stop_ns (monotonic) or @max packets; returns packets. */
static long consume(struct consumer *c, double stop_ns, long max)
{
	long start = c->packets;

	while (c->packets - start < max && now_ns() < stop_ns) {
		if (c->ring) {
			struct nl_hdr *f = frame_at(c->map, FSIZE, c->rx_head);
			unsigned int st = frame_status(f);

			if (st == ST_VALID || st == ST_COPY || st == ST_SKIP) {
				if (st == ST_VALID && f->len)
					got_packet(c, (void *)((unsigned char *)f + NL_HDRLEN));
				if (st == ST_COPY) {
					ssize_t r = recv(c->fd, rbuf, sizeof(rbuf), 0);

					if (r < 0)
						die("recv (COPY frame)");
					c->recv_bytes += r;
					got_packet(c, (void *)rbuf);
				}
				frame_release(f);
				c->rx_head = (c->rx_head + 1) % RX_FRAMES;
				continue;
			}
			struct pollfd p = { .fd = c->fd, .events = POLLIN };

			if (poll(&p, 1, 1000) < 0)
				die("poll");
			if (p.revents & POLLERR) {	/* overrun: packets dropped */
				int err = 0;
				socklen_t l = sizeof(err);

				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (!socket_errors++)
					fprintf(stderr, "bench: first socket error: %d\n", err);
			}
			continue;
		}
		ssize_t r = recv(c->fd, rbuf, sizeof(rbuf), 0);

		if (r < 0) {
			if (errno != ENOBUFS)
				die("recv");
			if (!socket_errors++)	/* overrun: packets dropped */
				fprintf(stderr, "bench: first socket error: %d\n", -ENOBUFS);
			continue;
		}
		c->recv_bytes += r;
		for (struct nlmsghdr *h = (void *)rbuf; NLMSG_OK(h, r); h = NLMSG_NEXT(h, r))
			got_packet(c, h);
	}
	return c->packets - start;
}

/* Packets queue 0 holds awaiting a verdict (queue_total, the third field). */
static long queued(void)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	long q = -1, total = -1;

	if (!f)
		die("/proc/net/netfilter/nfnetlink_queue");
	while (fscanf(f, "%ld %*d %ld%*[^\n]", &q, &total) == 2 && q != 0)
		total = -1;
	fclose(f);
	if (total < 0)
		fail("queue 0 not in /proc/net/netfilter/nfnetlink_queue");
	return total;
}

/* Give the packets read so far their verdict, so that what the queue holds is
 * exactly what has not been read.
 */
static void settle(struct consumer *c)
{
	if (c->pending)
		verdict(c, c->last_id);
	c->pending = 0;
}

/* Let @target packets queue up while nothing is read (the sender alone), then
 * stop the sender; returns how many are queued.
 */
static long fill(pid_t sender, long target)
{
	double start = now_ns(), said = start;
	long n;

	while ((n = queued()) < target) {
		if (now_ns() - start > 30e9)
			fail("%ld packets queued after 30 s, not %ld", n, target);
		if (now_ns() - said > 5e9) {
			fprintf(stderr, "bench: %ld packets queued so far\n", n);
			said = now_ns();
		}
		usleep(2000);
	}
	kill(sender, SIGSTOP);
	usleep(50000);			/* packets in flight land in the queue */
	n = queued();
	return n;
}

/* Time draining @n queued packets; returns packets/s. */
static double drain(struct consumer *c, long n)
{
	double t0 = now_ns(), t1;
	long got = consume(c, t0 + 60e9, n);

	t1 = now_ns();
	if (got < n)
		fail("drained %ld of %ld queued packets in 60 s", got, n);
	return got / ((t1 - t0) / 1e9);
}

/* End a counted pass: the counts per packet consumed, with the consumer's own. */
static void counted_stop(const struct consumer *c, const char *row, const char *mode)
{
	char extra[160];

	snprintf(extra, sizeof(extra),
		 "\"verdict_msgs\":%.3f,\"recv_bytes\":%.1f,\"verdict_errors\":%ld,\"socket_errors\":%ld",
		 (double)c->verdicts / c->packets, c->recv_bytes / c->packets,
		 verdict_errors, socket_errors);
	trace_stop(row, mode, c->packets, extra);
}

static void consumer_open(struct consumer *c, int ring, int batch)
{
	memset(c, 0, sizeof(*c));
	c->fd = queue_socket(ring, &c->map);
	c->ring = ring;
	c->batch = batch;
}

static void consumer_close(struct consumer *c)
{
	if (c->map)
		munmap(c->map, (size_t)FSIZE * (RX_FRAMES + TX_FRAMES));
	close(c->fd);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	long count_n = argc > 3 ? atol(argv[3]) : 2000;
	static const char *const modes[] = { "recvmsg", "ring" };
	static const int batches[] = { 1, 10 };
	double pps[2][MAXREPS], mbit[2][MAXREPS];
	char row[32];
	struct consumer c;
	int nmodes = variants(2);
	pid_t sender;

	if (seconds <= 0 || reps < 1 || reps > MAXREPS || count_n < 10)
		fail("usage: nfqueue [SECONDS [REPS [COUNT_N]]] (REPS 1..%d)", MAXREPS);
	setup_network();
	bind_sink();
	sender = start_sender();
	for (int b = 0; b < 2; b++) {
		snprintf(row, sizeof(row), "nfqueue batch %d", batches[b]);
		fprintf(stderr, "bench: %s, %d reps of %.1f s\n", row, reps, seconds);
		for (int r = 0; r < reps; r++) {
			for (int m = 0; m < nmodes; m++) {
				double t0, t1;
				long n;

				consumer_open(&c, m, batches[b]);
				consume(&c, now_ns() + 0.2e9, 1L << 40);	/* warm up */
				t0 = now_ns();
				n = consume(&c, t0 + seconds * 1e9, 1L << 40);
				t1 = now_ns();
				consumer_close(&c);
				pps[m][r] = n / ((t1 - t0) / 1e9);
				mbit[m][r] = pps[m][r] * PAYLOAD * 8 / 1e6;
			}
		}
		for (int m = 0; m < nmodes; m++) {
			emit_samples(row, modes[m], "pkt/s", pps[m], reps);
			emit_samples(row, modes[m], "Mbit/s", mbit[m], reps);
		}
		for (int m = 0; m < nmodes; m++) {
			consumer_open(&c, m, batches[b]);
			consume(&c, now_ns() + 0.2e9, 1L << 40);
			c.packets = c.verdicts = 0;
			c.recv_bytes = 0;
			/* Arm the tracing with the sender stopped: patching kernel text
			 * that the other vCPU runs in softirq crashed 2-vCPU guests
			 * under TCG (an int3 Oops, a call to address 0 from the kprobed
			 * __netlink_lookup).
			 */
			kill(sender, SIGSTOP);
			usleep(200000);
			trace_start();
			kill(sender, SIGCONT);
			consume(&c, now_ns() + 60e9, count_n);
			counted_stop(&c, row, modes[m]);
			consumer_close(&c);
		}
	}
	snprintf(row, sizeof(row), "nfqueue backlog 10");
	fprintf(stderr, "bench: %s, %d reps of %d queued packets\n", row, reps, BACKLOG);
	for (int r = 0; r < reps; r++) {
		for (int m = 0; m < nmodes; m++) {
			consumer_open(&c, m, 10);
			consume(&c, now_ns() + 0.2e9, 1L << 40);	/* warm up */
			settle(&c);
			pps[m][r] = drain(&c, fill(sender, BACKLOG));
			kill(sender, SIGCONT);
			mbit[m][r] = pps[m][r] * PAYLOAD * 8 / 1e6;
			consumer_close(&c);
		}
	}
	for (int m = 0; m < nmodes; m++) {
		emit_samples(row, modes[m], "pkt/s", pps[m], reps);
		emit_samples(row, modes[m], "Mbit/s", mbit[m], reps);
	}
	for (int m = 0; m < nmodes; m++) {	/* counted: queueing and draining */
		long n;

		consumer_open(&c, m, 10);
		consume(&c, now_ns() + 0.2e9, 1L << 40);
		settle(&c);
		kill(sender, SIGSTOP);	/* as above: arm the tracing with the sender stopped */
		usleep(200000);
		consume(&c, now_ns() + 60e9, queued());	/* what was queued meanwhile */
		settle(&c);
		c.packets = c.verdicts = 0;
		c.recv_bytes = 0;
		trace_start();
		kill(sender, SIGCONT);
		n = fill(sender, BACKLOG);
		consume(&c, now_ns() + 60e9, n);
		counted_stop(&c, row, modes[m]);
		kill(sender, SIGCONT);
		consumer_close(&c);
	}
	kill(sender, SIGKILL);
	waitpid(sender, NULL, 0);
	return 0;
}
