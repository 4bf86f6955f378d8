/* The wall time of an operation's loop, for `ci/callgrind-ops.sh --wall`:
 * both programs read the clock before and after the operation they run
 * (set-up and tear-down left out, which callgrind's N = 0 run cancels
 * instead) and, with OPS_WALL set in the environment, print the
 * nanoseconds on standard output. */
#ifndef OPS_WALL_H
#define OPS_WALL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Monotonic nanoseconds. */
static inline long long ops_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Prints the nanoseconds since `started` if OPS_WALL is set. */
static inline void ops_report_wall(long long started) {
    long long elapsed = ops_now_ns() - started;
    if (getenv("OPS_WALL") != NULL) printf("%lld\n", elapsed);
}

#endif
