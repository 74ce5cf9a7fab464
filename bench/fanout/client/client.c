// The faster client: the same viewers as client/loadgen.ts (handshake, frame headers, the
// key bytes only, an arrival stamp per chunk on CLOCK_MONOTONIC) in C with one epoll loop,
// to show whether the Node generator limits what it measures. Same arrival dump format.
//
// usage: client PORT PATH N MODE(fmp4|flv) SEQOFF SLOW_EVERY SLOW_BPS MAX_SECONDS OUT [ACK_MS [ACK_GEN [FLAGS]]]
// ACK_MS > 0: each viewer acks its newest chunk ({"type":"ack","g":ACK_GEN,"seq":N}, docs/protocol.md)
// at most every ACK_MS, and once more after a burst, as the player does; 0 (default): no acks.
// FLAGS, letters (default none): s (spin) polls without sleeping. On loopback the sender's send()
// pays for waking a sleeping reader (~25,000 wake-ups a second at 2,000 viewers), and how often
// this client slept moved the relay's CPU reading between 46 and 79 % of a core in runs of one
// build (bench/RESULTS.md, 2026-12-07); a real viewer wakes on its own machine. Costs this client its core.
// q (quickack) sets TCP_QUICKACK after each ack it writes: Linux treats a socket that writes as
// interactive and holds its TCP ACKs back, and on loopback more of TCP's ACK work then lands on
// the sender's core (nstat per run: fast-path ACKs 0.86 M -> 0.17 M, slow-path 0.07 M -> 0.33 M;
// relay system time 49 -> 44 % of a core with q). With q a run with acks differs by the ack messages.
// stdout: {"event":"started"} {"event":"joined",...}; stdin "stop": dump, {"event":"done"}.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

enum { CONNECTING, HANDSHAKE, HEADER, PAYLOAD, CLOSED };
#define KEEPMAX 128
typedef struct {
  int fd, idx, phase, slow, failed, paused;
  char hs[2048];
  int hslen;
  unsigned char hdr[14];
  int hdrlen, opcode;
  uint64_t left;
  unsigned char keep[KEEPMAX];
  int keeplen, keepwant;
  double *keys, *times;
  uint32_t count, bad;
  double read_bytes, slow_start, resume_at;
  uint32_t ack_seq;
  int ack_pending;
  double ack_at;
} conn_t;

static int N, FLV, SEQOFF, SLOW_EVERY, KEEP;
static double SLOW_BPS;
static long CAP;
static int recording = 1, joined, failed, inflight, next_conn, join_reported;
static double first_connect, last_join;
static long frames, reads, acks;
static double ACK_MS;
static int SPIN, QUICKACK;
static int ACK_GEN = 1;
static double bytes_in;
static conn_t *conns;
static int ep, port;
static const char *path;
static struct sockaddr_in addr;

static void record(conn_t *c, double key, double now) {
  if (!recording || c->count >= CAP) return;
  c->keys[c->count] = key;
  c->times[c->count] = now;
  c->count++;
}

static void fail(conn_t *c);
static void pump(void);

static void report_join(void) {
  if (join_reported || joined + failed < N) return;
  join_reported = 1;
  double ms = (joined ? last_join : mono_ms()) - first_connect;
  printf("{\"event\":\"joined\",\"joined\":%d,\"failed\":%d,\"ms\":%.1f,\"rate\":%.1f}\n", joined, failed, ms, joined / (ms / 1000));
  fflush(stdout);
}

static void send_ack(conn_t *c, double now) {
  char t[64];
  int len = snprintf(t, sizeof t, "{\"type\":\"ack\",\"g\":%d,\"seq\":%u}", ACK_GEN, c->ack_seq);
  unsigned char f[6 + 64];
  f[0] = 0x81; f[1] = 0x80 | len; f[2] = f[3] = f[4] = f[5] = 0; /* a zero mask: the payload as is */
  memcpy(f + 6, t, len);
  c->ack_pending = 0;
  c->ack_at = now;
  if (write(c->fd, f, 6 + len) == 6 + len) acks++;
  if (QUICKACK) { int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one); }
}

static void note_seq(conn_t *c, uint32_t s, double now) {
  if (ACK_MS <= 0 || c->phase == CLOSED) return;
  c->ack_seq = s;
  c->ack_pending = 1;
  if (now - c->ack_at >= ACK_MS) send_ack(c, now);
}

static void on_message(conn_t *c, double now) {
  frames++;
  unsigned char *k = c->keep;
  if (c->opcode == 2) {
    if (FLV) {
      if (c->keeplen >= 8 && k[0] == 9) record(c, (double)(((uint32_t)k[4] << 16) | ((uint32_t)k[5] << 8) | k[6]) + k[7] * 16777216.0, now);
      else if (k[0] != 8 && k[0] != 18 && k[0] != 'F') c->bad++;
      return;
    }
    if (c->keeplen >= SEQOFF + 4 && !memcmp(k + SEQOFF - 8, "mfhd", 4)) {
      uint32_t s = (uint32_t)k[SEQOFF] << 24 | (uint32_t)k[SEQOFF + 1] << 16 | (uint32_t)k[SEQOFF + 2] << 8 | k[SEQOFF + 3];
      record(c, s, now);
      note_seq(c, s, now);
    } else if (!(c->keeplen >= 8 && !memcmp(k + 4, "ftyp", 4))) c->bad++;
  } else if (c->opcode == 1) {
    if (c->keeplen >= 14 && !memcmp(k + 9, "skip", 4)) record(c, -1, now);
  } else if (c->opcode == 9) {
    unsigned char f[6 + KEEPMAX];
    int len = c->keeplen;
    f[0] = 0x8a; f[1] = 0x80 | len; f[2] = f[3] = f[4] = f[5] = 0;
    memcpy(f + 6, k, len);
    if (write(c->fd, f, 6 + len) < 0) { /* viewer is going away anyway */ }
  } else if (c->opcode == 8) {
    c->phase = CLOSED;
  }
}

static void parse(conn_t *c, unsigned char *buf, int n, double now) {
  int p = 0;
  while (p < n) {
    if (c->phase == HEADER) {
      c->hdr[c->hdrlen++] = buf[p++];
      if (c->hdrlen < 2) continue;
      int l7 = c->hdr[1] & 0x7f;
      int need = l7 == 126 ? 4 : l7 == 127 ? 10 : 2;
      /* take the rest of the header straight from the buffer when it is there */
      while (c->hdrlen < need && p < n) c->hdr[c->hdrlen++] = buf[p++];
      if (c->hdrlen < need) continue;
      uint64_t len = l7;
      if (l7 == 126) len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
      else if (l7 == 127) { len = 0; for (int b = 0; b < 8; b++) len = len << 8 | c->hdr[2 + b]; }
      if (!(c->hdr[0] & 0x80)) c->bad++;
      c->opcode = c->hdr[0] & 0x0f;
      c->hdrlen = 0;
      c->left = len;
      c->keeplen = 0;
      c->keepwant = len < (uint64_t)KEEP ? (int)len : KEEP;
      c->phase = PAYLOAD;
      if (len == 0) { c->phase = HEADER; on_message(c, now); }
      continue;
    }
    if (c->phase == PAYLOAD) {
      uint64_t take = n - p;
      if (take > c->left) take = c->left;
      if (c->keeplen < c->keepwant) {
        int m = c->keepwant - c->keeplen;
        if ((uint64_t)m > take) m = (int)take;
        memcpy(c->keep + c->keeplen, buf + p, m);
        c->keeplen += m;
      }
      p += take;
      c->left -= take;
      if (c->left == 0) { c->phase = HEADER; on_message(c, now); }
      continue;
    }
    if (c->phase == HANDSHAKE) {
      int m = n - p;
      int room = (int)sizeof(c->hs) - 1 - c->hslen;
      if (m > room) m = room;
      memcpy(c->hs + c->hslen, buf + p, m);
      int old = c->hslen;
      c->hslen += m;
      char *end = memmem(c->hs, c->hslen, "\r\n\r\n", 4);
      if (!end) { if (c->hslen >= (int)sizeof(c->hs) - 1) fail(c); return; }
      if (strncmp(c->hs, "HTTP/1.1 101", 12)) { fail(c); return; }
      int consumed = (int)(end + 4 - c->hs) - old;
      c->phase = HEADER;
      joined++;
      inflight--;
      last_join = now;
      if (c->slow) c->slow_start = now;
      pump();
      report_join();
      p += consumed;
      continue;
    }
    return;
  }
}

static void fail(conn_t *c) {
  if (c->failed) return;
  c->failed = 1;
  failed++;
  if (c->phase == CONNECTING || c->phase == HANDSHAKE) { inflight--; }
  c->phase = CLOSED;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  pump();
  report_join();
}

static void open_conn(conn_t *c) {
  inflight++;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->phase = CONNECTING;
  int r = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
  if (r < 0 && errno != EINPROGRESS) { fail(c); return; }
  struct epoll_event e = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)c->idx};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
}

static void pump(void) {
  while (inflight < 256 && next_conn < N) open_conn(&conns[next_conn++]);
}

static void send_request(conn_t *c) {
  static const char *keys[] = {"dGhlIHNhbXBsZSBub25jZQ==", "x3JJHMbDL1EzLkh9GBhXDw==", "AQIDBAUGBwgJCgsMDQ4PEA=="};
  char req[512];
  int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    path, port, keys[c->idx % 3]);
  if (write(c->fd, req, rl) != rl) { fail(c); return; }
  c->phase = HANDSHAKE;
  struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)c->idx};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void dump(const char *file) {
  FILE *f = fopen(file, "wb");
  uint32_t n = N;
  fwrite("NCAR", 1, 4, f);
  fwrite(&n, 4, 1, f);
  for (int i = 0; i < N; i++) {
    conn_t *c = &conns[i];
    uint32_t h[4] = {(uint32_t)c->idx, (uint32_t)((c->slow ? 1 : 0) | (c->phase == CLOSED && !c->failed ? 2 : 0) | (c->failed ? 4 : 0)), c->count, c->bad};
    fwrite(h, 4, 4, f);
    fwrite(c->keys, 8, c->count, f);
    fwrite(c->times, 8, c->count, f);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc < 10) { fprintf(stderr, "usage: client PORT PATH N MODE SEQOFF SLOW_EVERY SLOW_BPS MAXS OUT\n"); return 2; }
  port = atoi(argv[1]);
  path = argv[2];
  N = atoi(argv[3]);
  FLV = !strcmp(argv[4], "flv");
  SEQOFF = atoi(argv[5]);
  SLOW_EVERY = atoi(argv[6]);
  SLOW_BPS = atof(argv[7]);
  double maxs = atof(argv[8]);
  const char *out = argv[9];
  ACK_MS = argc > 10 ? atof(argv[10]) : 0;
  if (argc > 11) ACK_GEN = atoi(argv[11]);
  SPIN = argc > 12 && strchr(argv[12], 's') != NULL;
  QUICKACK = argc > 12 && strchr(argv[12], 'q') != NULL;
  KEEP = FLV ? 8 : SEQOFF + 4;
  if (KEEP < 24) KEEP = 24;
  CAP = (long)(maxs * 32) + 256;
  conns = calloc(N, sizeof(conn_t));
  for (int i = 0; i < N; i++) {
    conns[i].idx = i;
    conns[i].slow = SLOW_EVERY > 0 && i % SLOW_EVERY == SLOW_EVERY - 1;
    conns[i].keys = malloc(CAP * 8);
    conns[i].times = malloc(CAP * 8);
  }
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ep = epoll_create1(0);
  struct epoll_event se = {.events = EPOLLIN, .data.u32 = 0xffffffffu};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &se);
  printf("{\"event\":\"started\",\"pid\":%d,\"n\":%d}\n", getpid(), N);
  fflush(stdout);
  first_connect = mono_ms();
  pump();
  static unsigned char fast[256 * 1024], slowbuf[8 * 1024];
  struct epoll_event evs[1024];
  double t_start = mono_ms();
  int stop = 0, npaused = 0;
  while (!stop && mono_ms() - t_start < maxs * 1000) {
    int n = epoll_wait(ep, evs, 1024, SPIN ? 0 : npaused ? 5 : 200);
    double now = mono_ms();
    static double last_progress = 0;
    if (!join_reported && now - last_progress >= 1000) {
      last_progress = now;
      printf("{\"event\":\"progress\",\"joined\":%d,\"failed\":%d,\"ms\":%.0f}\n", joined, failed, now - first_connect);
      fflush(stdout);
    }
    for (int i = 0; i < n; i++) {
      uint32_t id = evs[i].data.u32;
      if (id == 0xffffffffu) {
        char line[256];
        int r = read(0, line, sizeof line - 1);
        if (r <= 0) stop = 1;
        else { line[r] = 0; if (strstr(line, "stop")) stop = 1; }
        continue;
      }
      conn_t *c = &conns[id];
      if (c->phase == CLOSED) continue;
      if (c->phase == CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) { fail(c); continue; }
        send_request(c);
        continue;
      }
      unsigned char *buf = c->slow ? slowbuf : fast;
      int cap = c->slow ? (int)sizeof slowbuf : (int)sizeof fast;
      int r = read(c->fd, buf, cap);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        if (c->phase == HANDSHAKE) fail(c);
        else { c->phase = CLOSED; epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); }
        continue;
      }
      if (r < 0) continue;
      reads++;
      bytes_in += r;
      parse(c, buf, r, now);
      if (c->slow && c->slow_start > 0 && c->phase != CLOSED) {
        c->read_bytes += r;
        double allowed = SLOW_BPS / 8 * (now - c->slow_start) / 1000;
        if (c->read_bytes > allowed) {
          double wait = (c->read_bytes - allowed) * 8 / SLOW_BPS * 1000;
          c->resume_at = now + (wait > 2000 ? 2000 : wait);
          c->paused = 1;
          npaused++;
          struct epoll_event e = {.events = 0, .data.u32 = id};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
        }
      }
    }
    static double last_ack_scan = 0;
    if (ACK_MS > 0 && now - last_ack_scan >= 50) {
      /* the ack after a burst: a viewer whose newest chunk is not acked yet, once it may */
      last_ack_scan = now;
      for (int i = 0; i < N; i++) {
        conn_t *c = &conns[i];
        if (c->ack_pending && !c->paused && c->phase != CLOSED && now - c->ack_at >= ACK_MS) send_ack(c, now);
      }
    }
    if (npaused) {
      for (int i = 0; i < N; i++) {
        conn_t *c = &conns[i];
        if (c->paused && now >= c->resume_at) {
          c->paused = 0;
          npaused--;
          if (c->phase == CLOSED) continue;
          struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
        }
      }
    }
  }
  recording = 0;
  dump(out);
  int closed = 0;
  for (int i = 0; i < N; i++) if (conns[i].phase == CLOSED && !conns[i].failed) closed++;
  printf("{\"event\":\"done\",\"joined\":%d,\"failed\":%d,\"closed\":%d,\"frames\":%ld,\"reads\":%ld,\"bytesIn\":%.0f,\"acks\":%ld}\n", joined, failed, closed, frames, reads, bytes_in, acks);
  fflush(stdout);
  return 0;
}
