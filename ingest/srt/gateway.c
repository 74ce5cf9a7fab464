// Nowcast's SRT gateway: one libsrt listener that takes many callers on one UDP port.
// Node runs one per configured port (ingest/srt/gateway.ts) and decides who gets in: each
// caller's handshake is held in libsrt's listen callback while Node answers over stdin, so a
// refused caller is rejected in the handshake with a reason code (1401, 1403, ...), never
// accepted and then dropped. Accepted callers' MPEG-TS goes to Node as frames on stdout.
//
//   argv:   HOST PORT LATENCY_MS IDLE_TIMEOUT_MS MAX_CALLERS DECIDE_TIMEOUT_MS   (no secrets)
//   stdin:  "P <hex passphrase>\n" first (empty: no encryption), then "A <id> <code>\n"
//           (0 accepts, else a rejection code) and "K <id>\n" (close a caller). EOF: exit.
//   stdout: frames [type u8][id u32 BE][length u32 BE][payload]:
//           'L' listening, 'R' handshake to decide ("ADDRESS\nSTREAMID"), 'O' caller open,
//           'D' MPEG-TS bytes, 'X' caller gone, 'F' fatal (message; the process exits 1).
// The passphrase never touches argv or a log line.
#include <srt/srt.h>
#include <srt/access_control.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING 64
#define MAX_OPEN 1024
#define MAX_KICKS 256
#define LINE_MAX_CHARS 512

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t decided = PTHREAD_COND_INITIALIZER;

/* Handshakes waiting for Node's word: id, and the answer once it came (-1: none yet). */
static struct { SRTSOCKET id; int code; int used; } pending[MAX_PENDING];
static SRTSOCKET kicks[MAX_KICKS];
static int nkicks = 0;
static SRTSOCKET open_ids[MAX_OPEN];
static int nopen = 0;
static int max_callers = 64;
static int decide_timeout_ms = 1000;

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* One whole frame, never interleaved with another thread's. A dead reader (EPIPE) ends us. */
static void frame(char type, SRTSOCKET id, const void *data, uint32_t len) {
  unsigned char head[9];
  head[0] = (unsigned char)type;
  put_u32(head + 1, (uint32_t)id);
  put_u32(head + 5, len);
  pthread_mutex_lock(&out_lock);
  const unsigned char *parts[2] = { head, data };
  size_t sizes[2] = { sizeof head, len };
  for (int i = 0; i < 2; i++) {
    size_t off = 0;
    while (off < sizes[i]) {
      ssize_t n = write(1, parts[i] + off, sizes[i] - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(0);
      off += (size_t)n;
    }
  }
  pthread_mutex_unlock(&out_lock);
}

static void fatal(const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, srt_getlasterror_str());
  frame('F', 0, msg, (uint32_t)strlen(msg));
  exit(1);
}

static void address(const struct sockaddr *sa, char *out, size_t size) {
  out[0] = 0;
  if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, size);
  else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, size);
}

/* libsrt calls this during a caller's handshake, on its receiving thread: asks Node, waits for
 * the answer a bounded time (no answer refuses), and accepts or rejects with Node's code. */
static int on_handshake(void *opaque, SRTSOCKET ns, int hsversion, const struct sockaddr *peer, const char *streamid) {
  (void)opaque; (void)hsversion;
  int slot = -1;
  pthread_mutex_lock(&state_lock);
  if (nopen < max_callers) {
    for (int i = 0; i < MAX_PENDING; i++) if (!pending[i].used) { slot = i; break; }
  }
  if (slot >= 0) { pending[slot].used = 1; pending[slot].id = ns; pending[slot].code = -1; }
  pthread_mutex_unlock(&state_lock);
  if (slot < 0) { srt_setrejectreason(ns, SRT_REJX_OVERLOAD); return -1; }

  char addr[INET6_ADDRSTRLEN + 1];
  address(peer, addr, sizeof addr);
  char msg[INET6_ADDRSTRLEN + 2 + 512 + 1];
  size_t sid = strnlen(streamid ? streamid : "", 512);
  int n = snprintf(msg, sizeof msg, "%s\n", addr);
  memcpy(msg + n, streamid ? streamid : "", sid);
  frame('R', ns, msg, (uint32_t)(n + (int)sid));

  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += decide_timeout_ms / 1000;
  until.tv_nsec += (long)(decide_timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
  pthread_mutex_lock(&state_lock);
  while (pending[slot].code < 0) {
    if (pthread_cond_timedwait(&decided, &state_lock, &until) == ETIMEDOUT) break;
  }
  int code = pending[slot].code;
  pending[slot].used = 0;
  pthread_mutex_unlock(&state_lock);
  if (code == 0) return 0;
  srt_setrejectreason(ns, code < 0 ? SRT_REJX_OVERLOAD : code);
  return -1;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Node's answers and kicks. EOF means Node is gone: so are we. */
static void *read_commands(void *arg) {
  (void)arg;
  char line[LINE_MAX_CHARS];
  while (fgets(line, sizeof line, stdin)) {
    long id = 0, code = 0;
    if (sscanf(line, "A %ld %ld", &id, &code) == 2) {
      pthread_mutex_lock(&state_lock);
      for (int i = 0; i < MAX_PENDING; i++) {
        if (pending[i].used && pending[i].id == (SRTSOCKET)id) pending[i].code = code < 0 ? SRT_REJX_FORBIDDEN : (int)code;
      }
      pthread_cond_broadcast(&decided);
      pthread_mutex_unlock(&state_lock);
    } else if (sscanf(line, "K %ld", &id) == 1) {
      pthread_mutex_lock(&state_lock);
      if (nkicks < MAX_KICKS) kicks[nkicks++] = (SRTSOCKET)id;
      pthread_mutex_unlock(&state_lock);
    }
  }
  _exit(0);
  return NULL;
}

/* The first stdin line: the passphrase, hex-encoded so any character survives. */
static void read_passphrase(char *out, size_t size) {
  char line[LINE_MAX_CHARS];
  out[0] = 0;
  if (!fgets(line, sizeof line, stdin) || line[0] != 'P') { frame('F', 0, "expected the passphrase line", 28); exit(1); }
  size_t n = 0;
  for (const char *p = line + 1; *p == ' ';) {
    p++;
    while (hexval(p[0]) >= 0 && hexval(p[1]) >= 0 && n + 1 < size) { out[n++] = (char)(hexval(p[0]) * 16 + hexval(p[1])); p += 2; }
    break;
  }
  out[n] = 0;
  memset(line, 0, sizeof line);
}

static void set_int(SRTSOCKET s, SRT_SOCKOPT opt, int v, const char *what) {
  if (srt_setsockflag(s, opt, &v, sizeof v) != 0) fatal(what);
}

static void forget(int eid, SRTSOCKET s) {
  srt_epoll_remove_usock(eid, s);
  srt_close(s);
  pthread_mutex_lock(&state_lock);
  for (int i = 0; i < nopen; i++) if (open_ids[i] == s) { open_ids[i] = open_ids[--nopen]; break; }
  pthread_mutex_unlock(&state_lock);
  frame('X', s, NULL, 0);
}

int main(int argc, char **argv) {
  if (argc != 7) { fprintf(stderr, "usage: %s HOST PORT LATENCY_MS IDLE_TIMEOUT_MS MAX_CALLERS DECIDE_TIMEOUT_MS\n", argv[0]); return 2; }
  signal(SIGPIPE, SIG_IGN);
  const char *host = argv[1], *port = argv[2];
  int latency = atoi(argv[3]), idle = atoi(argv[4]);
  max_callers = atoi(argv[5]);
  decide_timeout_ms = atoi(argv[6]);
  if (max_callers < 1 || max_callers > MAX_OPEN) max_callers = MAX_OPEN;

  char passphrase[80];
  read_passphrase(passphrase, sizeof passphrase);
  srt_startup();
  srt_setloglevel(2); /* LOG_CRIT: libsrt's own log goes to stderr, which Node logs */

  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
  struct addrinfo *ai = NULL;
  if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) { frame('F', 0, "bad listen address", 18); return 1; }

  SRTSOCKET lsn = srt_create_socket();
  if (lsn == SRT_INVALID_SOCK) fatal("srt_create_socket");
  int no = 0;
  set_int(lsn, SRTO_RCVSYN, no, "SRTO_RCVSYN");
  set_int(lsn, SRTO_TRANSTYPE, SRTT_LIVE, "SRTO_TRANSTYPE");
  set_int(lsn, SRTO_RCVLATENCY, latency, "SRTO_RCVLATENCY");
  set_int(lsn, SRTO_PEERIDLETIMEO, idle, "SRTO_PEERIDLETIMEO");
  if (passphrase[0]) {
    if (srt_setsockflag(lsn, SRTO_PASSPHRASE, passphrase, (int)strlen(passphrase)) != 0) fatal("SRTO_PASSPHRASE");
    set_int(lsn, SRTO_PBKEYLEN, 16, "SRTO_PBKEYLEN");
  }
  memset(passphrase, 0, sizeof passphrase);
  if (srt_bind(lsn, ai->ai_addr, (int)ai->ai_addrlen) != 0) fatal("bind");
  freeaddrinfo(ai);
  if (srt_listen_callback(lsn, on_handshake, NULL) != 0) fatal("srt_listen_callback");
  if (srt_listen(lsn, 16) != 0) fatal("listen");

  int eid = srt_epoll_create();
  int in = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  srt_epoll_add_usock(eid, lsn, &in);
  pthread_t reader;
  pthread_create(&reader, NULL, read_commands, NULL);
  frame('L', 0, NULL, 0);

  static char buf[1500];
  SRT_EPOLL_EVENT ev[64];
  for (;;) {
    /* Kicks from Node: closed here, on the thread that owns the epoll set. */
    SRTSOCKET kicked[MAX_KICKS];
    pthread_mutex_lock(&state_lock);
    int nk = nkicks;
    memcpy(kicked, kicks, sizeof(SRTSOCKET) * (size_t)nk);
    nkicks = 0;
    pthread_mutex_unlock(&state_lock);
    for (int i = 0; i < nk; i++) {
      int known = 0;
      pthread_mutex_lock(&state_lock);
      for (int j = 0; j < nopen; j++) if (open_ids[j] == kicked[i]) known = 1;
      pthread_mutex_unlock(&state_lock);
      if (known) forget(eid, kicked[i]);
    }

    int n = srt_epoll_uwait(eid, ev, 64, 100);
    for (int i = 0; i < n; i++) {
      SRTSOCKET s = ev[i].fd;
      if (s == lsn) {
        for (;;) {
          struct sockaddr_storage peer;
          int len = sizeof peer;
          SRTSOCKET c = srt_accept(lsn, (struct sockaddr *)&peer, &len);
          if (c == SRT_INVALID_SOCK) break;
          pthread_mutex_lock(&state_lock);
          int room = nopen < MAX_OPEN;
          if (room) open_ids[nopen++] = c;
          pthread_mutex_unlock(&state_lock);
          if (!room) { srt_close(c); continue; }
          srt_epoll_add_usock(eid, c, &in);
          frame('O', c, NULL, 0);
        }
        continue;
      }
      int gone = (ev[i].events & SRT_EPOLL_ERR) != 0;
      while (!gone) {
        int got = srt_recvmsg(s, buf, sizeof buf);
        if (got > 0) { frame('D', s, buf, (uint32_t)got); continue; }
        if (got == SRT_ERROR && srt_getlasterror(NULL) == SRT_EASYNCRCV) break;
        gone = 1;
      }
      if (gone || srt_getsockstate(s) >= SRTS_BROKEN) forget(eid, s);
    }
  }
}
