// The floor for batched route adds: a plain C program doing what lvskit's transport does for
// Routes.addMany, with nothing else. It enters a named network namespace, opens one NETLINK_ROUTE
// socket (32 MiB receive buffer, NETLINK_CAP_ACK), and sends N RTM_NEWROUTE requests
// (NLM_F_CREATE | NLM_F_EXCL; rtmsg + RTA_TABLE + RTA_DST + RTA_OIF, the same attributes lvskit
// encodes) for 10.a.b.c/32 dev DEV, up to 1024 per sendmsg, only the last of each send acked
// (errors always come back). It counts failures and prints one line:
//   ok N failed F ms T
// where T is the time from the first message built to the last ack read (setup excluded).
//
// usage: netlink_floor NETNS DEV N [FIRST]   (routes FIRST .. FIRST+N-1, default FIRST 0)
// Built by bench/routes.mjs with `cc -O2`.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PER_SEND 1024
#define MSG_BYTES (NLMSG_ALIGN(sizeof(struct nlmsghdr)) + NLMSG_ALIGN(sizeof(struct rtmsg)) + 3 * RTA_SPACE(4))

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void put_u32_attr(char **p, unsigned short type, uint32_t v) {
  struct rtattr *a = (struct rtattr *)*p;
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(4);
  memcpy(RTA_DATA(a), &v, 4);
  *p += RTA_SPACE(4);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s NETNS DEV N [FIRST]\n", argv[0]);
    return 2;
  }
  char path[512];
  snprintf(path, sizeof path, "/run/netns/%s", argv[1]);
  int nsfd = open(path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
    perror(path);
    return 1;
  }
  unsigned oif = if_nametoindex(argv[2]);
  if (oif == 0) {
    perror(argv[2]);
    return 1;
  }
  long n = strtol(argv[3], NULL, 10);
  long first = argc > 4 ? strtol(argv[4], NULL, 10) : 0;
  if (n <= 0 || first < 0 || first + n > (1L << 24)) {
    fprintf(stderr, "N must be positive and FIRST+N at most 2^24\n");
    return 2;
  }

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  int rcv = 32 << 20, one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("bind");
    return 1;
  }

  static char out[PER_SEND * MSG_BYTES];
  static char in[1 << 16];
  long failed = 0, done = 0;
  uint32_t seq = 0;
  double t0 = now_ms();
  while (done < n) {
    long k = n - done < PER_SEND ? n - done : PER_SEND;
    char *p = out;
    for (long j = 0; j < k; j++) {
      long i = first + done + j;
      struct nlmsghdr *h = (struct nlmsghdr *)p;
      h->nlmsg_len = MSG_BYTES;
      h->nlmsg_type = RTM_NEWROUTE;
      h->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | (j == k - 1 ? NLM_F_ACK : 0);
      h->nlmsg_seq = ++seq;
      h->nlmsg_pid = 0;
      struct rtmsg *r = (struct rtmsg *)NLMSG_DATA(h);
      memset(r, 0, sizeof *r);
      r->rtm_family = AF_INET;
      r->rtm_dst_len = 32;
      r->rtm_table = RT_TABLE_MAIN;
      r->rtm_protocol = RTPROT_BOOT;
      r->rtm_scope = RT_SCOPE_LINK;
      r->rtm_type = RTN_UNICAST;
      char *a = p + NLMSG_ALIGN(sizeof(struct nlmsghdr)) + NLMSG_ALIGN(sizeof(struct rtmsg));
      put_u32_attr(&a, RTA_TABLE, RT_TABLE_MAIN);
      uint8_t dst[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
      uint32_t d;
      memcpy(&d, dst, 4);
      put_u32_attr(&a, RTA_DST, d);
      put_u32_attr(&a, RTA_OIF, oif);
      p += MSG_BYTES;
    }
    if (send(fd, out, (size_t)(p - out), 0) < 0) {
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
  printf("ok %ld failed %ld ms %.3f\n", n - failed, failed, ms);
  return failed ? 3 : 0;
}
