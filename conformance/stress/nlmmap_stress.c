// SPDX-License-Identifier: GPL-2.0
/*
 * nlmmap_stress - adversarial stress test of memory-mapped netlink I/O.
 *
 * Threads (sharing sockets) and single-threaded worker processes (own sockets) run
 * random operations from a seeded PRNG on NETLINK_ROUTE, NETLINK_GENERIC and
 * NETLINK_USERSOCK sockets with RX/TX rings, for a bounded wall-clock time. Every
 * outcome is checked against the set of outcomes the UAPI allows (allowed-result sets,
 * in the style of SibylFS) and every message the kernel hands back (ring frame or
 * recv()) is checked for self-consistency. See README.md next to this file.
 *
 *   nlmmap_stress [--seconds S] [--checks N] [--seed N] [--threads T] [--procs P]
 *                 [--verbose]
 *
 * --checks N ends the run once N outcomes were checked against their allowed sets
 * (the debug gate's budget); --seconds stays the upper bound.
 *
 * Exit status: 0 no failure, 1 failures (each printed as "stress: FAIL[...]"),
 * 2 cannot run (feature absent: "stress: feature absent: ...", bad arguments).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/genetlink.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ UAPI */

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#define NLMM_RX_RING 6
#define NLMM_TX_RING 7

struct nlmm_req {		/* struct nl_mmap_req */
	unsigned int bs;	/* nm_block_size */
	unsigned int bn;	/* nm_block_nr */
	unsigned int fs;	/* nm_frame_size */
	unsigned int fn;	/* nm_frame_nr */
};

struct nlmm_hdr {		/* struct nl_mmap_hdr */
	unsigned int status;
	unsigned int len;
	uint32_t group, pid, uid, gid;
};

enum { ST_UNUSED, ST_RESERVED, ST_VALID, ST_COPY, ST_SKIP };
static const char *const st_names[] = { "UNUSED", "RESERVED", "VALID", "COPY", "SKIP" };
#define NLMM_HDRLEN 24

#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

/* the series' test driver (patches/INTERFACES.md) */
#define TESTFAM "NLMMAP_TEST"
#define TCMD_ALLOC 1
#define TCMD_DUMP 5
#define TA_PORTID 1
#define TA_SIZE 2
#define TA_COUNT 5

#define ALIGN4(x) (((x) + 3u) & ~3u)

/* ------------------------------------------------------------ operations */

enum op {
	OP_OPEN, OP_SET_RX, OP_SET_TX, OP_MMAP, OP_MUNMAP, OP_SEND, OP_REWRITE, OP_RXREAD,
	OP_RECV, OP_POLL, OP_FORK, OP_DUP, OP_SCM, OP_PVW, OP_IFCONF, OP_NETNS, OP_SOERR,
	OP_TAP, NOPS
};
static const char *const op_names[NOPS] = {
	"reopen", "set_rx_ring", "set_tx_ring", "mmap", "munmap", "ring_send", "rewrite",
	"rx_read", "recv", "poll", "fork_writer", "dup", "scm_rights", "process_vm_writev",
	"ifconf", "netns_churn", "so_error", "nlmon_tap",
};
/* relative weights: threads share sockets; processes are single-threaded, so their
 * own sends can look "exclusive" while a forked writer or process_vm_writev() races */
static const unsigned w_thread[NOPS] = {
	2, 5, 5, 7, 4, 22, 6, 14, 6, 8, 2, 3, 2, 2, 4, 1, 2, 2 };
static const unsigned w_proc[NOPS] = {
	2, 3, 3, 4, 3, 14, 2, 10, 5, 6, 20, 2, 2, 12, 3, 1, 1, 0 };

enum fkind { F_OUTCOME, F_TX_RESERVED, F_STATUS, F_ACK, F_MSG, F_FRAME, F_MMAP, F_CHILD,
	     F_STUCK, NFK };
static const char *const fk_names[NFK] = {
	"outcome", "tx-frame-reserved", "frame-status", "ack-length", "msg-bounds",
	"frame-len", "mmap-geometry", "child", "stuck" };

enum stat_k { S_SENDS, S_SEND_BYTES, S_ACKS, S_MSGS, S_RX_VALID, S_RX_COPY, S_TX_FILLED,
	    S_REWRITES, S_FORKS, S_PVW, S_PVW_EPERM, S_NETNS, S_IFCONF, S_SCM, S_EXCL_SENDS,
	    S_SKIPPED, S_TAP, S_CHECKED, S_SLOW_CHILD, NSTAT };
static const char *const stat_names[NSTAT] = {
	"sends", "send_bytes", "acks_checked", "msgs_checked", "rx_valid_frames",
	"rx_copy_frames", "tx_frames_filled", "frame_writes", "forks", "pvw_writes",
	"pvw_eperm", "netns", "ifconf", "scm", "excl_window_sends", "lock_timeouts",
	"tap_packets", "outcomes_checked", "slow_children_killed" };

#define MAX_W 64
#define MAX_FAIL_PRINT 60
#define PER_KIND_PRINT 6

struct shared {
	uint64_t ops;
	uint64_t op_count[NOPS];
	uint64_t op_ns[NOPS];	/* wall time spent in each kind: what to weight down */
	uint32_t failures;
	uint32_t printed;
	uint32_t fk[NFK];
	int running[MAX_W];
	uint8_t pair[NOPS][NOPS];
	int stop;
	uint64_t stats[NSTAT];
	pid_t procs[MAX_W];
};
static struct shared *sh;

static struct {
	int seconds, threads, procs, verbose;
	uint64_t seed;
	uint64_t checks;	/* stop once this many outcomes are checked (0: time only) */
} opt = { 60, 4, 2, 0, 0, 0 };

static long page_sz;
static int test_family;		/* NLMMAP_TEST family id, 0 if absent */
static int in_private_netns;
static int nlmon_ifindex;
static int64_t deadline_ns, start_ns;

/* ---------------------------------------------------------------- slots */

struct map {
	uint8_t *addr;
	size_t len;
	struct nlmm_req rx, tx;	/* ring geometry the mapping was made for */
};

struct slot {
	int idx;
	pthread_rwlock_t life;	/* rd: use fd + mappings; wr: close/reopen, munmap */
	pthread_mutex_t cfg_mu;	/* held across ring setsockopt + record update */
	pthread_mutex_t map_mu;	/* adding mappings */
	pthread_mutex_t tx_mu;	/* filling TX frames (the rewriter does not take it) */
	pthread_mutex_t rx_mu;	/* consuming RX frames */
	int fd, proto, groups;
	uint32_t portid;
	struct nlmm_req rx, tx;	/* configured rings as the kernel accepted them */
	unsigned gen;		/* successful ring changes / reopens */
	struct map maps[2];
	int nmaps;
	unsigned tx_cur;
};

struct wctx {
	int id, is_proc, is_child, cur_op;
	int64_t op_t0;
	uint64_t rng;
	struct slot *slots;
	int nslots;
	uint8_t *rbuf;
	size_t rbufsz;
	uint32_t seq;
	int tapfd;
	struct seqrec *seqtab;	/* worker processes: seq -> nm_len of the frame sent */
};

/* While a worker process is the "exclusive" sender, the frames come from its fork
 * child, which records the nm_len each request was sent with; an error ACK may never
 * echo a request longer than that (the kernel checked nlmsg_len against nm_len). */
#define SEQTAB 4096
struct seqrec {
	uint32_t seq, nm_len;
};

/* ------------------------------------------------------------- utilities */

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec t = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&t, NULL);
}

static void wr_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t r = write(fd, b, n);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return;
		}
		b += r;
		n -= (size_t)r;
	}
}

static void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int fd, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	wr_all(fd, buf, n);
}

static uint64_t rnd64(struct wctx *w)
{
	uint64_t z = (w->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static unsigned rnd(struct wctx *w, unsigned n)
{
	return n ? (unsigned)(rnd64(w) % n) : 0;
}

static int coin(struct wctx *w, unsigned pct)
{
	return rnd(w, 100) < pct;
}

static void stat_add(enum stat_k k, uint64_t n)
{
	__atomic_fetch_add(&sh->stats[k], n, __ATOMIC_RELAXED);
}

static int stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED) || now_ns() >= deadline_ns;
}

static const char *ename(int e, char *buf, size_t n)
{
	static const struct { int e; const char *n; } t[] = {
		{ EINVAL, "EINVAL" }, { EBUSY, "EBUSY" }, { ENOMEM, "ENOMEM" },
		{ ENOBUFS, "ENOBUFS" }, { EAGAIN, "EAGAIN" }, { EINTR, "EINTR" },
		{ ECONNREFUSED, "ECONNREFUSED" }, { EPERM, "EPERM" }, { ESRCH, "ESRCH" },
		{ EFAULT, "EFAULT" }, { ENODATA, "ENODATA" }, { ENOPROTOOPT, "ENOPROTOOPT" },
		{ EBADF, "EBADF" }, { ENODEV, "ENODEV" }, { EMSGSIZE, "EMSGSIZE" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENOENT, "ENOENT" }, { EEXIST, "EEXIST" },
		{ ERANGE, "ERANGE" }, { EACCES, "EACCES" }, { ENOTCONN, "ENOTCONN" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, n, "errno %d", e);
	return buf;
}

/* allowed-outcome sets */
#define A_OK		(1u << 0)
#define A_EINVAL	(1u << 1)
#define A_EBUSY		(1u << 2)
#define A_ENOMEM	(1u << 3)
#define A_ENOBUFS	(1u << 4)
#define A_EAGAIN	(1u << 5)
#define A_EINTR		(1u << 6)
#define A_ECONNREFUSED	(1u << 7)
#define A_EPERM		(1u << 8)
#define A_ESRCH		(1u << 9)
#define A_ENODATA	(1u << 10)
#define A_EFAULT	(1u << 11)
/* what sk_err may carry on a netlink socket: overrun, a raced dump continuation
 * (netlink_dump with no dump running: EINVAL, as upstream), allocation failure */
#define A_SKERR		(A_ENOBUFS | A_EINVAL | A_ENOMEM)

static const struct { unsigned bit; int e; const char *n; } abits[] = {
	{ A_OK, 0, "ok" }, { A_EINVAL, EINVAL, "EINVAL" }, { A_EBUSY, EBUSY, "EBUSY" },
	{ A_ENOMEM, ENOMEM, "ENOMEM" }, { A_ENOBUFS, ENOBUFS, "ENOBUFS" },
	{ A_EAGAIN, EAGAIN, "EAGAIN" }, { A_EINTR, EINTR, "EINTR" },
	{ A_ECONNREFUSED, ECONNREFUSED, "ECONNREFUSED" }, { A_EPERM, EPERM, "EPERM" },
	{ A_ESRCH, ESRCH, "ESRCH" }, { A_ENODATA, ENODATA, "ENODATA" },
	{ A_EFAULT, EFAULT, "EFAULT" },
};

static void failf(struct wctx *w, enum fkind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failf(struct wctx *w, enum fkind k, const char *fmt, ...)
{
	uint32_t nk = __atomic_fetch_add(&sh->fk[k], 1, __ATOMIC_RELAXED);
	char buf[2048];
	va_list ap;
	int n;

	__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
	if (nk >= PER_KIND_PRINT ||
	    __atomic_fetch_add(&sh->printed, 1, __ATOMIC_RELAXED) >= MAX_FAIL_PRINT)
		return;
	if (w)
		n = snprintf(buf, sizeof(buf), "stress: FAIL[%s] worker=%s%d pid=%d op=%s: ",
			     fk_names[k], w->is_proc ? "p" : "t", w->id, (int)getpid(),
			     w->cur_op >= 0 ? op_names[w->cur_op] : "setup");
	else
		n = snprintf(buf, sizeof(buf), "stress: FAIL[%s] main: ", fk_names[k]);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 2, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	wr_all(1, buf, n);
}

/* ret >= 0: success; else errno in err. Returns 1 if the outcome is allowed. */
static int check_res(struct wctx *w, unsigned allowed, long ret, int err,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int check_res(struct wctx *w, unsigned allowed, long ret, int err,
		     const char *fmt, ...)
{
	char desc[768], al[256] = "", res[48], eb[32];
	unsigned bit = 0;
	va_list ap;
	size_t i;

	stat_add(S_CHECKED, 1);
	if (ret >= 0) {
		bit = A_OK;
	} else {
		for (i = 0; i < sizeof(abits) / sizeof(abits[0]); i++)
			if (abits[i].e == err && abits[i].bit != A_OK)
				bit = abits[i].bit;
	}
	if (bit & allowed)
		return 1;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	for (i = 0; i < sizeof(abits) / sizeof(abits[0]); i++) {
		if (!(allowed & abits[i].bit))
			continue;
		if (al[0])
			strncat(al, ",", sizeof(al) - strlen(al) - 1);
		strncat(al, abits[i].n, sizeof(al) - strlen(al) - 1);
	}
	if (ret >= 0)
		snprintf(res, sizeof(res), "%ld", ret);
	else
		snprintf(res, sizeof(res), "-1 %s", ename(err, eb, sizeof(eb)));
	failf(w, F_OUTCOME, "%s -> %s; allowed {%s}", desc, res, al);
	return 0;
}

static const char *proto_name(int p)
{
	return p == NETLINK_ROUTE ? "ROUTE" : p == NETLINK_GENERIC ? "GENERIC" :
	       p == NETLINK_USERSOCK ? "USERSOCK" : "?";
}

/* ------------------------------------------------------------- geometry */

struct geo {
	struct nlmm_req r;
	int valid;		/* passes every check of a creation request */
	const char *name;
};

static const struct geo geos[] = {
	{ { 4096, 4, 2048, 8 }, 1, "2K frames x8" },
	{ { 4096, 8, 4096, 8 }, 1, "4K frames x8" },
	{ { 4096, 2, 256, 32 }, 1, "256B frames x32" },
	{ { 8192, 3, 3000, 6 }, 1, "3000B frames, 2 per 8K block" },
	{ { 16384, 2, 16384, 2 }, 1, "16K frames x2" },
	{ { 65536, 2, 65536, 2 }, 1, "64K frames x2" },
	{ { 65536, 1, 16384, 4 }, 1, "16K frames in one 64K block" },
	{ { 8192, 2, 1024, 16 }, 1, "1K frames x16" },
	/* invalid */
	{ { 4096, 2, 20, 408 }, 0, "frame smaller than the header" },
	{ { 4096, 2, 2050, 2 }, 0, "frame size not 4-aligned" },
	{ { 5000, 2, 2048, 4 }, 0, "block size not page-aligned" },
	{ { 4096, 2, 2048, 5 }, 0, "frame_nr does not match" },
	{ { 0x80000000u, 1, 4096, 0x80000 }, 0, "block size negative as int" },
	{ { 4096, 1, 8192, 0 }, 0, "frame larger than block" },
	{ { 65536, 0x200000, 32, 0 }, 0, "frame_nr overflows u32 to 0" },
	{ { 65536, 0x200001, 32, 2048 }, 0, "frame_nr overflows u32 to 2048" },
	{ { 4096, 0x100000, 4096, 0x100000 }, 0, "ring of 4 GiB" },
};
#define NGEOS ((int)(sizeof(geos) / sizeof(geos[0])))
#define NVALID 8

static size_t ring_size(const struct nlmm_req *r)
{
	return r->bn ? (size_t)r->bs * r->bn : 0;
}

static struct nlmm_hdr *frame_at(uint8_t *base, const struct nlmm_req *r, unsigned i)
{
	unsigned fpb = r->bs / r->fs;

	return (struct nlmm_hdr *)(base + (size_t)(i / fpb) * r->bs +
				   (size_t)(i % fpb) * r->fs);
}

static unsigned ld_status(struct nlmm_hdr *h)
{
	return __atomic_load_n(&h->status, __ATOMIC_ACQUIRE);
}

static void st_status(struct nlmm_hdr *h, unsigned v)
{
	__atomic_store_n(&h->status, v, __ATOMIC_RELEASE);
}

static const char *stname(unsigned s, char *b, size_t n)
{
	if (s < 5)
		return st_names[s];
	snprintf(b, n, "%u", s);
	return b;
}

/* ---------------------------------------------------------- lock helpers */

static int timed(pthread_rwlock_t *l, int wr)
{
	struct timespec t;
	int r;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += 300 * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	r = wr ? pthread_rwlock_timedwrlock(l, &t) : pthread_rwlock_timedrdlock(l, &t);
	if (r)
		stat_add(S_SKIPPED, 1);
	return r == 0;
}

static int rd_lock(struct slot *s) { return timed(&s->life, 0); }
static int wr_lock(struct slot *s) { return timed(&s->life, 1); }
static void un_lock(struct slot *s) { pthread_rwlock_unlock(&s->life); }

/* a snapshot of a mapping, with a TX (want_tx) or RX ring; caller holds life */
static int get_map(struct wctx *w, struct slot *s, struct map *m, int want_tx, int want_rx)
{
	int n, i, ok = 0;

	pthread_mutex_lock(&s->map_mu);
	n = s->nmaps;
	if (n) {
		i = rnd(w, n);
		*m = s->maps[i];
		ok = (!want_tx || m->tx.bn) && (!want_rx || m->rx.bn);
		if (!ok && n == 2) {
			*m = s->maps[!i];
			ok = (!want_tx || m->tx.bn) && (!want_rx || m->rx.bn);
		}
	}
	pthread_mutex_unlock(&s->map_mu);
	return ok;
}

/* ------------------------------------------------------ message checking */

/* An NLMSG_ERROR from the kernel: its length must follow from what it echoes. */
static void check_ack(struct wctx *w, const char *where, const uint8_t *p, uint32_t len,
		      uint32_t portid)
{
	struct nlmsghdr h, e;
	uint32_t expect;
	int32_t err;

	memcpy(&h, p, sizeof(h));
	stat_add(S_ACKS, 1);
	if (len < 36) {
		failf(w, F_ACK, "%s: NLMSG_ERROR nlmsg_len %u < 36 (header + error + echoed "
		      "header)", where, len);
		return;
	}
	memcpy(&err, p + 16, 4);
	memcpy(&e, p + 20, sizeof(e));
	if (err > 0 || err < -4095)
		failf(w, F_ACK, "%s: NLMSG_ERROR error %d is not 0 or a negative errno "
		      "(len %u seq %u)", where, err, len, h.nlmsg_seq);
	if (h.nlmsg_pid != portid)
		failf(w, F_ACK, "%s: NLMSG_ERROR nlmsg_pid %u, the socket's portid is %u",
		      where, h.nlmsg_pid, portid);
	if (err == 0 && !(h.nlmsg_flags & NLM_F_CAPPED))
		failf(w, F_ACK, "%s: ACK (error 0) without NLM_F_CAPPED: len %u flags %#x",
		      where, len, h.nlmsg_flags);
	if (h.nlmsg_flags & NLM_F_CAPPED) {
		expect = 36;
	} else {
		if (e.nlmsg_len < 16) {
			failf(w, F_ACK, "%s: NLMSG_ERROR (error %d, len %u) echoes a header with "
			      "nlmsg_len %u < 16", where, err, len, e.nlmsg_len);
			return;
		}
		expect = 20 + ALIGN4(e.nlmsg_len);
		if (w->seqtab) {
			struct seqrec r = w->seqtab[e.nlmsg_seq % SEQTAB];

			if (r.seq == e.nlmsg_seq && r.seq && e.nlmsg_len > r.nm_len)
				failf(w, F_ACK, "%s: NLMSG_ERROR (error %d) echoes request seq %u "
				      "with nlmsg_len %u, but that request was sent in a frame "
				      "with nm_len %u: the kernel used a length it never checked "
				      "(frame changed while it was processed)", where, err,
				      e.nlmsg_seq, e.nlmsg_len, r.nm_len);
		}
	}
	if (h.nlmsg_flags & NLM_F_ACK_TLVS ? len < expect : len != expect)
		failf(w, F_ACK, "%s: NLMSG_ERROR nlmsg_len %u but it %s (error %d, echoed "
		      "nlmsg_len %u type %u seq %u, flags %#x): expected %u", where, len,
		      (h.nlmsg_flags & NLM_F_CAPPED) ? "is capped" : "echoes the request",
		      err, e.nlmsg_len, e.nlmsg_type, e.nlmsg_seq, h.nlmsg_flags, expect);
}

/* A byte stream of kernel messages (a VALID frame's nm_len bytes or one recv()):
 * message boundaries must tile it exactly. */
static void check_msgs(struct wctx *w, const char *where, const uint8_t *p, size_t n,
		       uint32_t portid)
{
	size_t off = 0;
	struct nlmsghdr h;

	while (off < n) {
		if (n - off < sizeof(h)) {
			failf(w, F_MSG, "%s: %zu stray bytes at offset %zu of %zu", where,
			      n - off, off, n);
			return;
		}
		memcpy(&h, p + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > n - off) {
			failf(w, F_MSG, "%s: nlmsg_len %u (type %u) at offset %zu of %zu",
			      where, h.nlmsg_len, h.nlmsg_type, off, n);
			return;
		}
		stat_add(S_MSGS, 1);
		if (h.nlmsg_type == NLMSG_ERROR)
			check_ack(w, where, p + off, h.nlmsg_len, portid);
		else if (h.nlmsg_type == NLMSG_DONE && h.nlmsg_len < 20)
			failf(w, F_MSG, "%s: NLMSG_DONE with nlmsg_len %u", where, h.nlmsg_len);
		off += ALIGN4(h.nlmsg_len);
	}
}

static void tx_status_check(struct wctx *w, unsigned st, unsigned i,
			    const struct nlmm_req *tx, const char *who)
{
	char b[16];

	if (st == ST_RESERVED)
		failf(w, F_TX_RESERVED, "%s saw TX frame %u RESERVED: the kernel owns a "
		      "transmit frame (processed in place instead of copied)", who, i);
	else if (st != ST_UNUSED && st != ST_VALID)
		failf(w, F_STATUS, "%s saw TX frame %u of {bs=%u bn=%u fs=%u fn=%u} in status "
		      "%s", who, i, tx->bs, tx->bn, tx->fs, tx->fn, stname(st, b, sizeof(b)));
}

/* ------------------------------------------------------- request builder */

static uint8_t *put_hdr(uint8_t *b, uint32_t len, uint16_t type, uint16_t flags,
			uint32_t seq, uint32_t pid)
{
	struct nlmsghdr h = { len, type, flags, seq, pid };

	memcpy(b, &h, sizeof(h));
	return b + sizeof(h);
}

static uint8_t *put_attr(uint8_t *b, uint16_t type, const void *data, uint16_t dlen)
{
	struct nlattr a = { (uint16_t)(4 + dlen), type };

	memcpy(b, &a, 4);
	if (dlen)
		memcpy(b + 4, data, dlen);
	memset(b + 4 + dlen, 0, ALIGN4(4u + dlen) - (4u + dlen));
	return b + ALIGN4(4u + dlen);
}

static void fill_pattern(struct wctx *w, uint8_t *b, size_t n)
{
	uint8_t v = (uint8_t)rnd(w, 256);

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v + i);
}

/* One request message into b (room bytes); returns its aligned length, 0 if none fit. */
static size_t build_one(struct wctx *w, int proto, uint8_t *b, size_t room, uint32_t portid,
			int echo)
{
	uint32_t seq = ++w->seq;
	uint16_t ack = coin(w, 85) ? NLM_F_ACK : 0;
	size_t pad, len;
	uint8_t *p;

	/* every template below needs at most 80 bytes plus what it sizes from room */
	if (room < 128)
		return room >= 16 ? (put_hdr(b, 16, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK,
					      seq, 0), 16) : 0;
	if (proto == NETLINK_USERSOCK) {
		len = 16 + rnd(w, (unsigned)(room - 16 > 512 ? 512 : room - 16) + 1);
		p = put_hdr(b, (uint32_t)len, 0x20 + rnd(w, 4), NLM_F_REQUEST, seq, portid);
		fill_pattern(w, p, len - 16);
		memset(b + len, 0, ALIGN4(len) - len);
		return ALIGN4(len);
	}
	if (proto == NETLINK_GENERIC) {
		struct genlmsghdr g = { CTRL_CMD_GETFAMILY, 2, 0 };
		unsigned k = rnd(w, test_family ? 5 : 4);

		if (k == 0) {	/* NOOP + ACK */
			put_hdr(b, 16, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, seq, 0);
			return 16;
		}
		if (k == 1 || k == 2) {	/* nlctrl by name, or a dump of all families */
			p = put_hdr(b, 0, GENL_ID_CTRL, NLM_F_REQUEST |
				    (k == 2 ? NLM_F_DUMP : ack), seq, 0);
			memcpy(p, &g, sizeof(g));
			p += sizeof(g);
			if (k == 1)
				p = put_attr(p, CTRL_ATTR_FAMILY_NAME, "nlctrl", 7);
			len = (size_t)(p - b);
			memcpy(b, &(uint32_t){ (uint32_t)len }, 4);
			return len;
		}
		if (k == 3) {	/* unknown family: an error that echoes the request */
			pad = rnd(w, (unsigned)(room - 20 > 4096 ? 4096 : room - 20));
			len = 20 + pad;
			p = put_hdr(b, (uint32_t)len, 0x3f0 + rnd(w, 8), NLM_F_REQUEST | ack,
				    seq, 0);
			memcpy(p, &g, sizeof(g));
			fill_pattern(w, p + 4, pad);
			memset(b + len, 0, ALIGN4(len) - len);
			return ALIGN4(len);
		}
		/* the test driver's dump: COUNT messages of SIZE bytes */
		{
			uint32_t cnt = 1 + rnd(w, 40), size = 1 + rnd(w, 3000);
			struct genlmsghdr tg = { TCMD_DUMP, 1, 0 };

			p = put_hdr(b, 0, (uint16_t)test_family, NLM_F_REQUEST | NLM_F_DUMP,
				    seq, 0);
			memcpy(p, &tg, sizeof(tg));
			p += sizeof(tg);
			p = put_attr(p, TA_COUNT, &cnt, 4);
			p = put_attr(p, TA_SIZE, &size, 4);
			len = (size_t)(p - b);
			memcpy(b, &(uint32_t){ (uint32_t)len }, 4);
			return len;
		}
	}
	/* NETLINK_ROUTE */
	{
		struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 1 };
		unsigned k = echo ? 45 + rnd(w, 37) : rnd(w, 100);	/* echo: error replies */

		if (k < 15) {		/* NOOP + ACK, some payload */
			pad = rnd(w, 65) % (unsigned)(room - 16 + 1);
			len = 16 + pad;
			p = put_hdr(b, (uint32_t)len, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, seq, 0);
			fill_pattern(w, p, pad);
			memset(b + len, 0, ALIGN4(len) - len);
			return ALIGN4(len);
		}
		if (k < 30) {		/* RTM_GETLINK ifindex 1 */
			p = put_hdr(b, 16 + sizeof(ifi), RTM_GETLINK, NLM_F_REQUEST | ack, seq, 0);
			memcpy(p, &ifi, sizeof(ifi));
			return 16 + sizeof(ifi);
		}
		if (k < 45) {		/* RTM_SETLINK lo up (already up): takes rtnl_mutex */
			ifi.ifi_flags = IFF_UP;
			ifi.ifi_change = IFF_UP;
			p = put_hdr(b, 16 + sizeof(ifi), RTM_SETLINK, NLM_F_REQUEST | ack, seq, 0);
			memcpy(p, &ifi, sizeof(ifi));
			return 16 + sizeof(ifi);
		}
		if (k < 62) {		/* RTM_NEWLINK, ignored padding attr + IFLA_IFNAME too
					 * long: -ERANGE, the error echoes the request */
			static const char longname[] = "this-interface-name-is-far-too-long";

			/* 16 header + 16 ifinfomsg + 40 IFLA_IFNAME + 4 padding attr */
			pad = room > 80 ? rnd(w, (unsigned)(room - 80 > 8192 ? 8192 : room - 80)) : 0;
			p = put_hdr(b, 0, RTM_NEWLINK, NLM_F_REQUEST | ack, seq, 0);
			memcpy(p, &ifi, sizeof(ifi));
			p += sizeof(ifi);
			if (pad >= 4) {
				p = put_attr(p, 1000, NULL, 0);	/* > IFLA_MAX: ignored */
				memcpy(p - 4, &(struct nlattr){ (uint16_t)(4 + (pad & ~3u)), 1000 }, 4);
				fill_pattern(w, p, pad & ~3u);
				p += pad & ~3u;
			}
			p = put_attr(p, IFLA_IFNAME, longname, sizeof(longname));
			len = (size_t)(p - b);
			memcpy(b, &(uint32_t){ (uint32_t)len }, 4);
			return len;
		}
		if (k < 82) {		/* unknown type: -EOPNOTSUPP, echoes up to a frame */
			size_t maxpad = room - 20;

			if (maxpad > 60000)
				maxpad = 60000;
			pad = coin(w, 70) ? rnd(w, maxpad > 1024 ? 1024 : (unsigned)maxpad)
					  : rnd(w, (unsigned)maxpad);
			len = 20 + pad;
			p = put_hdr(b, (uint32_t)len, RTM_MAX + 1 + rnd(w, 64),
				    NLM_F_REQUEST | ack, seq, 0);
			memset(p, 0, 4);
			fill_pattern(w, p + 4, pad);
			memset(b + len, 0, ALIGN4(len) - len);
			return ALIGN4(len);
		}
		/* a dump: links or addresses */
		p = put_hdr(b, 16 + sizeof(ifi), k < 92 ? RTM_GETLINK : RTM_GETADDR,
			    NLM_F_REQUEST | NLM_F_DUMP, seq, 0);
		ifi.ifi_index = 0;
		memcpy(p, &ifi, sizeof(ifi));
		return 16 + sizeof(ifi);
	}
}

/* 1-3 messages (one with echo); returns nm_len */
static size_t build_req(struct wctx *w, int proto, uint8_t *b, size_t room, uint32_t portid,
			int echo)
{
	size_t n = 0, m;
	unsigned k = echo ? 1 : 1 + (coin(w, 25) ? rnd(w, 3) : 0);

	while (k--) {
		m = build_one(w, proto, b + n, room - n, portid, echo);
		if (!m)
			break;
		n += m;
		if (room - n < 16)
			break;
	}
	return n;
}

/* ------------------------------------------------------------ ring ops */

static int geo_valid(const struct nlmm_req *r)
{
	if ((int)r->bs <= 0 || r->bs % page_sz || r->fs < NLMM_HDRLEN || r->fs % 4)
		return 0;
	if (r->bs / r->fs == 0)
		return 0;
	/* D22: at most 4 GiB, and the product must not wrap in 32 bits */
	if (r->bn > UINT32_MAX / r->bs)
		return 0;
	return (uint64_t)(r->bs / r->fs) * r->bn == r->fn;
}

/* setsockopt(NETLINK_{RX,TX}_RING) through fd (the slot's or a dup); caller holds life */
static int set_ring(struct wctx *w, struct slot *s, int fd, int tx, const struct nlmm_req *req,
		    int optlen, const char *name)
{
	struct nlmm_req *cur = tx ? &s->tx : &s->rx;
	unsigned allowed;
	int mapped, r, e;

	pthread_mutex_lock(&s->cfg_mu);
	pthread_mutex_lock(&s->map_mu);
	mapped = s->nmaps > 0;	/* mappings are only removed under the write lock */
	pthread_mutex_unlock(&s->map_mu);
	if (optlen < (int)sizeof(*req))
		allowed = A_EINVAL;
	else if (mapped)
		allowed = A_EBUSY;
	else if (!req->bn)
		allowed = (req->fn ? A_EINVAL : A_OK) | A_EBUSY;
	else if (cur->bn)
		allowed = A_EBUSY;	/* no resize in place */
	else if (!geo_valid(req))
		allowed = A_EINVAL | A_EBUSY | A_ENOMEM;
	else
		allowed = A_OK | A_EBUSY | A_ENOMEM;
	r = setsockopt(fd, SOL_NETLINK, tx ? NLMM_TX_RING : NLMM_RX_RING, req, optlen);
	e = errno;
	check_res(w, allowed, r, e, "setsockopt(%s fd %d slot %d, %s_RING, {bs=%u bn=%u "
		  "fs=%u fn=%u} %s, optlen %d) [mapped=%d, %s ring %s]", proto_name(s->proto),
		  fd, s->idx, tx ? "TX" : "RX", req->bs, req->bn, req->fs, req->fn, name,
		  optlen, mapped, tx ? "TX" : "RX", cur->bn ? "configured" : "absent");
	if (r == 0 && optlen >= (int)sizeof(*req)) {
		if (req->bn)
			*cur = *req;
		else
			memset(cur, 0, sizeof(*cur));
		if (tx)
			s->tx_cur = 0;
		s->gen++;
	}
	pthread_mutex_unlock(&s->cfg_mu);
	return r ? -e : 0;
}

static void add_map(struct wctx *w, struct slot *s, uint8_t *p, size_t len,
		    const struct nlmm_req *rx, const struct nlmm_req *tx)
{
	int r;

	pthread_mutex_lock(&s->map_mu);
	if (s->nmaps < 2) {
		s->maps[s->nmaps].addr = p;
		s->maps[s->nmaps].len = len;
		s->maps[s->nmaps].rx = *rx;
		s->maps[s->nmaps].tx = *tx;
		s->nmaps++;
		p = NULL;
	}
	pthread_mutex_unlock(&s->map_mu);
	if (p) {		/* a third mapping: drop it again */
		r = munmap(p, len);
		check_res(w, A_OK, r, errno, "munmap(third mapping %p, %zu)", (void *)p, len);
	}
}

/* mmap the rings of s through fd; caller holds life (read). Returns 1 if mapped. */
static int do_mmap(struct wctx *w, struct slot *s, int fd, int exact)
{
	struct nlmm_req rx, tx, rx2, tx2;
	unsigned gen, gen2, allowed;
	size_t total, len;
	off_t off = 0;
	void *p;
	int e;

	pthread_mutex_lock(&s->cfg_mu);
	rx = s->rx;
	tx = s->tx;
	gen = s->gen;
	pthread_mutex_unlock(&s->cfg_mu);
	total = ring_size(&rx) + ring_size(&tx);
	len = total ? total : (size_t)page_sz;
	if (!exact) {
		switch (rnd(w, 6)) {
		case 0: len = total + page_sz; break;
		case 1: len = total > (size_t)page_sz ? total - page_sz : (size_t)page_sz; break;
		case 2: off = page_sz; break;
		case 3: len = ring_size(&rx) ? ring_size(&rx) : ring_size(&tx); break;
		default: break;
		}
		if (!len)
			len = page_sz;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	e = errno;
	pthread_mutex_lock(&s->cfg_mu);
	rx2 = s->rx;
	tx2 = s->tx;
	gen2 = s->gen;
	pthread_mutex_unlock(&s->cfg_mu);
	if (gen2 == gen)
		allowed = (!off && total && len == total) ? A_OK | A_ENOMEM : A_EINVAL;
	else
		allowed = A_OK | A_EINVAL | A_ENOMEM;
	check_res(w, allowed, p == MAP_FAILED ? -1 : 0, e, "mmap(%s fd %d slot %d, len %zu, "
		  "offset %ld) [rings: RX %zu + TX %zu bytes%s]", proto_name(s->proto), fd,
		  s->idx, len, (long)off, ring_size(&rx), ring_size(&tx),
		  gen2 == gen ? "" : ", changed meanwhile");
	if (p == MAP_FAILED)
		return 0;
	/* once mapped, the rings cannot change: they are what was configured last */
	if (ring_size(&rx2) + ring_size(&tx2) != len || off)
		failf(w, F_MMAP, "mmap(fd %d, len %zu, offset %ld) succeeded but the rings "
		      "are RX %zu + TX %zu bytes", fd, len, (long)off, ring_size(&rx2),
		      ring_size(&tx2));
	add_map(w, s, p, len, &rx2, &tx2);
	return 1;
}

/* remove mapping i; caller holds life for writing or is single-threaded */
static void drop_map(struct wctx *w, struct slot *s, int i, int split)
{
	struct map m = s->maps[i];
	int r;

	s->maps[i] = s->maps[s->nmaps - 1];
	s->nmaps--;
	if (split && m.len > (size_t)page_sz) {
		/* split the VMA first (vm_ops open/close on the pieces), then the rest */
		size_t cut = page_sz * (1 + rnd(w, (unsigned)(m.len / page_sz - 1)));

		if (coin(w, 50)) {
			r = munmap(m.addr + cut, m.len - cut);
			check_res(w, A_OK, r, errno, "munmap(tail of mapping %p+%zu, %zu)",
				  (void *)m.addr, cut, m.len - cut);
			m.len = cut;
		} else {
			r = munmap(m.addr, cut);
			check_res(w, A_OK, r, errno, "munmap(head of mapping %p, %zu)",
				  (void *)m.addr, cut);
			m.addr += cut;
			m.len -= cut;
		}
	}
	r = munmap(m.addr, m.len);
	check_res(w, A_OK, r, errno, "munmap(%p, %zu)", (void *)m.addr, m.len);
}

/* Fill up to n TX frames (UNUSED -> request -> VALID) starting at *cur. Frames left
 * VALID with an impossible nm_len (a rewriter's doing) are reclaimed. */
static int fill_tx(struct wctx *w, int proto, uint32_t portid, uint8_t *txbase,
		   const struct nlmm_req *tx, unsigned *cur, int n, const char *who, int echo)
{
	unsigned maxlen = tx->fs - NLMM_HDRLEN, k, i, st;
	struct nlmm_hdr *h;
	int filled = 0;
	size_t len;

	for (k = 0; k < tx->fn && filled < n; k++) {
		i = *cur % tx->fn;
		*cur = (i + 1) % tx->fn;
		h = frame_at(txbase, tx, i);
		st = ld_status(h);
		if (st == ST_VALID) {
			if (h->len > maxlen)
				st_status(h, ST_UNUSED);
			continue;
		}
		if (st != ST_UNUSED) {
			tx_status_check(w, st, i, tx, who);
			continue;
		}
		len = build_req(w, proto, (uint8_t *)h + NLMM_HDRLEN, maxlen, portid, echo);
		h->len = (unsigned)len;
		if (echo && w->seqtab && len >= 16) {
			uint32_t seq;

			memcpy(&seq, (uint8_t *)h + NLMM_HDRLEN + 8, 4);
			w->seqtab[seq % SEQTAB] = (struct seqrec){ seq, (uint32_t)len };
		}
		st_status(h, ST_VALID);
		filled++;
	}
	stat_add(S_TX_FILLED, filled);
	return filled;
}

static void fill_slot_tx(struct wctx *w, struct slot *s, struct map *m, int n)
{
	pthread_mutex_lock(&s->tx_mu);
	fill_tx(w, s->proto, s->portid, m->addr + ring_size(&m->rx), &m->tx, &s->tx_cur, n,
		"filler", 0);
	pthread_mutex_unlock(&s->tx_mu);
}

/* recv(MSG_DONTWAIT) one datagram and check it */
static void recv_check(struct wctx *w, int fd, int proto, uint32_t portid, const char *what)
{
	ssize_t r = recv(fd, w->rbuf, w->rbufsz, MSG_DONTWAIT);
	int e = errno;

	check_res(w, A_OK | A_EAGAIN | A_EINTR | A_SKERR, r, e, "recv(%s fd %d, MSG_DONTWAIT) "
		  "[%s]", proto_name(proto), fd, what);
	if (r > 0 && proto != NETLINK_USERSOCK)
		check_msgs(w, what, w->rbuf, (size_t)r, portid);
}

/* Walk every RX frame: check VALID frames' messages, recv() for COPY frames, release
 * (UNUSED) or keep (SKIP). Caller holds rx_mu (or is the ring's only reader). */
static void consume_rx(struct wctx *w, int proto, uint32_t portid, int fd, uint8_t *rxbase,
		       const struct nlmm_req *rx)
{
	unsigned maxlen = rx->fs - NLMM_HDRLEN, i, st, len;
	struct nlmm_hdr *h;
	char where[96], b[16];

	for (i = 0; i < rx->fn; i++) {
		h = frame_at(rxbase, rx, i);
		st = ld_status(h);
		switch (st) {
		case ST_UNUSED:
		case ST_RESERVED:
			break;
		case ST_VALID:
			len = h->len;
			stat_add(S_RX_VALID, 1);
			if (len > maxlen) {
				failf(w, F_FRAME, "RX frame %u VALID with nm_len %u > frame payload "
				      "%u (%s)", i, len, maxlen, proto_name(proto));
			} else if (proto != NETLINK_USERSOCK) {
				snprintf(where, sizeof(where), "RX frame %u (VALID, nm_len %u, %s)",
					 i, len, proto_name(proto));
				check_msgs(w, where, (uint8_t *)h + NLMM_HDRLEN, len, portid);
			}
			st_status(h, coin(w, 8) ? ST_SKIP : ST_UNUSED);
			break;
		case ST_COPY:
			stat_add(S_RX_COPY, 1);
			if (fd >= 0)
				recv_check(w, fd, proto, portid, "recv() for a COPY frame");
			st_status(h, ST_UNUSED);
			break;
		case ST_SKIP:
			if (coin(w, 50))
				st_status(h, ST_UNUSED);
			break;
		default:
			failf(w, F_STATUS, "RX frame %u of {bs=%u bn=%u fs=%u fn=%u} in status %s "
			      "(%s)", i, rx->bs, rx->bn, rx->fs, rx->fn, stname(st, b, sizeof(b)),
			      proto_name(proto));
		}
	}
}

static void consume_slot_rx(struct wctx *w, struct slot *s, struct map *m, int wait)
{
	if (wait)
		pthread_mutex_lock(&s->rx_mu);
	else if (pthread_mutex_trylock(&s->rx_mu))
		return;
	consume_rx(w, s->proto, s->portid, s->fd, m->addr, &m->rx);
	pthread_mutex_unlock(&s->rx_mu);
}

/* sendto(fd, NULL, 0, flags, dst): a ring send (or ENODATA without a TX ring) */
static long ring_send(struct wctx *w, int fd, int proto, uint32_t portid, int groups,
		      int flags, const char *via)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int user = proto == NETLINK_USERSOCK, e;
	unsigned allowed;
	long r;

	if (user) {
		sa.nl_pid = portid;
		if (groups && coin(w, 30))
			sa.nl_groups = 1;
	}
	r = sendto(fd, NULL, 0, flags, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	allowed = A_OK | A_EINVAL | A_ENOBUFS | A_EINTR;
	if ((flags & MSG_DONTWAIT) || user)
		allowed |= A_EAGAIN;
	if (user)
		allowed |= A_ECONNREFUSED;
	/* without a TX ring it is an empty send; with one, a VALID frame with
	 * nm_len 0 at the head (D20) -- the frame rewriters make those
	 */
	allowed |= A_ENODATA;
	check_res(w, allowed, r, e, "sendto(%s fd %d, NULL, 0, %s, {pid %u groups %#x}) [%s]",
		  proto_name(proto), fd, (flags & MSG_DONTWAIT) ? "MSG_DONTWAIT" : "0",
		  sa.nl_pid, sa.nl_groups, via);
	stat_add(S_SENDS, 1);
	if (r > 0)
		stat_add(S_SEND_BYTES, (uint64_t)r);
	return r < 0 ? -e : r;
}

/* A ring send on a slot's socket. ENODATA no longer tells "no TX ring": an empty
 * frame at the head gives it too (D20), and the rewriters make those. */
static long slot_send(struct wctx *w, struct slot *s, int fd, int flags, const char *via)
{
	return ring_send(w, fd, s->proto, s->portid, s->groups, flags, via);
}

/* --------------------------------------------------------- rewriting */

/* Rewrite TX frames for dur_ns: toggle nlmsg_len between two lengths inside nm_len,
 * scribble attributes/payload, change nm_len and nm_status; optionally fill. */
static void rewrite_loop(struct wctx *w, int proto, uint32_t portid, uint8_t *txbase,
			 const struct nlmm_req *tx, int64_t dur_ns, int fill, unsigned *cur)
{
	unsigned maxlen = tx->fs - NLMM_HDRLEN, i, st, len, a, b, k, n;
	int64_t end = now_ns() + dur_ns;
	struct nlmm_hdr *h;
	uint8_t *msg;
	uint64_t cnt = 0;

	while (now_ns() < end) {
		i = rnd(w, tx->fn);
		h = frame_at(txbase, tx, i);
		msg = (uint8_t *)h + NLMM_HDRLEN;
		st = ld_status(h);
		tx_status_check(w, st, i, tx, "rewriter");
		len = h->len;
		k = rnd(w, 100);
		cnt++;
		if (fill && k < 25) {
			fill_tx(w, proto, portid, txbase, tx, cur, 1 + rnd(w, 3), "rewriter", 0);
		} else if (k < 65) {
			/* toggle the first message's nlmsg_len between two values that both
			 * pass the kernel's length check */
			if (len < 16 || len > maxlen)
				continue;
			a = len;
			b = 16 + rnd(w, len - 16 + 1);
			n = 16 + rnd(w, 400);
			for (unsigned j = 0; j < n; j++)
				__atomic_store_n((uint32_t *)msg, (j & 1) ? a : b,
						 __ATOMIC_RELAXED);
		} else if (k < 75) {
			if (len <= 40 || len > maxlen)
				continue;
			a = 32 + rnd(w, len - 32);	/* past the ifinfomsg/genl header */
			n = 1 + rnd(w, 16);
			if (a + n > len)
				n = len - a;
			for (unsigned j = 0; j < n; j++)
				msg[a + j] = (uint8_t)rnd(w, 256);
		} else if (k < 83) {
			if (st != ST_RESERVED)
				h->len = coin(w, 85) ? rnd(w, maxlen + 1) : maxlen + 1 + rnd(w, 64);
		} else if (k < 92) {
			if (st == ST_UNUSED && len <= maxlen && len >= 16)
				st_status(h, ST_VALID);
		} else {
			if (st == ST_VALID)
				st_status(h, ST_UNUSED);
		}
	}
	stat_add(S_REWRITES, cnt);
}

/* For dur_ns, toggle nlmsg_len of every frame the kernel may be working on (VALID or
 * RESERVED) between the length it was filled with, a shorter one and (rarely) a
 * slightly longer one; nm_len is never touched, so the seq table stays true. */
static void toggle_inflight(struct wctx *w, uint8_t *txbase, const struct nlmm_req *tx,
			    int64_t dur_ns)
{
	unsigned maxlen = tx->fs - NLMM_HDRLEN, i, st, len, orig, v, j, n;
	int64_t end = now_ns() + dur_ns;
	struct nlmm_hdr *h;
	uint32_t *nl;
	uint64_t cnt = 0;

	while (now_ns() < end) {
		for (i = 0; i < tx->fn; i++) {
			h = frame_at(txbase, tx, i);
			st = ld_status(h);
			tx_status_check(w, st, i, tx, "toggler");
			/* mostly the frames the kernel holds (RESERVED: being processed) */
			if (st != ST_RESERVED && (st != ST_VALID || coin(w, 70)))
				continue;
			len = h->len;
			nl = (uint32_t *)((uint8_t *)h + NLMM_HDRLEN);
			orig = __atomic_load_n(nl, __ATOMIC_RELAXED);
			if (len < 24 || len > maxlen || orig < 20 || orig > len)
				continue;
			if (coin(w, 15))	/* past nm_len, inside the frame */
				v = orig + 4 * (1 + rnd(w, 64));
			else
				v = 20 + rnd(w, orig - 20 + 1);
			if (v > maxlen)
				v = maxlen;
			n = st == ST_RESERVED ? 500 + rnd(w, 4000) : 50 + rnd(w, 500);
			for (j = 0; j < n; j++)
				__atomic_store_n(nl, (j & 1) ? orig : v, __ATOMIC_RELAXED);
			__atomic_store_n(nl, orig, __ATOMIC_RELAXED);
			cnt += n;
		}
	}
	stat_add(S_REWRITES, cnt);
}

/* ------------------------------------------------------------ children */

static void child_init(struct wctx *w, unsigned secs)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGALRM, SIG_DFL);
	alarm(secs);
	w->is_child = 1;
	w->rng ^= (uint64_t)getpid() * 0x2545F4914F6CDD1DULL;
}

/* A child that died signals at once (the pipe closes); one that has not written its
 * byte within a minute did not start. 5 s was too short for a debug kernel under TCG on a
 * loaded host: a fork child took longer without anything being wrong. */
#define CHILD_START_MS 60000

static int wait_ready(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	if (poll(&p, 1, ms) != 1)
		return 0;
	return read(fd, &c, 1) == 1;
}

/* reap a child within ms; report signals, failures to start and overruns */
static void reap(struct wctx *w, pid_t pid, int ms, const char *what)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;
	int st = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			failf(w, F_CHILD, "waitpid(%s child %d): %s", what, (int)pid,
			      strerror(errno));
			return;
		}
		if (now_ns() > end) {
			/* Over its time, which only bounds the run: a child SIGKILL
			 * ends is slow (a loaded TCG host), not stuck; one it cannot
			 * end within 10 s sleeps uninterruptibly in the kernel. */
			kill(pid, SIGKILL);
			end = now_ns() + 10000000000LL;
			while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_ns() < end)
				sleep_us(10000);
			if (r == pid) {
				stat_add(S_SLOW_CHILD, 1);
				return;
			}
			failf(w, F_STUCK, "%s child %d still running after %d ms and 10 s after "
			      "SIGKILL: blocked in the kernel", what, (int)pid, ms);
			return;
		}
		sleep_us(1000);
	}
	if (WIFSIGNALED(st))
		failf(w, F_CHILD, "%s child %d killed by signal %d (%s)", what, (int)pid,
		      WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 3)
		failf(w, F_CHILD, "%s child %d exited %d", what, (int)pid, WEXITSTATUS(st));
}

/* ------------------------------------------------------- plain netlink */

/* send one request on a plain socket, wait (bounded) for its NLMSG_ERROR; returns the
 * error (0 ACK), copies the first other reply into rep if given */
static int nl_request(int fd, const void *req, size_t len, uint8_t *rep, size_t replen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint32_t seq = ((const struct nlmsghdr *)req)->nlmsg_seq;
	uint8_t buf[16384];
	int64_t end = now_ns() + 3000000000LL;
	struct pollfd p = { fd, POLLIN, 0 };

	if (sendto(fd, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	while (now_ns() < end) {
		ssize_t n;
		size_t off = 0;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		while (off + 16 <= (size_t)n) {
			struct nlmsghdr h;

			memcpy(&h, buf + off, 16);
			if (h.nlmsg_len < 16 || off + h.nlmsg_len > (size_t)n)
				break;
			if (h.nlmsg_seq == seq && h.nlmsg_type == NLMSG_ERROR) {
				int32_t e;

				memcpy(&e, buf + off + 16, 4);
				return e;
			}
			if (h.nlmsg_seq == seq && rep && h.nlmsg_len <= replen)
				memcpy(rep, buf + off, h.nlmsg_len);
			off += ALIGN4(h.nlmsg_len);
		}
	}
	return -ETIMEDOUT;
}

static int genl_family_id(int fd, const char *name)
{
	uint8_t req[128], rep[4096];
	struct genlmsghdr g = { CTRL_CMD_GETFAMILY, 2, 0 };
	uint8_t *p = put_hdr(req, 0, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, 77, 0);
	struct nlmsghdr h;
	size_t off;
	int r;

	memcpy(p, &g, sizeof(g));
	p = put_attr(p + sizeof(g), CTRL_ATTR_FAMILY_NAME, name, (uint16_t)(strlen(name) + 1));
	memcpy(req, &(uint32_t){ (uint32_t)(p - req) }, 4);
	memset(rep, 0, sizeof(rep));
	r = nl_request(fd, req, (size_t)(p - req), rep, sizeof(rep));
	if (r)
		return 0;
	memcpy(&h, rep, 16);
	for (off = 20; off + 4 <= h.nlmsg_len && h.nlmsg_len <= sizeof(rep);) {
		struct nlattr a;

		memcpy(&a, rep + off, 4);
		if (a.nla_len < 4)
			break;
		if ((a.nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID && a.nla_len >= 6) {
			uint16_t id;

			memcpy(&id, rep + off + 4, 2);
			return id;
		}
		off += ALIGN4(a.nla_len);
	}
	return 0;
}

static int plain_socket(int proto)
{
	struct timeval tv = { 0, 200000 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int link_up(int fd, int ifindex)
{
	uint8_t req[64];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	uint8_t *p = put_hdr(req, 16 + sizeof(ifi), RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK,
			     1, 0);

	memcpy(p, &ifi, sizeof(ifi));
	return nl_request(fd, req, 16 + sizeof(ifi), NULL, 0);
}

/* an nlmon tap, up: netlink taps then see a copy of every message in this netns */
static int nlmon_create(int fd)
{
	uint8_t req[256], *p, *li;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP,
				 .ifi_change = IFF_UP };
	int r;

	p = put_hdr(req, 0, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		    2, 0);
	memcpy(p, &ifi, sizeof(ifi));
	p = put_attr(p + sizeof(ifi), IFLA_IFNAME, "nlmstress0", 11);
	li = p;
	p = put_attr(p, IFLA_LINKINFO, NULL, 0);
	p = put_attr(p, IFLA_INFO_KIND, "nlmon", 6);
	memcpy(li, &(uint16_t){ (uint16_t)(p - li) }, 2);
	memcpy(req, &(uint32_t){ (uint32_t)(p - req) }, 4);
	r = nl_request(fd, req, (size_t)(p - req), NULL, 0);
	if (r)
		return r;
	return (int)if_nametoindex("nlmstress0");
}

/* --------------------------------------------------------------- slots */

static void slot_close(struct wctx *w, struct slot *s)
{
	int r, i, close_first = coin(w, 50);

	if (close_first && s->fd >= 0) {
		r = close(s->fd);	/* the mappings keep the socket alive */
		check_res(w, A_OK, r, errno, "close(fd %d, mapped %d times)", s->fd, s->nmaps);
		s->fd = -1;
	}
	for (i = s->nmaps - 1; i >= 0; i--)
		drop_map(w, s, i, coin(w, 20));
	if (s->fd >= 0) {
		r = close(s->fd);
		check_res(w, A_OK, r, errno, "close(fd %d)", s->fd);
		s->fd = -1;
	}
}

static void slot_open(struct wctx *w, struct slot *s, int proto)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { 0, 100000 };
	socklen_t sl = sizeof(sa);
	int fd, r, e, rcvbuf;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	e = errno;
	check_res(w, A_OK, fd, e, "socket(AF_NETLINK, SOCK_RAW, %s)", proto_name(proto));
	s->fd = fd;
	s->proto = proto;
	s->groups = proto == NETLINK_USERSOCK && coin(w, 50);
	memset(&s->rx, 0, sizeof(s->rx));
	memset(&s->tx, 0, sizeof(s->tx));
	s->tx_cur = 0;
	s->gen++;
	if (fd < 0)
		return;
	sa.nl_groups = s->groups ? 1 : 0;
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	check_res(w, A_OK, r, errno, "bind(%s fd %d, groups %#x)", proto_name(proto), fd,
		  sa.nl_groups);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	s->portid = sa.nl_pid;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (coin(w, 20)) {
		rcvbuf = coin(w, 50) ? 4096 : 65536;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	if (coin(w, 15))
		setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &(int){ 1 }, sizeof(int));
}

static const struct nlmm_req *pick_valid(struct wctx *w)
{
	return &geos[rnd(w, NVALID)].r;
}

/* rings + one mapping, for a fresh slot and for fork/pvw in worker processes */
static void slot_setup(struct wctx *w, struct slot *s, int want_rx)
{
	if (s->fd < 0)
		return;
	if (!s->tx.bn) {
		while (s->nmaps)
			drop_map(w, s, s->nmaps - 1, 0);
		set_ring(w, s, s->fd, 1, pick_valid(w), sizeof(struct nlmm_req), "setup");
	}
	if (want_rx && !s->rx.bn && !s->nmaps)
		set_ring(w, s, s->fd, 0, pick_valid(w), sizeof(struct nlmm_req), "setup");
	if (!s->nmaps && (s->tx.bn || s->rx.bn))
		do_mmap(w, s, s->fd, 1);
	while (s->nmaps > 1)
		drop_map(w, s, s->nmaps - 1, 0);
}

static void slot_init(struct wctx *w, struct slot *s, int idx, int proto)
{
	pthread_rwlockattr_t a;

	memset(s, 0, sizeof(*s));
	s->idx = idx;
	s->fd = -1;
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->life, &a);
	pthread_mutex_init(&s->cfg_mu, NULL);
	pthread_mutex_init(&s->map_mu, NULL);
	pthread_mutex_init(&s->tx_mu, NULL);
	pthread_mutex_init(&s->rx_mu, NULL);
	slot_open(w, s, proto);
	slot_setup(w, s, proto != NETLINK_USERSOCK || coin(w, 50));
}

/* --------------------------------------------------------------- ops */

static void op_open(struct wctx *w, struct slot *s)
{
	int proto = s->proto;

	if (!wr_lock(s))
		return;
	if (coin(w, 20)) {
		static const int protos[] = { NETLINK_ROUTE, NETLINK_ROUTE, NETLINK_GENERIC,
					      NETLINK_USERSOCK };
		proto = protos[rnd(w, 4)];
	}
	slot_close(w, s);
	slot_open(w, s, proto);
	if (coin(w, 60))
		slot_setup(w, s, coin(w, 80));
	un_lock(s);
}

static void op_set_ring(struct wctx *w, struct slot *s, int tx)
{
	struct nlmm_req req = { 0, 0, 0, 0 };
	const char *name = "teardown";
	int optlen = sizeof(req);
	unsigned k = rnd(w, 100);

	if (!rd_lock(s))
		return;
	if (k < 5) {
		req.fn = 4;
		name = "teardown with frame_nr";
	} else if (k < 30) {
		/* teardown */
	} else if (k < 85) {
		const struct geo *g = &geos[rnd(w, NVALID)];

		req = g->r;
		name = g->name;
	} else {
		const struct geo *g = &geos[NVALID + rnd(w, NGEOS - NVALID)];

		req = g->r;
		name = g->name;
	}
	if (coin(w, 4))
		optlen = 8;
	if (s->fd >= 0)
		set_ring(w, s, s->fd, tx, &req, optlen, name);
	un_lock(s);
}

static void op_mmap(struct wctx *w, struct slot *s)
{
	if (!rd_lock(s))
		return;
	if (s->fd >= 0)
		do_mmap(w, s, s->fd, coin(w, 75));
	un_lock(s);
}

static void op_munmap(struct wctx *w, struct slot *s)
{
	if (!wr_lock(s))
		return;
	if (s->nmaps)
		drop_map(w, s, rnd(w, s->nmaps), coin(w, 30));
	un_lock(s);
}

static void op_send(struct wctx *w, struct slot *s)
{
	struct map m;
	int have;

	if (!rd_lock(s))
		return;
	if (s->fd < 0)
		goto out;
	have = get_map(w, s, &m, 1, 0);
	if (have)
		fill_slot_tx(w, s, &m, 1 + rnd(w, 4));
	slot_send(w, s, s->fd, coin(w, 50) ? MSG_DONTWAIT : 0, "ring send");
	if (have && m.rx.bn && coin(w, 60))
		consume_slot_rx(w, s, &m, 0);
	else if (coin(w, 30))
		recv_check(w, s->fd, s->proto, s->portid, "recv() after a send");
out:
	un_lock(s);
}

static void op_rewrite(struct wctx *w, struct slot *s)
{
	struct map m;
	unsigned cur = rnd(w, 64);

	if (!rd_lock(s))
		return;
	if (get_map(w, s, &m, 1, 0))
		rewrite_loop(w, s->proto, s->portid, m.addr + ring_size(&m.rx), &m.tx,
			     (5 + rnd(w, 40)) * 1000000LL, 1, &cur);
	un_lock(s);
}

static void op_rxread(struct wctx *w, struct slot *s)
{
	struct map m;

	if (!rd_lock(s))
		return;
	if (get_map(w, s, &m, 0, 1))
		consume_slot_rx(w, s, &m, 1);
	un_lock(s);
}

static void op_recv(struct wctx *w, struct slot *s)
{
	int n = 1 + rnd(w, 4);

	if (!rd_lock(s))
		return;
	while (s->fd >= 0 && n--)
		recv_check(w, s->fd, s->proto, s->portid, "recv()");
	un_lock(s);
}

static void check_poll(struct wctx *w, int fd, int proto, const char *via)
{
	struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0 };
	int r, e, tmo = rnd(w, 4) ? 0 : (int)rnd(w, 30);
	short ok = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | POLLWRBAND | POLLERR;

	r = poll(&p, 1, tmo);
	e = errno;
	check_res(w, A_OK | A_EINTR, r, e, "poll(%s fd %d, %d ms) [%s]", proto_name(proto), fd,
		  tmo, via);
	if (r == 1 && (p.revents & ~ok))
		failf(w, F_OUTCOME, "poll(%s fd %d) [%s] -> revents %#x outside %#x",
		      proto_name(proto), fd, via, p.revents, ok);
}

static void op_poll(struct wctx *w, struct slot *s)
{
	if (!rd_lock(s))
		return;
	if (s->fd >= 0)
		check_poll(w, s->fd, s->proto, "poll");
	un_lock(s);
}

static void op_soerr(struct wctx *w, struct slot *s)
{
	int v = -1, r, e;
	socklen_t l = sizeof(v);

	if (!rd_lock(s))
		return;
	if (s->fd >= 0) {
		r = getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &v, &l);
		e = errno;
		check_res(w, A_OK, r, e, "getsockopt(fd %d, SO_ERROR)", s->fd);
		if (r == 0 && v)
			check_res(w, A_SKERR, -1, v, "getsockopt(%s fd %d, SO_ERROR) value",
				  proto_name(s->proto), s->fd);
	}
	un_lock(s);
}

/* A child that keeps the mapping, closes its descriptor and rewrites frames while the
 * parent sends. In a worker process ("detached"), the parent then drops its own
 * mapping: the child's is the only one, the parent's descriptor the only one, and the
 * parent is single-threaded - the 2013 series' "exclusive sender". */
static void op_fork(struct wctx *w, struct slot *s)
{
	int detached = 0, rp[2], r, i;
	int64_t dur, end;
	struct map m;
	pid_t pid;

	if (w->is_proc && s->fd >= 0) {
		detached = s->proto == NETLINK_ROUTE && w->seqtab && coin(w, 75);
		slot_setup(w, s, detached || coin(w, 70));
		detached = detached && s->nmaps == 1 && s->rx.bn;
		if (detached)
			memset(w->seqtab, 0, SEQTAB * sizeof(*w->seqtab));
	}
	dur = (detached ? 80 + rnd(w, 250) : 30 + rnd(w, 150)) * 1000000LL;
	if (!rd_lock(s))
		return;
	if (s->fd < 0 || !get_map(w, s, &m, 1, 0))
		goto out;
	if (pipe2(rp, O_CLOEXEC))
		goto out;
	stat_add(S_FORKS, 1);
	pid = fork();
	if (pid < 0) {
		check_res(w, A_OK, -1, errno, "fork()");
		close(rp[0]);
		close(rp[1]);
		goto out;
	}
	if (pid == 0) {
		unsigned cur = 0;
		uint8_t *txbase = m.addr + ring_size(&m.rx);

		child_init(w, 10);
		close(rp[0]);
		r = close(s->fd);
		check_res(w, A_OK, r, errno, "close(fd %d) in the fork child", s->fd);
		w->seq += 0x40000000u + rnd(w, 0x10000000u);	/* own seq range */
		wr_all(rp[1], "r", 1);
		end = now_ns() + dur;
		while (now_ns() < end) {
			if (detached) {
				/* requests whose replies echo them; nlmsg_len toggled while the
				 * kernel may be processing them; ACKs checked from the RX ring */
				fill_tx(w, s->proto, s->portid, txbase, &m.tx, &cur, 2, "fork child",
					1);
				toggle_inflight(w, txbase, &m.tx, 500000);
				consume_rx(w, s->proto, s->portid, -1, m.addr, &m.rx);
			} else {
				rewrite_loop(w, s->proto, s->portid, txbase, &m.tx, 2000000,
					     coin(w, 50), &cur);
			}
		}
		_exit(0);
	}
	close(rp[1]);
	if (!wait_ready(rp[0], CHILD_START_MS))
		failf(w, F_CHILD, "fork child %d did not start", (int)pid);
	close(rp[0]);
	end = now_ns() + dur;
	if (detached) {
		for (i = 0; i < s->nmaps; i++)
			if (s->maps[i].addr == m.addr)
				drop_map(w, s, i, 0);
		for (;;) {
			siginfo_t si = { 0 };

			/* until the child ends (not reaped here: WNOWAIT) */
			if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) || si.si_pid ||
			    now_ns() > end + 50000000LL)
				break;
			ring_send(w, s->fd, s->proto, s->portid, s->groups,
				  coin(w, 50) ? MSG_DONTWAIT : 0, "ring send, a fork child "
				  "holds the only mapping");
			stat_add(S_EXCL_SENDS, 1);
			if (coin(w, 50))
				recv_check(w, s->fd, s->proto, s->portid, "recv() while a fork "
					   "child holds the only mapping");
			sched_yield();
		}
	} else {
		while (now_ns() < end) {
			fill_slot_tx(w, s, &m, 1 + rnd(w, 3));
			slot_send(w, s, s->fd, coin(w, 50) ? MSG_DONTWAIT : 0,
				  "ring send, a fork child rewrites frames");
			if (m.rx.bn)
				consume_slot_rx(w, s, &m, 0);
		}
	}
	reap(w, pid, 12000, "fork writer");
	if (detached)
		memset(w->seqtab, 0, SEQTAB * sizeof(*w->seqtab));
out:
	un_lock(s);
}

/* A child that drops its copy of the mapping and its descriptor, then rewrites the
 * parent's TX frames through process_vm_writev() (and reads their status with
 * process_vm_readv()) while the parent fills and sends. */
static void op_pvw(struct wctx *w, struct slot *s)
{
	int rp[2], r;
	int64_t dur = (30 + rnd(w, 150)) * 1000000LL, end;
	struct map m;
	pid_t pid, ppid = getpid();

	if (w->is_proc && s->fd >= 0)
		slot_setup(w, s, coin(w, 70));
	if (!rd_lock(s))
		return;
	if (s->fd < 0 || !get_map(w, s, &m, 1, 0))
		goto out;
	if (pipe2(rp, O_CLOEXEC))
		goto out;
	pid = fork();
	if (pid < 0) {
		check_res(w, A_OK, -1, errno, "fork()");
		close(rp[0]);
		close(rp[1]);
		goto out;
	}
	if (pid == 0) {
		uint8_t *txbase = m.addr + ring_size(&m.rx);
		unsigned maxlen = m.tx.fs - NLMM_HDRLEN;
		uint64_t writes = 0, eperm = 0;

		child_init(w, 10);
		close(rp[0]);
		r = munmap(m.addr, m.len);
		check_res(w, A_OK, r, errno, "munmap(inherited mapping) in the pvw child");
		r = close(s->fd);
		check_res(w, A_OK, r, errno, "close(fd %d) in the pvw child", s->fd);
		wr_all(rp[1], "r", 1);
		end = now_ns() + dur;
		while (now_ns() < end) {
			unsigned i = rnd(w, m.tx.fn), hv[2], v;
			uint8_t *rh = (uint8_t *)frame_at(txbase, &m.tx, i);
			struct iovec lo = { hv, 8 }, re = { rh, 8 };
			ssize_t n;

			n = process_vm_readv(ppid, &lo, 1, &re, 1, 0);
			if (n < 0 && errno == EPERM) {
				eperm++;
				sleep_us(1000);
				continue;
			}
			if (!check_res(w, A_OK | A_ESRCH, n, errno, "process_vm_readv(parent "
				       "%d, TX frame %u header)", (int)ppid, i) || n != 8)
				break;
			tx_status_check(w, hv[0], i, &m.tx, "process_vm_readv child");
			if (hv[1] < 16 || hv[1] > maxlen)
				continue;
			for (int j = 0, nn = 2 + rnd(w, 40); j < nn; j++) {
				v = (j & 1) ? hv[1] : 16 + rnd(w, hv[1] - 16 + 1);
				if (coin(w, 10) && hv[1] > 40) {
					/* scribble an attribute/payload word instead */
					unsigned o = 32 + rnd(w, hv[1] - 36);

					v = (unsigned)rnd64(w);
					lo = (struct iovec){ &v, 4 };
					re = (struct iovec){ rh + NLMM_HDRLEN + (o & ~3u), 4 };
				} else {
					lo = (struct iovec){ &v, 4 };
					re = (struct iovec){ rh + NLMM_HDRLEN, 4 };
				}
				n = process_vm_writev(ppid, &lo, 1, &re, 1, 0);
				if (n < 0 && errno == EPERM) {
					eperm++;
					break;
				}
				check_res(w, A_OK | A_ESRCH, n, errno, "process_vm_writev(parent "
					  "%d, TX frame %u)", (int)ppid, i);
				if (n < 0)
					break;
				writes++;
			}
		}
		stat_add(S_PVW, writes);
		stat_add(S_PVW_EPERM, eperm);
		_exit(0);
	}
	close(rp[1]);
	if (!wait_ready(rp[0], CHILD_START_MS))
		failf(w, F_CHILD, "process_vm_writev child %d did not start", (int)pid);
	close(rp[0]);
	end = now_ns() + dur;
	while (now_ns() < end) {
		fill_slot_tx(w, s, &m, 1 + rnd(w, 4));
		slot_send(w, s, s->fd, coin(w, 50) ? MSG_DONTWAIT : 0,
			  "ring send, another process writes the frames");
		if (w->is_proc)
			stat_add(S_EXCL_SENDS, 1);
		if (m.rx.bn)
			consume_slot_rx(w, s, &m, 0);
		else if (coin(w, 50))
			recv_check(w, s->fd, s->proto, s->portid, "recv() during pvw");
	}
	reap(w, pid, 12000, "process_vm_writev");
out:
	un_lock(s);
}

static void op_dup(struct wctx *w, struct slot *s)
{
	struct map m;
	int d, r;

	if (!rd_lock(s))
		return;
	if (s->fd < 0)
		goto out;
	d = dup(s->fd);
	if (!check_res(w, A_OK, d, errno, "dup(fd %d)", s->fd) || d < 0)
		goto out;
	if (get_map(w, s, &m, 1, 0))
		fill_slot_tx(w, s, &m, 1 + rnd(w, 3));
	slot_send(w, s, d, coin(w, 50) ? MSG_DONTWAIT : 0, "ring send through a dup");
	check_poll(w, d, s->proto, "poll on a dup");
	if (coin(w, 30)) {
		const struct geo *g = &geos[NVALID + rnd(w, NGEOS - NVALID)];

		set_ring(w, s, d, coin(w, 50), &g->r, sizeof(g->r), g->name);
	}
	if (coin(w, 20))
		do_mmap(w, s, d, 1);
	r = close(d);
	check_res(w, A_OK, r, errno, "close(dup %d)", d);
out:
	un_lock(s);
}

/* pass the descriptor to a child with SCM_RIGHTS; the child sends, maps, rewrites */
static void op_scm(struct wctx *w, struct slot *s)
{
	int sp[2], r, i;
	struct map m;
	size_t total;
	pid_t pid;

	if (!rd_lock(s))
		return;
	if (s->fd < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp))
		goto out;
	pthread_mutex_lock(&s->cfg_mu);
	total = ring_size(&s->rx) + ring_size(&s->tx);
	pthread_mutex_unlock(&s->cfg_mu);
	stat_add(S_SCM, 1);
	pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		goto out;
	}
	if (pid == 0) {
		char cbuf[CMSG_SPACE(sizeof(int))], data[8];
		struct iovec iov = { data, sizeof(data) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct pollfd p = { sp[1], POLLIN, 0 };
		struct cmsghdr *c;
		int fd = -1;
		void *a;

		child_init(w, 10);
		close(sp[0]);
		if (poll(&p, 1, 3000) != 1 || recvmsg(sp[1], &mh, 0) < 0)
			_exit(3);
		c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
		if (fd < 0)
			_exit(3);
		ring_send(w, fd, s->proto, s->portid, s->groups, MSG_DONTWAIT,
			  "ring send through a descriptor received with SCM_RIGHTS");
		r = setsockopt(fd, SOL_NETLINK, NLMM_RX_RING, &geos[NVALID].r, sizeof(geos[0].r));
		check_res(w, A_EINVAL | A_EBUSY, r, errno, "setsockopt(received fd %d, "
			  "RX_RING, invalid geometry)", fd);
		if (total) {
			/* a second mapping from another process; its layout may have changed
			 * since the parent looked, so the child does not touch the frames */
			a = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			check_res(w, A_OK | A_EINVAL | A_ENOMEM, a == MAP_FAILED ? -1 : 0, errno,
				  "mmap(received fd %d, %zu)", fd, total);
			if (a != MAP_FAILED) {
				ring_send(w, fd, s->proto, s->portid, s->groups, MSG_DONTWAIT,
					  "ring send while the SCM_RIGHTS child maps the rings");
				sleep_us(1000 * rnd(w, 20));
				r = munmap(a, total);
				check_res(w, A_OK, r, errno, "munmap(%p, %zu) in the SCM child",
					  a, total);
			}
		}
		r = close(fd);
		check_res(w, A_OK, r, errno, "close(received fd %d)", fd);
		_exit(0);
	}
	close(sp[1]);
	{
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, data[8] = "fd";
		struct iovec iov = { data, sizeof(data) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &s->fd, sizeof(int));
		r = (int)sendmsg(sp[0], &mh, 0);
		check_res(w, A_OK, r, errno, "sendmsg(SCM_RIGHTS, fd %d)", s->fd);
	}
	/* keep sending while the descriptor is in flight / held by the child */
	for (i = 0; i < 4; i++) {
		if (get_map(w, s, &m, 1, 0))
			fill_slot_tx(w, s, &m, 2);
		slot_send(w, s, s->fd, MSG_DONTWAIT, "ring send, descriptor passed to a child");
	}
	reap(w, pid, 12000, "SCM_RIGHTS");
	close(sp[0]);
out:
	un_lock(s);
}

/* SIOCGIFCONF copies to user memory under rtnl_mutex: into a never-touched buffer */
static void do_ifconf(struct wctx *w)
{
	size_t len = 16 * page_sz;
	struct ifconf ifc;
	int fd, r, e, mfd = -1;
	uint8_t *buf;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!check_res(w, A_OK, fd, errno, "socket(AF_INET, SOCK_DGRAM)") || fd < 0)
		return;
	if (coin(w, 50)) {
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else {
		mfd = memfd_create("nlmmap-stress-ifconf", MFD_CLOEXEC);
		if (mfd >= 0 && ftruncate(mfd, (off_t)len) == 0)
			buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		else
			buf = MAP_FAILED;
	}
	if (buf == MAP_FAILED) {
		close(fd);
		if (mfd >= 0)
			close(mfd);
		return;
	}
	ifc.ifc_len = (int)(len - rnd(w, 64) * sizeof(struct ifreq));
	ifc.ifc_buf = (char *)buf + (coin(w, 50) ? page_sz - sizeof(struct ifreq) / 2 : 0);
	if ((uint8_t *)ifc.ifc_buf + ifc.ifc_len > buf + len)
		ifc.ifc_len = (int)(buf + len - (uint8_t *)ifc.ifc_buf);
	r = ioctl(fd, SIOCGIFCONF, &ifc);
	e = errno;
	check_res(w, A_OK, r, e, "ioctl(SIOCGIFCONF, fresh %s buffer of %zu bytes)",
		  mfd >= 0 ? "memfd" : "anonymous", len);
	if (r == 0 && (ifc.ifc_len < 0 || ifc.ifc_len % sizeof(struct ifreq)))
		failf(w, F_OUTCOME, "SIOCGIFCONF returned ifc_len %d (not a multiple of %zu)",
		      ifc.ifc_len, sizeof(struct ifreq));
	stat_add(S_IFCONF, 1);
	r = munmap(buf, len);
	check_res(w, A_OK, r, errno, "munmap(ifconf buffer)");
	close(fd);
	if (mfd >= 0)
		close(mfd);
}

/* a child in a new netns: rings, requests, frames left reserved/valid, exit */
static void op_netns(struct wctx *w)
{
	pid_t pid;

	stat_add(S_NETNS, 1);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		struct slot s;
		struct nlmm_req rx = { 4096, 2, 2048, 4 }, tx = { 4096, 2, 2048, 4 };
		int g, c, r;

		child_init(w, 15);
		if (unshare(CLONE_NEWNET))
			_exit(3);
		memset(&s, 0, sizeof(s));
		pthread_mutex_init(&s.cfg_mu, NULL);
		pthread_mutex_init(&s.map_mu, NULL);
		pthread_mutex_init(&s.tx_mu, NULL);
		pthread_mutex_init(&s.rx_mu, NULL);
		s.fd = -1;
		slot_open(w, &s, NETLINK_ROUTE);
		if (s.fd < 0)
			_exit(1);
		if (coin(w, 50))
			rx = geos[rnd(w, NVALID)].r;
		set_ring(w, &s, s.fd, 0, &rx, sizeof(rx), "netns");
		set_ring(w, &s, s.fd, 1, &tx, sizeof(tx), "netns");
		if (do_mmap(w, &s, s.fd, 1)) {
			struct map m = s.maps[0];

			/* lo up through the ring, then requests whose replies stay in the ring */
			for (int i = 0; i < 3; i++) {
				fill_slot_tx(w, &s, &m, 4);
				slot_send(w, &s, s.fd, MSG_DONTWAIT, "netns ring send");
			}
			do_ifconf(w);
			fill_slot_tx(w, &s, &m, 2);	/* left VALID, never sent */
		}
		/* held test-driver messages: reserved frames in a genl socket's ring */
		g = plain_socket(NETLINK_GENERIC);
		c = plain_socket(NETLINK_GENERIC);
		if (g >= 0 && c >= 0) {
			struct nlmm_req gr = { 4096, 2, 2048, 4 };
			int fam = genl_family_id(c, TESTFAM);
			struct sockaddr_nl sa;
			socklen_t sl = sizeof(sa);

			r = setsockopt(g, SOL_NETLINK, NLMM_RX_RING, &gr, sizeof(gr));
			check_res(w, A_OK, r, errno, "setsockopt(netns GENERIC fd, RX_RING)");
			getsockname(g, (struct sockaddr *)&sa, &sl);
			for (int i = 0; fam && i < 1 + (int)rnd(w, 3); i++) {
				uint8_t req[64], *p;
				struct genlmsghdr gh = { TCMD_ALLOC, 1, 0 };
				uint32_t size = 16 + rnd(w, 1500);

				p = put_hdr(req, 0, (uint16_t)fam, NLM_F_REQUEST | NLM_F_ACK, 100 + i, 0);
				memcpy(p, &gh, sizeof(gh));
				p = put_attr(p + sizeof(gh), TA_PORTID, &sa.nl_pid, 4);
				p = put_attr(p, TA_SIZE, &size, 4);
				memcpy(req, &(uint32_t){ (uint32_t)(p - req) }, 4);
				nl_request(c, req, (size_t)(p - req), NULL, 0);
			}
			if (coin(w, 50)) {
				void *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);

				check_res(w, A_OK | A_ENOMEM, a == MAP_FAILED ? -1 : 0, errno,
					  "mmap(netns GENERIC ring)");
			}
		}
		if (coin(w, 50) && s.fd >= 0)
			close(s.fd);	/* mapping outlives the descriptor */
		_exit(0);		/* netns teardown with frames held */
	}
	reap(w, pid, 16000, "netns");
}

static void op_tap(struct wctx *w)
{
	int n = 1 + rnd(w, 8);
	uint8_t buf[4096];

	if (w->tapfd < 0)
		return;
	while (n--) {
		ssize_t r = recv(w->tapfd, buf, sizeof(buf), MSG_DONTWAIT);

		check_res(w, A_OK | A_EAGAIN | A_EINTR, r, errno, "recv(nlmon packet socket)");
		if (r < 0)
			break;
		stat_add(S_TAP, 1);
	}
}

/* ------------------------------------------------------------- workers */

static void begin_op(struct wctx *w, int op)
{
	int i, k, nw = opt.threads + opt.procs;

	w->cur_op = op;
	w->op_t0 = now_ns();
	__atomic_store_n(&sh->running[w->id], op + 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < nw; i++) {
		if (i == w->id)
			continue;
		k = __atomic_load_n(&sh->running[i], __ATOMIC_SEQ_CST) - 1;
		if (k >= 0)
			__atomic_store_n(&sh->pair[op < k ? op : k][op < k ? k : op], 1,
					 __ATOMIC_RELAXED);
	}
}

static void end_op(struct wctx *w, int op)
{
	__atomic_store_n(&sh->running[w->id], 0, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&sh->ops, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->op_count[op], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->op_ns[op], now_ns() - w->op_t0, __ATOMIC_RELAXED);
}

static int pick_op(struct wctx *w)
{
	const unsigned *wt = w->is_proc ? w_proc : w_thread;
	unsigned tot = 0, r, i;

	for (i = 0; i < NOPS; i++)
		tot += wt[i];
	r = rnd(w, tot);
	for (i = 0; i < NOPS; i++) {
		if (r < wt[i])
			return (int)i;
		r -= wt[i];
	}
	return OP_SEND;
}

static void run_op(struct wctx *w, int op, struct slot *s)
{
	switch (op) {
	case OP_OPEN: op_open(w, s); break;
	case OP_SET_RX: op_set_ring(w, s, 0); break;
	case OP_SET_TX: op_set_ring(w, s, 1); break;
	case OP_MMAP: op_mmap(w, s); break;
	case OP_MUNMAP: op_munmap(w, s); break;
	case OP_SEND: op_send(w, s); break;
	case OP_REWRITE: op_rewrite(w, s); break;
	case OP_RXREAD: op_rxread(w, s); break;
	case OP_RECV: op_recv(w, s); break;
	case OP_POLL: op_poll(w, s); break;
	case OP_FORK: op_fork(w, s); break;
	case OP_DUP: op_dup(w, s); break;
	case OP_SCM: op_scm(w, s); break;
	case OP_PVW: op_pvw(w, s); break;
	case OP_IFCONF: do_ifconf(w); break;
	case OP_NETNS: op_netns(w); break;
	case OP_SOERR: op_soerr(w, s); break;
	case OP_TAP: op_tap(w); break;
	default: break;
	}
}

static void worker_loop(struct wctx *w)
{
	int op;

	while (!stopping()) {
		op = pick_op(w);
		begin_op(w, op);
		run_op(w, op, &w->slots[rnd(w, w->nslots)]);
		end_op(w, op);
	}
}

static void *thread_main(void *arg)
{
	worker_loop(arg);
	return NULL;
}

static void wctx_init(struct wctx *w, int id, int is_proc)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->is_proc = is_proc;
	w->rng = opt.seed * 0x100000001B3ULL + (uint64_t)id * 0x9E3779B97F4A7C15ULL + 1;
	w->rbufsz = 256 * 1024;
	w->rbuf = malloc(w->rbufsz);
	w->tapfd = -1;
	w->cur_op = -1;
	if (!w->rbuf)
		abort();
}

static void proc_main(int id)
{
	struct wctx w;
	struct slot slots[2];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGALRM, SIG_DFL);
	alarm(opt.seconds + 60);
	wctx_init(&w, id, 1);
	w.seqtab = mmap(NULL, SEQTAB * sizeof(*w.seqtab), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w.seqtab == MAP_FAILED)
		w.seqtab = NULL;
	slot_init(&w, &slots[0], 0, NETLINK_ROUTE);
	slot_init(&w, &slots[1], 1, coin(&w, 50) ? NETLINK_ROUTE :
		  coin(&w, 50) ? NETLINK_GENERIC : NETLINK_USERSOCK);
	w.slots = slots;
	w.nslots = 2;
	worker_loop(&w);
	_exit(0);
}

/* --------------------------------------------------------------- main */

/* the closing lines; the last one is the summary the wrapper parses */
static void summary(void)
{
	char line[2048];
	int i, j, n, pairs = 0;

	for (i = 0; i < NOPS; i++)
		for (j = i; j < NOPS; j++)
			pairs += __atomic_load_n(&sh->pair[i][j], __ATOMIC_RELAXED) != 0;
	n = snprintf(line, sizeof(line), "stress: per-op");
	for (i = 0; i < NOPS; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64, op_names[i],
			      sh->op_count[i]);
	say(1, "%s", line);
	n = snprintf(line, sizeof(line), "stress: mean-us");
	for (i = 0; i < NOPS; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64, op_names[i],
			      sh->op_count[i] ? sh->op_ns[i] / sh->op_count[i] / 1000 : 0);
	say(1, "%s", line);
	n = snprintf(line, sizeof(line), "stress: detail");
	for (i = 0; i < NSTAT; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64, stat_names[i],
			      sh->stats[i]);
	say(1, "%s", line);
	if (sh->failures) {
		n = snprintf(line, sizeof(line), "stress: failures by kind:");
		for (i = 0; i < NFK; i++)
			if (sh->fk[i])
				n += snprintf(line + n, sizeof(line) - n, " %s=%u", fk_names[i],
					      sh->fk[i]);
		say(1, "%s", line);
	}
	say(1, "stress: ops=%" PRIu64 " checks=%" PRIu64 " failures=%u interleavings=%d "
	    "seconds=%lld seed=%" PRIu64, sh->ops, sh->stats[S_CHECKED], sh->failures, pairs,
	    (long long)((now_ns() - start_ns) / 1000000000LL), opt.seed);
}

static void kill_procs(void)
{
	for (int i = 0; i < MAX_W; i++)
		if (sh->procs[i] > 0)
			kill(sh->procs[i], SIGKILL);
}

#define GRACE_S 25	/* after the deadline: workers to finish, then give up */
#define WATCHDOG_S (GRACE_S + 35)

static void on_alarm(int sig)
{
	(void)sig;
	failf(NULL, F_STUCK, "watchdog: still running %d s after the deadline (blocked in "
	      "the kernel?)", WATCHDOG_S);
	kill_procs();
	summary();
	_exit(1);
}

static int feature_probe(void)
{
	struct nlmm_req r = { (unsigned)page_sz, 1, (unsigned)page_sz, 1 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK), e;

	if (fd < 0) {
		say(1, "stress: cannot run: socket(AF_NETLINK, NETLINK_USERSOCK): %s",
		    strerror(errno));
		return 2;
	}
	if (setsockopt(fd, SOL_NETLINK, NLMM_RX_RING, &r, sizeof(r)) == 0) {
		close(fd);
		return 0;
	}
	e = errno;
	close(fd);
	if (e == ENOPROTOOPT) {
		char rel[256] = "?";
		FILE *f = fopen("/proc/sys/kernel/osrelease", "r");

		if (f) {
			if (fgets(rel, sizeof(rel), f))
				rel[strcspn(rel, "\n")] = 0;
			fclose(f);
		}
		say(1, "stress: feature absent: setsockopt(SOL_NETLINK=270, NETLINK_RX_RING=6) -> "
		    "ENOPROTOOPT on kernel %s: this kernel has no memory-mapped netlink I/O "
		    "(CONFIG_NETLINK_MMAP not built in?)", rel);
		return 2;
	}
	say(1, "stress: cannot run: setsockopt(NETLINK_RX_RING) on a probe socket: %s%s",
	    strerror(e), e == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return 2;
}

static void usage(void)
{
	say(2, "usage: nlmmap_stress [--seconds S] [--checks N] [--seed N] [--threads T] "
	    "[--procs P] [--verbose]");
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_W];
	struct wctx tw[MAX_W];
	struct slot tslots[4];
	struct wctx mw;
	int i, rc, seed_given = 0;
	int64_t t0, next_progress, grace;
	uint64_t last_ops[2] = { UINT64_MAX - 1, UINT64_MAX };
	int stuck_reported = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			opt.seconds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			opt.seed = strtoull(argv[++i], NULL, 0);
			seed_given = 1;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			opt.threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			opt.procs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--checks") && i + 1 < argc)
			opt.checks = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--verbose"))
			opt.verbose = 1;
		else
			usage();
	}
	if (!seed_given)
		opt.seed = (uint64_t)time(NULL);
	if (opt.seconds < 1 || opt.threads < 0 || opt.procs < 0 ||
	    opt.threads + opt.procs < 1 || opt.threads + opt.procs > 32)
		usage();
	page_sz = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);

	rc = feature_probe();
	if (rc)
		return rc;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	memset(sh, 0, sizeof(*sh));

	/* a private netns: lo up (SIOCGIFCONF then copies 127.0.0.1), an nlmon tap */
	in_private_netns = unshare(CLONE_NEWNET) == 0;
	{
		int fd = plain_socket(NETLINK_ROUTE), g = plain_socket(NETLINK_GENERIC);

		if (fd >= 0) {
			rc = link_up(fd, 1);
			if (rc)
				say(1, "stress: note: bringing lo up failed: %d", rc);
			/* only in a private netns: nothing to clean up afterwards */
			rc = in_private_netns ? nlmon_create(fd) : 0;
			nlmon_ifindex = rc > 0 ? rc : 0;
			close(fd);
		}
		if (g >= 0) {
			test_family = genl_family_id(g, TESTFAM);
			close(g);
		}
	}
	say(1, "stress: seed=%" PRIu64 " seconds=%d checks=%" PRIu64 " threads=%d procs=%d "
	    "netns=%s nlmon=%s test_driver=%s page=%ld", opt.seed, opt.seconds, opt.checks,
	    opt.threads, opt.procs,
	    in_private_netns ? "private" : "shared(unshare failed)",
	    nlmon_ifindex ? "up" : "absent", test_family ? "yes" : "absent", page_sz);

	t0 = now_ns();
	start_ns = t0;
	deadline_ns = t0 + (int64_t)opt.seconds * 1000000000LL;
	signal(SIGALRM, on_alarm);
	alarm(opt.seconds + WATCHDOG_S);

	/* worker processes first: they must be single-threaded */
	for (i = 0; i < opt.procs; i++) {
		pid_t pid = fork();

		if (pid == 0)
			proc_main(opt.threads + i);
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		sh->procs[i] = pid;
	}

	wctx_init(&mw, MAX_W - 1, 0);
	for (i = 0; i < 4; i++) {
		static const int protos[4] = { NETLINK_ROUTE, NETLINK_ROUTE, NETLINK_GENERIC,
					       NETLINK_USERSOCK };
		slot_init(&mw, &tslots[i], i, protos[i]);
	}
	for (i = 0; i < opt.threads; i++) {
		wctx_init(&tw[i], i, 0);
		tw[i].slots = tslots;
		tw[i].nslots = 4;
		if (nlmon_ifindex && i == 0) {
			struct sockaddr_ll ll = { .sll_family = AF_PACKET,
						  .sll_protocol = htons(ETH_P_ALL),
						  .sll_ifindex = nlmon_ifindex };
			int pf = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

			if (pf >= 0 && bind(pf, (struct sockaddr *)&ll, sizeof(ll)) == 0)
				tw[i].tapfd = pf;
			else if (pf >= 0)
				close(pf);
		}
		if (pthread_create(&th[i], NULL, thread_main, &tw[i])) {
			perror("pthread_create");
			return 2;
		}
	}

	next_progress = t0 + 10000000000LL;
	while (now_ns() < deadline_ns) {
		sleep_us(200000);
		if (opt.checks &&
		    __atomic_load_n(&sh->stats[S_CHECKED], __ATOMIC_RELAXED) >= opt.checks)
			break;
		if (now_ns() >= next_progress) {
			uint64_t o = __atomic_load_n(&sh->ops, __ATOMIC_RELAXED);

			/* the longest operation is bounded well below 20 s (child reaping) */
			if (o == last_ops[1] && !stuck_reported) {
				failf(NULL, F_STUCK, "no operation completed in the last 20 s: every "
				      "worker is blocked (in the kernel?)");
				stuck_reported = 1;
			}
			last_ops[1] = last_ops[0];
			last_ops[0] = o;
			say(2, "stress: progress t=%llds ops=%" PRIu64 " checks=%" PRIu64
			    " failures=%u sends=%" PRIu64 " acks=%" PRIu64,
			    (long long)((now_ns() - t0) / 1000000000LL),
			    __atomic_load_n(&sh->ops, __ATOMIC_RELAXED),
			    __atomic_load_n(&sh->stats[S_CHECKED], __ATOMIC_RELAXED),
			    __atomic_load_n(&sh->failures, __ATOMIC_RELAXED),
			    __atomic_load_n(&sh->stats[S_SENDS], __ATOMIC_RELAXED),
			    __atomic_load_n(&sh->stats[S_ACKS], __ATOMIC_RELAXED));
			next_progress += 10000000000LL;
		}
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);

	/* every worker gets the same grace period; a stuck one is reported, not waited
	 * for (a task blocked in the kernel cannot be killed) */
	grace = now_ns() + (int64_t)GRACE_S * 1000000000LL;
	for (i = 0; i < opt.threads; i++) {
		struct timespec t = { grace / 1000000000LL, grace % 1000000000LL }, rt, mt;

		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mt);
		t.tv_sec += rt.tv_sec - mt.tv_sec;	/* monotonic -> realtime */
		if (pthread_timedjoin_np(th[i], NULL, &t))
			failf(NULL, F_STUCK, "worker thread %d still running %d s after the "
			      "deadline (blocked in the kernel?)", i, GRACE_S);
	}
	for (i = 0; i < opt.procs; i++) {
		pid_t pid = sh->procs[i];
		int st = 0;
		pid_t r;

		while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_ns() < grace)
			sleep_us(20000);
		if (r == 0) {
			failf(NULL, F_STUCK, "worker process %d still running %d s after the "
			      "deadline (blocked in the kernel?): SIGKILL", (int)pid, GRACE_S);
			kill(pid, SIGKILL);
		} else if (r == pid && (WIFSIGNALED(st) || WEXITSTATUS(st))) {
			failf(NULL, F_CHILD, "worker process %d ended with %s %d", (int)pid,
			      WIFSIGNALED(st) ? "signal" : "status",
			      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		}
		sh->procs[i] = 0;
	}
	alarm(0);
	summary();
	_exit(sh->failures ? 1 : 0);
}
