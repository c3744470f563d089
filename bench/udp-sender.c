/*
 * The UDP benchmark's paced sender (bench/udp.ts builds it with the system's cc).
 *
 *   udp-sender HOST PORT RATE COUNT LINES_FILE
 *
 * Sends COUNT datagrams to HOST:PORT (IPv4), one line of LINES_FILE each (without its LF;
 * the file's lines are reused in order when COUNT exceeds them), at RATE datagrams per
 * second. Pacing: every loop it sends, with sendmmsg(2) in runs of at most 64, the datagrams
 * due by now, then sleeps 50 us; a sender that fell behind catches up at once, so the rate
 * holds over the burst, not per datagram. Prints "sent N seconds S" on stdout.
 * Cheap on purpose: about 0.3 us of CPU per datagram, so it does not compete with the
 * receivers for the two cores.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define RUN 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST PORT RATE COUNT LINES_FILE\n", argv[0]);
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  double rate = atof(argv[3]);
  long count = atol(argv[4]);
  FILE *f = fopen(argv[5], "r");
  if (f == NULL || rate <= 0 || count <= 0) {
    perror("udp-sender");
    return 2;
  }
  /* Load the lines (at most COUNT of them). */
  long cap = count < 1000000 ? count : 1000000, n = 0;
  char **lines = calloc(cap, sizeof *lines);
  size_t *lens = calloc(cap, sizeof *lens);
  char *line = NULL;
  size_t size = 0;
  ssize_t len;
  while (n < cap && (len = getline(&line, &size, f)) > 0) {
    if (line[len - 1] == '\n') len--;
    lines[n] = malloc(len);
    memcpy(lines[n], line, len);
    lens[n++] = len;
  }
  fclose(f);
  if (n == 0) {
    fprintf(stderr, "udp-sender: no lines in %s\n", argv[5]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (fd < 0 || inet_pton(AF_INET, host, &to.sin_addr) != 1 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("udp-sender");
    return 2;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  struct mmsghdr msgs[RUN];
  struct iovec iov[RUN];
  memset(msgs, 0, sizeof msgs);
  long sent = 0, failed = 0;
  double t0 = now();
  while (sent < count) {
    long due = (long)((now() - t0) * rate) + 1;
    if (due > count) due = count;
    while (sent < due) {
      int k = due - sent < RUN ? (int)(due - sent) : RUN;
      for (int i = 0; i < k; i++) {
        long j = (sent + i) % n;
        iov[i].iov_base = lines[j];
        iov[i].iov_len = lens[j];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int r = sendmmsg(fd, msgs, k, 0);
      if (r <= 0) {
        /* Loopback refuses only when our own send buffer is full: count it and move on. */
        failed++;
        usleep(50);
        continue;
      }
      sent += r;
    }
    if (sent < count) usleep(50);
  }
  double seconds = now() - t0;
  printf("sent %ld seconds %.4f failed %ld\n", sent, seconds, failed);
  return 0;
}
