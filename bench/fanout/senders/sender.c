// The physical floor: a minimal native fan-out. One thread, epoll for accepts and handshakes,
// and for every chunk one send() of the same pre-framed WebSocket binary message to each
// viewer socket. No buffering in user space: a viewer whose kernel buffer is full (partial
// send) is dropped and counted, which never happens to a healthy viewer on loopback.
// Chunks come from the chunk file (see lib/source.ts writeChunkFile), paced at 30/s and
// looped (one chunk per loop turn), with the mfhd sequence number rewritten to a global counter in a copy made before
// the receipt time is read (CLOCK_MONOTONIC).
//
// usage: sender PORT CHUNKFILE RECEIPTS_OUT MAX_SECONDS
// stdout: {"event":"listening",...} {"event":"live"}; stdin "stop" ends it (receipts written).
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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- SHA-1 (FIPS 180-1), just for Sec-WebSocket-Accept ---- */
static uint32_t rol(uint32_t v, int b) { return (v << b) | (v >> (32 - b)); }
static void sha1(const unsigned char *msg, size_t len, unsigned char out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  size_t total = ((len + 8) / 64 + 1) * 64;
  unsigned char *m = calloc(total, 1);
  memcpy(m, msg, len);
  m[len] = 0x80;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) m[total - 1 - i] = (unsigned char)(bits >> (8 * i));
  for (size_t off = 0; off < total; off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)m[off + 4 * i] << 24 | (uint32_t)m[off + 4 * i + 1] << 16 | (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
      else { f = b ^ c ^ d; k = 0xCA62C1D6; }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d; d = c; c = rol(b, 30); b = a; a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
  }
  free(m);
  for (int i = 0; i < 5; i++) { out[4 * i] = h[i] >> 24; out[4 * i + 1] = h[i] >> 16; out[4 * i + 2] = h[i] >> 8; out[4 * i + 3] = h[i]; }
}
static void base64(const unsigned char *in, int n, char *out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int o = 0;
  for (int i = 0; i < n; i += 3) {
    uint32_t v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = t[(v >> 18) & 63];
    out[o++] = t[(v >> 12) & 63];
    out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? t[v & 63] : '=';
  }
  out[o] = 0;
}

/* ---- chunks ---- */
typedef struct { uint32_t len, keyframe; unsigned char *bytes; } chunk_t;
static chunk_t *chunks;
static uint32_t nchunks, seqoff;

static void load_chunks(const char *file) {
  FILE *f = fopen(file, "rb");
  if (!f) { perror(file); exit(1); }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *d = malloc(size);
  if (fread(d, 1, size, f) != (size_t)size) { perror("read"); exit(1); }
  fclose(f);
  if (memcmp(d, "NCFO", 4)) { fprintf(stderr, "bad chunk file\n"); exit(1); }
  memcpy(&nchunks, d + 4, 4);
  memcpy(&seqoff, d + 8, 4);
  chunks = calloc(nchunks, sizeof(chunk_t));
  long p = 12;
  for (uint32_t i = 0; i < nchunks; i++) {
    memcpy(&chunks[i].len, d + p, 4);
    memcpy(&chunks[i].keyframe, d + p + 4, 4);
    chunks[i].bytes = d + p + 8;
    p += 8 + chunks[i].len;
  }
}

/* ---- connections ---- */
enum { HANDSHAKE = 0, LIVE = 1 };
typedef struct { int fd, state, live_idx, len; char buf[4096]; } conn_t;
static conn_t *conns[1 << 17];
static int *live;
static int nlive;
static long dropped;

static void close_conn(int ep, int fd) {
  conn_t *c = conns[fd];
  if (!c) return;
  if (c->state == LIVE) {
    int last = live[--nlive];
    live[c->live_idx] = last;
    conns[last]->live_idx = c->live_idx;
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  free(c);
  conns[fd] = NULL;
}

static void on_handshake(int ep, conn_t *c) {
  int n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
  if (n <= 0) { if (n == 0 || errno != EAGAIN) close_conn(ep, c->fd); return; }
  c->len += n;
  c->buf[c->len] = 0;
  if (!strstr(c->buf, "\r\n\r\n")) { if (c->len >= (int)sizeof(c->buf) - 1) close_conn(ep, c->fd); return; }
  char *k = strcasestr(c->buf, "\nSec-WebSocket-Key:");
  if (!k) { close_conn(ep, c->fd); return; }
  k += 19;
  while (*k == ' ') k++;
  char key[128];
  int kl = 0;
  while (k[kl] && k[kl] != '\r' && kl < 60) { key[kl] = k[kl]; kl++; }
  memcpy(key + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
  unsigned char dig[20];
  sha1((unsigned char *)key, kl + 36, dig);
  char acc[32];
  base64(dig, 20, acc);
  char resp[256];
  int rl = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
  if (write(c->fd, resp, rl) != rl) { close_conn(ep, c->fd); return; }
  c->state = LIVE;
  c->live_idx = nlive;
  live[nlive++] = c->fd;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: sender PORT CHUNKFILE RECEIPTS MAXS\n"); return 2; }
  int port = atoi(argv[1]);
  const char *receipts = argv[3];
  double maxs = atof(argv[4]);
  load_chunks(argv[2]);
  live = calloc(1 << 17, sizeof(int));

  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) { perror("listen"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  ev.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  printf("{\"event\":\"listening\",\"port\":%d,\"pid\":%d}\n{\"event\":\"live\"}\n", port, getpid());
  fflush(stdout);

  const double period = 1000.0 / 30;
  long cap = (long)(maxs * 30) + 64;
  double *rt = calloc(cap, sizeof(double)), *rlag = calloc(cap, sizeof(double));
  uint32_t *rsize = calloc(cap, 4), *rkf = calloc(cap, 4);
  unsigned char *frame = malloc(16 + (1 << 24));
  double t0 = mono_ms();
  long k = 0;
  int stop = 0;
  struct epoll_event evs[512];
  static char sink[65536];
  while (!stop) {
    double now = mono_ms();
    if (now - t0 > maxs * 1000) break;
    int timeout = (int)(t0 + k * period - now);
    if (timeout < 0) timeout = 0;
    int n = epoll_wait(ep, evs, 512, timeout);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        for (;;) {
          int cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
          if (cfd < 0) break;
          if (cfd >= (1 << 17)) { close(cfd); continue; }
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn_t *c = calloc(1, sizeof(conn_t));
          c->fd = cfd;
          conns[cfd] = c;
          struct epoll_event e = {.events = EPOLLIN, .data.fd = cfd};
          epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &e);
        }
      } else if (fd == 0) {
        char line[256];
        int r = read(0, line, sizeof line - 1);
        if (r <= 0) stop = 1;
        else { line[r] = 0; if (strstr(line, "stop")) stop = 1; }
      } else if (conns[fd]) {
        conn_t *c = conns[fd];
        if (c->state == HANDSHAKE) on_handshake(ep, c);
        else {
          int r = read(fd, sink, sizeof sink); // pongs/close from the viewer: discarded
          if (r == 0 || (r < 0 && errno != EAGAIN)) close_conn(ep, fd);
        }
      }
    }
    /* One chunk per loop turn: a sender that falls behind still reads "stop"; its lag is logged. */
    if (!stop && mono_ms() >= t0 + k * period && k < cap) {
      chunk_t *ch = &chunks[k % nchunks];
      int hl;
      frame[0] = 0x82;
      if (ch->len < 126) { frame[1] = ch->len; hl = 2; }
      else if (ch->len < 65536) { frame[1] = 126; frame[2] = ch->len >> 8; frame[3] = ch->len; hl = 4; }
      else { frame[1] = 127; for (int b = 0; b < 8; b++) frame[2 + b] = (unsigned char)((uint64_t)ch->len >> (56 - 8 * b)); hl = 10; }
      memcpy(frame + hl, ch->bytes, ch->len);
      uint32_t seq = (uint32_t)(k + 1);
      unsigned char *s = frame + hl + seqoff;
      s[0] = seq >> 24; s[1] = seq >> 16; s[2] = seq >> 8; s[3] = seq;
      size_t flen = hl + ch->len;
      double t = mono_ms();
      for (int i = 0; i < nlive; i++) {
        ssize_t w = send(live[i], frame, flen, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w != (ssize_t)flen) { dropped++; close_conn(ep, live[i]); i--; }
      }
      rt[k] = t;
      rlag[k] = t - (t0 + k * period);
      rsize[k] = ch->len;
      rkf[k] = ch->keyframe;
      k++;
    }
  }
  FILE *f = fopen(receipts, "w");
  for (long i = 0; i < k; i++) fprintf(f, "%ld %.4f %u %u %.3f\n", i + 1, rt[i], rsize[i], rkf[i], rlag[i]);
  fclose(f);
  printf("{\"event\":\"stopped\",\"chunks\":%ld,\"viewers\":%d,\"dropped\":%ld}\n", k, nlive, dropped);
  fflush(stdout);
  return 0;
}
