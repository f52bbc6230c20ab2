// The processes of the isolation benchmark (bench/isolation.bench.ts): one binary, one mode per pod role.
// Every mode prints "ready" and blocks on stdin until the benchmark has moved it into its cgroups and writes a line,
// so all its CPU time, memory and I/O are charged there. Each child dies with its parent (PR_SET_PDEATHSIG).
// Results go to stdout as text lines; latencies are nanoseconds from CLOCK_MONOTONIC.
//   lscpu   PERIOD_US WORK_US DURATION_MS   LS service: wakes on an absolute timetable, burns WORK_US of its own CPU
//                                           time, records "s <wake delay> <response>" measured from the intended
//                                           start (open loop: a late request does not move the next one)
//   spin                                    BE: spins until killed
//   memtouch WS_MB PERIOD_US DURATION_MS    LS: touches WS_MB once ("warm"), then one write per page in a pass
//                                           every PERIOD_US, records "s <pass ns>" and the minor/major faults of
//                                           the measured phase
//   memhog  STEP_MB STEP_MS MAX_MB          BE: allocates and touches STEP_MB every STEP_MS, "a <total MB>" each step,
//                                           until killed or MAX_MB (then holds)
//   ioread  FILE FILE_MB PERIOD_US DURATION_MS   LS: 4 KiB O_DIRECT reads at random aligned offsets on a fixed
//                                           timetable, "s <latency from intended start> <service time>"
//   iowrite FILE FILE_MB DURATION_MS        BE: sequential 1 MiB O_DIRECT writes (wrapping), "bytes <n>" at the end
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t t) {
  struct timespec ts = {.tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static void die(const char *what) {
  fprintf(stderr, "workloads: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* Handshake: the parent moves us into our cgroups between these two lines. */
static void ready_then_wait(void) {
  printf("ready %d\n", getpid());
  fflush(stdout);
  char line[64];
  if (fgets(line, sizeof line, stdin) == NULL) exit(0);
}

static int64_t *samples_a, *samples_b;
static size_t nsamples, capacity;

static void record(int64_t a, int64_t b) {
  if (nsamples == capacity) {
    capacity = capacity ? capacity * 2 : 16384;
    samples_a = realloc(samples_a, capacity * sizeof *samples_a);
    samples_b = realloc(samples_b, capacity * sizeof *samples_b);
    if (!samples_a || !samples_b) die("realloc");
  }
  samples_a[nsamples] = a;
  samples_b[nsamples] = b;
  nsamples++;
}

static void print_samples(int two) {
  for (size_t i = 0; i < nsamples; i++) {
    if (two)
      printf("s %lld %lld\n", (long long)samples_a[i], (long long)samples_b[i]);
    else
      printf("s %lld\n", (long long)samples_a[i]);
  }
}

static int lscpu(int64_t period_us, int64_t work_us, int64_t duration_ms) {
  int64_t period = period_us * 1000, work = work_us * 1000;
  int64_t start = now_ns(CLOCK_MONOTONIC) + period;
  int64_t end = start + duration_ms * 1000000LL;
  int64_t cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
  for (int64_t i = 0;; i++) {
    int64_t intended = start + i * period;
    if (intended >= end) break;
    sleep_until(intended);
    int64_t woke = now_ns(CLOCK_MONOTONIC);
    int64_t spin_from = now_ns(CLOCK_THREAD_CPUTIME_ID);
    while (now_ns(CLOCK_THREAD_CPUTIME_ID) - spin_from < work) {
    }
    int64_t done = now_ns(CLOCK_MONOTONIC);
    record(woke - intended, done - intended);
  }
  print_samples(1);
  printf("cpu_ns %lld\n", (long long)(now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0));
  return 0;
}

_Noreturn static void spin(void) {
  volatile uint64_t n = 0;
  for (;;) n++;
}

static int memtouch(int64_t ws_mb, int64_t period_us, int64_t duration_ms) {
  size_t size = (size_t)ws_mb << 20;
  long page = sysconf(_SC_PAGESIZE);
  volatile char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) die("mmap");
  for (size_t off = 0; off < size; off += page) mem[off] = 1;
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  printf("warm\n");
  fflush(stdout);
  int64_t start = now_ns(CLOCK_MONOTONIC);
  int64_t end = start + duration_ms * 1000000LL;
  char v = 2;
  for (int64_t i = 0;; i++, v++) {
    int64_t intended = start + i * period_us * 1000;
    if (intended >= end) break;
    sleep_until(intended);
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    for (size_t off = 0; off < size; off += page) mem[off] = v;
    record(now_ns(CLOCK_MONOTONIC) - t0, 0);
  }
  getrusage(RUSAGE_SELF, &after);
  print_samples(0);
  printf("faults %ld %ld\n", after.ru_minflt - before.ru_minflt, after.ru_majflt - before.ru_majflt);
  return 0;
}

_Noreturn static void memhog(int64_t step_mb, int64_t step_ms, int64_t max_mb) {
  long page = sysconf(_SC_PAGESIZE);
  int64_t total = 0;
  while (total + step_mb <= max_mb) {
    size_t size = (size_t)step_mb << 20;
    char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) die("mmap");
    for (size_t off = 0; off < size; off += page) mem[off] = 1;
    total += step_mb;
    printf("a %lld\n", (long long)total);
    fflush(stdout);
    usleep((useconds_t)(step_ms * 1000));
  }
  for (;;) pause();
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t xorshift(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static int ioread(const char *file, int64_t file_mb, int64_t period_us, int64_t duration_ms) {
  int fd = open(file, O_RDONLY | O_DIRECT);
  if (fd < 0) die(file);
  void *buf;
  if (posix_memalign(&buf, 4096, 4096) != 0) die("posix_memalign");
  uint64_t blocks = (uint64_t)file_mb * 256;
  rng_state ^= (uint64_t)getpid() * 2654435761ULL;
  int64_t period = period_us * 1000;
  int64_t start = now_ns(CLOCK_MONOTONIC) + period;
  int64_t end = start + duration_ms * 1000000LL;
  for (int64_t i = 0;; i++) {
    int64_t intended = start + i * period;
    if (intended >= end) break;
    sleep_until(intended);
    int64_t issued = now_ns(CLOCK_MONOTONIC);
    off_t offset = (off_t)(xorshift() % blocks) * 4096;
    if (pread(fd, buf, 4096, offset) != 4096) die("pread");
    int64_t done = now_ns(CLOCK_MONOTONIC);
    record(done - intended, done - issued);
  }
  print_samples(1);
  return 0;
}

static int iowrite(const char *file, int64_t file_mb, int64_t duration_ms) {
  int fd = open(file, O_WRONLY | O_DIRECT);
  if (fd < 0) die(file);
  void *buf;
  if (posix_memalign(&buf, 4096, 1 << 20) != 0) die("posix_memalign");
  memset(buf, 0x5a, 1 << 20);
  int64_t end = now_ns(CLOCK_MONOTONIC) + duration_ms * 1000000LL;
  int64_t written = 0;
  off_t offset = 0, size = (off_t)file_mb << 20;
  while (now_ns(CLOCK_MONOTONIC) < end) {
    if (pwrite(fd, buf, 1 << 20, offset) != 1 << 20) die("pwrite");
    written += 1 << 20;
    offset = (offset + (1 << 20)) % size;
  }
  printf("bytes %lld\n", (long long)written);
  return 0;
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1; /* the parent died before prctl */
  if (argc < 2) {
    fprintf(stderr, "usage: workloads MODE ARGS\n");
    return 2;
  }
  const char *mode = argv[1];
#define ARG(i) (argc > (i) ? strtoll(argv[i], NULL, 10) : 0)
  ready_then_wait();
  if (!strcmp(mode, "lscpu") && argc == 5) return lscpu(ARG(2), ARG(3), ARG(4));
  if (!strcmp(mode, "spin")) spin();
  if (!strcmp(mode, "memtouch") && argc == 5) return memtouch(ARG(2), ARG(3), ARG(4));
  if (!strcmp(mode, "memhog") && argc == 5) memhog(ARG(2), ARG(3), ARG(4));
  if (!strcmp(mode, "ioread") && argc == 6) return ioread(argv[2], ARG(3), ARG(4), ARG(5));
  if (!strcmp(mode, "iowrite") && argc == 5) return iowrite(argv[2], ARG(3), ARG(4));
  fprintf(stderr, "workloads: bad mode or arguments: %s\n", mode);
  return 2;
}
