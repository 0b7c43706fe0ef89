// The container's seccomp filter for berth-exec: the program runc 1.1
// installs, compiled once per profile and kept in a cache.
#ifndef BERTH_EXEC_SECCOMP_H
#define BERTH_EXEC_SECCOMP_H

#include <jansson.h>
#include <linux/filter.h>
#include <stddef.h>

struct bpf_prog {
  struct sock_filter *insns;
  size_t len;
};

// 1: the profile uses something berth-exec leaves to runc (a notify
// action, an unknown architecture); 0 otherwise.
int seccomp_needs_runc(json_t *profile);

// Fills prog with the filter for runc's libcontainer profile (state.json's
// config.seccomp), from cacheDir when it was compiled before (cacheDir may
// be NULL: no cache). 0 on success; -1 with a message in err.
int seccomp_program(json_t *profile, const char *cacheDir, struct bpf_prog *prog, char *err, size_t errlen);

#endif
