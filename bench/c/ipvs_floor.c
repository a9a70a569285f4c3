// The floor for an IPVS bulk load: a plain C program doing what lvskit's transport does for
// `ipvs.batch()` of adds, with nothing else. In the current network namespace (the benchmark
// runs it under `ip netns exec`), it opens one NETLINK_GENERIC socket (32 MiB receive buffer,
// NETLINK_CAP_ACK), resolves the IPVS family (CTRL_CMD_GETFAMILY), and sends N services of
// DESTS destinations each as IPVS_CMD_NEW_SERVICE / IPVS_CMD_NEW_DEST requests carrying the same
// attributes, in the same order and byte for byte, as lvskit's encoder (native/src/families/
// ipvs.cc: the service nest with AF, PROTOCOL, ADDR (16 bytes), PORT (be16), SCHED_NAME, FLAGS
// {0, mask}, TIMEOUT, NETMASK (be32); a destination repeats the service's identity nest, then ADDR,
// PORT, FWD_METHOD, WEIGHT, U_THRESH, L_THRESH), up to 1024 per sendmsg, only the last of each
// send acked (errors always come back). The services and destinations are those of
// bench/ipvs.mjs: VIP 10.(100+(i>>16 & 63)).(i>>8 & 255).(i & 255), port 80 + (i*7 & 1023),
// tcp, wlc; destination j 192.168.j.10:8080, masq, weight 1.
//
// It prints one line:  ok OK failed F ms T resolve_ms R sends S
// where T is the time from the first message built to the last ack read (socket, family
// resolution and exit excluded: lvskit's in-process figure excludes Ipvs.open() the same way)
// and R the family resolution's.
//
// usage: ipvs_floor N [DESTS]           load (default DESTS 4)
//        ipvs_floor --dump N [DESTS]    print the requests (seq 0, NLM_F_REQUEST only, family id
//                                       0x0000 replaced by FAMILY) as hex, one message a line, and
//                                       send nothing: bench/ipvs.mjs compares them with lvskit's
// Built by bench/ipvs.mjs with `cc -O2`.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// include/uapi/linux/ip_vs.h
enum { IPVS_CMD_NEW_SERVICE = 1, IPVS_CMD_NEW_DEST = 5 };
enum { IPVS_CMD_ATTR_SERVICE = 1, IPVS_CMD_ATTR_DEST = 2 };
enum {
  IPVS_SVC_ATTR_AF = 1, IPVS_SVC_ATTR_PROTOCOL, IPVS_SVC_ATTR_ADDR, IPVS_SVC_ATTR_PORT,
  IPVS_SVC_ATTR_FWMARK, IPVS_SVC_ATTR_SCHED_NAME, IPVS_SVC_ATTR_FLAGS, IPVS_SVC_ATTR_TIMEOUT,
  IPVS_SVC_ATTR_NETMASK,
};
enum {
  IPVS_DEST_ATTR_ADDR = 1, IPVS_DEST_ATTR_PORT, IPVS_DEST_ATTR_FWD_METHOD, IPVS_DEST_ATTR_WEIGHT,
  IPVS_DEST_ATTR_U_THRESH, IPVS_DEST_ATTR_L_THRESH,
};
#define IPVS_GENL_VERSION 1
// IP_VS_SVC_F_PERSISTENT | ONEPACKET | SCHED1 | SCHED2 | SCHED3: the flags a service spec controls
#define SVC_FLAGS_MASK 0x3du
#define PER_SEND 1024

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// A message under construction in a flat buffer.
typedef struct {
  uint8_t *buf;
  size_t len;
} Msg;

static void *put(Msg *m, size_t n) {
  void *p = m->buf + m->len;
  memset(p, 0, NLA_ALIGN(n));
  m->len += NLA_ALIGN(n);
  return p;
}

static void attr(Msg *m, uint16_t type, const void *data, size_t n) {
  struct nlattr *a = put(m, NLA_HDRLEN);
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + n);
  memcpy(put(m, n), data, n);
}

static void u16a(Msg *m, uint16_t type, uint16_t v) { attr(m, type, &v, 2); }
static void u32a(Msg *m, uint16_t type, uint32_t v) { attr(m, type, &v, 4); }
static void be16a(Msg *m, uint16_t type, uint16_t v) {
  uint16_t b = htons(v);
  attr(m, type, &b, 2);
}
static void be32a(Msg *m, uint16_t type, uint32_t v) {
  uint32_t b = htonl(v);
  attr(m, type, &b, 4);
}

static size_t nest_begin(Msg *m, uint16_t type) {
  size_t at = m->len;
  struct nlattr *a = put(m, NLA_HDRLEN);
  a->nla_type = type;
  return at;
}
static void nest_end(Msg *m, size_t at) { ((struct nlattr *)(m->buf + at))->nla_len = (uint16_t)(m->len - at); }

static size_t begin(Msg *m, uint16_t family, uint8_t cmd) {
  size_t at = m->len;
  struct nlmsghdr *h = put(m, NLMSG_HDRLEN);
  h->nlmsg_type = family;
  h->nlmsg_flags = NLM_F_REQUEST;
  struct genlmsghdr *g = put(m, GENL_HDRLEN);
  g->cmd = cmd;
  g->version = IPVS_GENL_VERSION;
  return at;
}
static void end(Msg *m, size_t at) { ((struct nlmsghdr *)(m->buf + at))->nlmsg_len = (uint32_t)(m->len - at); }

static void service_key(Msg *m, long i) {
  uint8_t addr[16] = {10, (uint8_t)(100 + ((i >> 16) & 63)), (uint8_t)(i >> 8), (uint8_t)i};
  u16a(m, IPVS_SVC_ATTR_AF, AF_INET);
  u16a(m, IPVS_SVC_ATTR_PROTOCOL, 6);
  attr(m, IPVS_SVC_ATTR_ADDR, addr, 16);
  be16a(m, IPVS_SVC_ATTR_PORT, (uint16_t)(80 + ((i * 7) & 1023)));
}

static void new_service(Msg *m, uint16_t family, long i) {
  size_t msg = begin(m, family, IPVS_CMD_NEW_SERVICE);
  size_t n = nest_begin(m, IPVS_CMD_ATTR_SERVICE);
  service_key(m, i);
  attr(m, IPVS_SVC_ATTR_SCHED_NAME, "wlc", 4);
  uint32_t flags[2] = {0, SVC_FLAGS_MASK};
  attr(m, IPVS_SVC_ATTR_FLAGS, flags, sizeof flags);
  u32a(m, IPVS_SVC_ATTR_TIMEOUT, 0);
  be32a(m, IPVS_SVC_ATTR_NETMASK, 0xffffffffu);
  nest_end(m, n);
  end(m, msg);
}

static void new_dest(Msg *m, uint16_t family, long i, int j) {
  size_t msg = begin(m, family, IPVS_CMD_NEW_DEST);
  size_t n = nest_begin(m, IPVS_CMD_ATTR_SERVICE);
  service_key(m, i);
  nest_end(m, n);
  n = nest_begin(m, IPVS_CMD_ATTR_DEST);
  uint8_t addr[16] = {192, 168, (uint8_t)j, 10};
  attr(m, IPVS_DEST_ATTR_ADDR, addr, 16);
  be16a(m, IPVS_DEST_ATTR_PORT, 8080);
  u32a(m, IPVS_DEST_ATTR_FWD_METHOD, 0); // IP_VS_CONN_F_MASQ
  u32a(m, IPVS_DEST_ATTR_WEIGHT, 1);
  u32a(m, IPVS_DEST_ATTR_U_THRESH, 0);
  u32a(m, IPVS_DEST_ATTR_L_THRESH, 0);
  nest_end(m, n);
  end(m, msg);
}

static uint8_t in[1 << 16];

// CTRL_CMD_GETFAMILY "IPVS": the family id, or 0.
static uint16_t resolve(int fd) {
  uint8_t out[256];
  Msg m = {out, 0};
  size_t at = begin(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
  ((struct genlmsghdr *)(out + NLMSG_HDRLEN))->version = 2;
  attr(&m, CTRL_ATTR_FAMILY_NAME, "IPVS", 5);
  end(&m, at);
  ((struct nlmsghdr *)out)->nlmsg_seq = 1;
  if (send(fd, out, m.len, 0) < 0) return 0;
  ssize_t got = recv(fd, in, sizeof in, 0);
  for (struct nlmsghdr *h = (struct nlmsghdr *)in; got > 0 && NLMSG_OK(h, (unsigned)got); h = NLMSG_NEXT(h, got)) {
    if (h->nlmsg_type != GENL_ID_CTRL) continue;
    struct nlattr *a = (struct nlattr *)((uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN);
    int left = (int)(h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);
    while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
      if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) return *(uint16_t *)((uint8_t *)a + NLA_HDRLEN);
      left -= NLA_ALIGN(a->nla_len);
      a = (struct nlattr *)((uint8_t *)a + NLA_ALIGN(a->nla_len));
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  int dump = argc > 1 && strcmp(argv[1], "--dump") == 0;
  if (argc < 2 + dump) {
    fprintf(stderr, "usage: %s [--dump] N [DESTS]\n", argv[0]);
    return 2;
  }
  long n = strtol(argv[1 + dump], NULL, 10);
  int dests = argc > 2 + dump ? atoi(argv[2 + dump]) : 4;
  if (n <= 0 || n > (1L << 22) || dests < 0 || dests > 255) {
    fprintf(stderr, "N must be in 1..4194304 and DESTS in 0..255\n");
    return 2;
  }
  static uint8_t out[PER_SEND * 256];
  if (dump) {
    for (long i = 0; i < n; i++) {
      for (int j = -1; j < dests; j++) {
        Msg m = {out, 0};
        if (j < 0) new_service(&m, 0, i);
        else new_dest(&m, 0, i, j);
        for (size_t k = 0; k < m.len; k++) printf("%02x", out[k]);
        putchar('\n');
      }
    }
    return 0;
  }

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  int rcv = 32 << 20, one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("bind");
    return 1;
  }
  double r0 = now_ms();
  uint16_t family = resolve(fd);
  double resolveMs = now_ms() - r0;
  if (family == 0) {
    fprintf(stderr, "no IPVS generic netlink family in this namespace's kernel\n");
    return 1;
  }

  long total = n * (1 + dests), done = 0, failed = 0, sends = 0;
  uint32_t seq = 1;
  double t0 = now_ms();
  while (done < total) {
    long k = total - done < PER_SEND ? total - done : PER_SEND;
    Msg m = {out, 0};
    for (long q = 0; q < k; q++) {
      long item = done + q;
      long i = item / (1 + dests);
      int j = (int)(item % (1 + dests)) - 1;
      size_t at = m.len;
      if (j < 0) new_service(&m, family, i);
      else new_dest(&m, family, i, j);
      struct nlmsghdr *h = (struct nlmsghdr *)(out + at);
      h->nlmsg_seq = ++seq;
      if (q == k - 1) h->nlmsg_flags |= NLM_F_ACK;
    }
    sends++;
    if (send(fd, out, m.len, 0) < 0) {
      perror("send");
      return 1;
    }
    // Read until the last message's ack; failures of the unacked ones arrive before it.
    int last = 0;
    while (!last) {
      ssize_t got = recv(fd, in, sizeof in, 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        perror("recv");
        return 1;
      }
      for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, (unsigned)got); h = NLMSG_NEXT(h, got)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        struct nlmsgerr *e = (struct nlmsgerr *)NLMSG_DATA(h);
        if (e->error != 0) failed++;
        if (h->nlmsg_seq == seq) last = 1;
      }
    }
    done += k;
  }
  double ms = now_ms() - t0;
  printf("ok %ld failed %ld ms %.3f resolve_ms %.3f sends %ld\n", total - failed, failed, ms, resolveMs, sends);
  return failed ? 3 : 0;
}
