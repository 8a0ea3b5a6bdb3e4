/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the bench/ programs: the line protocol `python -m vm bench` reads,
 * timing, and per-message kernel counts from tracefs.
 *
 * Every figure is one line on stdout starting with "BENCH " and followed by a
 * JSON object:
 *   {"row":R,"variant":V,"unit":U,"samples":[...]}    one value per repetition
 *   {"row":R,"variant":V,"per_msg":{NAME:VALUE,...}}   counts divided by messages
 * U is "ns/msg" (lower is better), or "pkt/s" / "Mbit/s" (higher is better).
 * Anything else on stdout is for humans.
 *
 * Counts are what TCG cannot distort: syscalls entered by this process,
 * slab and page allocations, vmap areas, and the netlink_mmap_tx/rx events
 * of the series (mode=copy or zerocopy, with their lengths). They are taken
 * from tracefs with every other task's events in the buffer too (kworkers
 * doing deferred work for us belong to the cost); the guest runs nothing else.
 */
#ifndef NLMMAP_BENCH_H
#define NLMMAP_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRACEFS "/sys/kernel/tracing"
#define KPROBE_GROUP "nlmmap_bench"

static inline void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(2);
}

static inline void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static inline double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* How many of a row's variants to run: all, or only the first (the baseline,
 * which needs no ring) when NLMMAP_BENCH_BASELINE_ONLY is set, for kernels
 * built without CONFIG_NETLINK_MMAP.
 */
static inline int variants(int n)
{
	const char *only = getenv("NLMMAP_BENCH_BASELINE_ONLY");

	return only && *only && strcmp(only, "0") ? 1 : n;
}

static inline void emit_samples(const char *row, const char *variant, const char *unit,
			 const double *v, int n)
{
	printf("BENCH {\"row\":\"%s\",\"variant\":\"%s\",\"unit\":\"%s\",\"samples\":[",
	       row, variant, unit);
	for (int i = 0; i < n; i++)
		printf("%s%.1f", i ? "," : "", v[i]);
	printf("]}\n");
	fflush(stdout);
}

/* Events counted per message. A line counts for every entry whose event name
 * (and needle, if any) it contains; `sum` names a field whose value is summed.
 */
struct counted {
	const char *event;	/* tracefs path under events/ */
	const char *label;	/* key in the per_msg object */
	const char *needle;	/* extra substring the line must have, or NULL */
	const char *sum;	/* "field=" whose value is summed, or NULL */
	double count, total;
};

static struct counted counted[] = {
	{ "raw_syscalls/sys_enter", "syscalls", NULL, NULL },
	{ "kmem/kmalloc", "kmalloc", NULL, "bytes_alloc=" },
	{ "kmem/kmem_cache_alloc", "kmem_cache_alloc", NULL, "bytes_alloc=" },
	{ "kmem/mm_page_alloc", "page_alloc", NULL, NULL },
	{ "vmalloc/alloc_vmap_area", "vmap", NULL, NULL },
	{ "vmalloc/purge_vmap_area_lazy", "vmap_purge", NULL, NULL },
	{ "netlink/netlink_mmap_tx", "tx_copy", "mode=copy", "len=" },
	{ "netlink/netlink_mmap_tx", "tx_zerocopy", "mode=zerocopy", "len=" },
	{ "netlink/netlink_mmap_rx", "rx_deliver", "decision=deliver", "len=" },
	{ "netlink/netlink_mmap_rx", "rx_copy", "decision=copy", "len=" },
	/* portid lookups (a kprobe, see trace_start): what D25 saves */
	{ KPROBE_GROUP "/netlink_lookup", "lookups", NULL, NULL },
};
#define NCOUNTED (sizeof(counted) / sizeof(counted[0]))

static inline const char *event_name(const char *event)
{
	return strchr(event, '/') + 1;
}

static inline int write_file(const char *path, const char *val)
{
	int fd, ok;

	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static inline int trace_write(const char *rel, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/%s", rel);
	return write_file(path, val);
}

/* Events a kernel does not have (netlink_mmap_* without the series) are
 * reported as -1 per message, never as 0.
 */
static int trace_available[NCOUNTED];

static inline void trace_start(void)
{
	char filter[64];

	if (access(TRACEFS "/events", F_OK) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL))
		die("mount tracefs");
	trace_write("tracing_on", "0");
	trace_write("events/enable", "0");
	if (trace_write("buffer_size_kb", "16384"))
		die("tracefs buffer_size_kb");
	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	/* an int3 kprobe, patched once now; an optimized one would be patched
	 * again later, from a kworker, while traffic runs
	 */
	if (write_file("/proc/sys/debug/kprobes-optimization", "0") &&
	    errno != ENOENT)	/* ENOENT: no optimized kprobes anyway */
		die("kprobes-optimization");
	trace_write("kprobe_events",
		    "p:" KPROBE_GROUP "/netlink_lookup __netlink_lookup");
	for (size_t i = 0; i < NCOUNTED; i++) {
		char rel[128];

		/* Baselines use no ring, so the series' events would count
		 * nothing; and while they are on, the kernel looks every
		 * destination up again to report why (D25).
		 */
		if (variants(2) == 1 &&
		    !strncmp(counted[i].event, "netlink/", 8)) {
			trace_available[i] = 0;
			continue;
		}
		snprintf(rel, sizeof(rel), "events/%s/enable", counted[i].event);
		trace_available[i] = !trace_write(rel, "1");
		if (i == 0 && trace_available[i]) {
			snprintf(rel, sizeof(rel), "events/%s/filter", counted[i].event);
			trace_write(rel, filter);
		}
	}
	trace_write("trace", "");
	trace_write("tracing_on", "1");
}

/* Stop, count, and emit one per_msg line (plus the caller's extra fields). */
static inline void trace_stop(const char *row, const char *variant, double msgs,
		       const char *extra)
{
	char line[4096];
	FILE *f;

	trace_write("tracing_on", "0");
	for (size_t i = 0; i < NCOUNTED; i++) {
		counted[i].count = counted[i].total = 0;
	}
	for (int cpu = 0; cpu < 64; cpu++) {
		snprintf(line, sizeof(line), TRACEFS "/per_cpu/cpu%d/stats", cpu);
		f = fopen(line, "r");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "overrun: ", 9) && atol(line + 9))
				fail("trace buffer overran on cpu%d: count fewer messages", cpu);
		fclose(f);
	}
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		die("tracefs trace");
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		for (size_t i = 0; i < NCOUNTED; i++) {
			char key[80];
			char *p;

			snprintf(key, sizeof(key), " %s: ", event_name(counted[i].event));
			p = strstr(line, key);
			if (!p || (counted[i].needle && !strstr(p, counted[i].needle)))
				continue;
			counted[i].count++;
			if (counted[i].sum) {
				p = strstr(p, counted[i].sum);
				if (p)
					counted[i].total += atof(p + strlen(counted[i].sum));
			}
		}
	}
	fclose(f);
	for (size_t i = 0; i < NCOUNTED; i++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "events/%s/enable", counted[i].event);
		trace_write(rel, "0");
	}
	trace_write("events/raw_syscalls/sys_enter/filter", "0");
	trace_write("trace", "");

	printf("BENCH {\"row\":\"%s\",\"variant\":\"%s\",\"per_msg\":{", row, variant);
	for (size_t i = 0; i < NCOUNTED; i++) {
		double c = trace_available[i] ? counted[i].count / msgs : -1;

		printf("%s\"%s\":%.3f", i ? "," : "", counted[i].label, c);
		if (counted[i].sum)
			printf(",\"%s_%.*s\":%.1f", counted[i].label,
			       (int)strlen(counted[i].sum) - 1, counted[i].sum,
			       trace_available[i] ? counted[i].total / msgs : -1);
	}
	printf("%s%s}}\n", extra && *extra ? "," : "", extra ? extra : "");
	fflush(stdout);
}

/* Append one attribute to a message being built. */
static inline void put_attr(struct nlmsghdr *nlh, int type, const void *data, int len)
{
	struct nlattr *a = (void *)nlh + NLMSG_ALIGN(nlh->nlmsg_len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* The series' uapi (include/uapi/linux/netlink.h), which host headers lack. */
#define SOL_NETLINK_ 270
#define NETLINK_RX_RING_ 6
#define NETLINK_TX_RING_ 7
#define NL_HDRLEN 24		/* NL_MMAP_HDRLEN */
enum { ST_UNUSED, ST_RESERVED, ST_VALID, ST_COPY, ST_SKIP };

struct nl_req { unsigned int bs, bn, fs, fn; };
struct nl_hdr { unsigned int status, len, group, pid, uid, gid; };

/* Set up the rings asked for (frame_nr 0: none) and map them: RX first. */
static inline unsigned char *ring_setup(int fd, unsigned int fsize, unsigned int rx_frames,
				 unsigned int tx_frames)
{
	unsigned int bs = fsize < 4096 ? 4096 : fsize;
	struct nl_req rx = { bs, rx_frames * fsize / bs, fsize, rx_frames };
	struct nl_req tx = { bs, tx_frames * fsize / bs, fsize, tx_frames };
	void *map;

	if (rx_frames && setsockopt(fd, SOL_NETLINK_, NETLINK_RX_RING_, &rx, sizeof(rx)))
		die("NETLINK_RX_RING");
	if (tx_frames && setsockopt(fd, SOL_NETLINK_, NETLINK_TX_RING_, &tx, sizeof(tx)))
		die("NETLINK_TX_RING");
	map = mmap(NULL, (size_t)fsize * (rx_frames + tx_frames), PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	return map;
}

static inline struct nl_hdr *frame_at(unsigned char *ring, unsigned int fsize, unsigned int i)
{
	return (struct nl_hdr *)(ring + (size_t)fsize * i);
}

static inline unsigned int frame_status(struct nl_hdr *h)
{
	return __atomic_load_n(&h->status, __ATOMIC_ACQUIRE);
}

static inline void frame_release(struct nl_hdr *h)
{
	__atomic_store_n(&h->status, ST_UNUSED, __ATOMIC_RELEASE);
}

#endif
