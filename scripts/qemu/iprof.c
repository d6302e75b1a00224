/* iprof: a QEMU TCG plugin (QEMU 7.2, plugin API v1) that counts guest
 * instructions per translated block and, at exit, writes one line per block
 * "VADDR NINSNS EXECUTIONS" to the file named by the out=FILE argument.
 * scripts/iprof maps the blocks to the binary's
 * symbols. Counts are approximate with several guest threads (the inline
 * counters are not atomic), like ../shared/tools/qemu-icount. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
#define EXPORT __attribute__((visibility("default")))
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, void (*)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op, void *, uint64_t);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, void (*)(qemu_plugin_id_t, void *), void *);
EXPORT int qemu_plugin_version = 1;

struct block {
  uint64_t vaddr, n, execs;
  struct block *next;
};
static struct block *blocks;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char out[4096] = "iprof.out";

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  struct block *b = calloc(1, sizeof *b);
  if (!b) return;
  b->vaddr = qemu_plugin_tb_vaddr(tb);
  b->n = qemu_plugin_tb_n_insns(tb);
  pthread_mutex_lock(&mu);
  b->next = blocks;
  blocks = b;
  pthread_mutex_unlock(&mu);
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->execs, 1);
}

static void at_exit(qemu_plugin_id_t id, void *p) {
  FILE *f = fopen(out, "w");
  if (!f) { perror(out); return; }
  for (struct block *b = blocks; b; b = b->next)
    if (b->execs) fprintf(f, "%llx %llu %llu\n", (unsigned long long)b->vaddr, (unsigned long long)b->n, (unsigned long long)b->execs);
  fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (strncmp(argv[i], "out=", 4) == 0) snprintf(out, sizeof out, "%s", argv[i] + 4);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
