/* The collector at scale (issue 13): `scale N` builds N live instances
 * through the C ABI, each pointing at the one made before it (one
 * attribute), runs full collections over them, and prints one line of
 * figures: build time per object, the pause of one full collection and
 * its time per object, the bytes in objects and the process's peak RSS,
 * and, when given a path (`scale N PATH`), the time obj_heap_snapshot
 * takes to write the heap there and the file's size (issue 15: a heap of
 * 10M objects in seconds). ci/scale.sh runs it at 1M, 10M and 100M
 * objects (snapshots up to 10M) and prints the table.
 *
 * Automatic collection is off while building, so every object is examined
 * by the timed collections and none before; the best of three full
 * collections is reported (the first also moves everything to the oldest
 * generation, the others find it there). */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "objffi.h"

static void must(obj_status_t st, const char *what) {
    if (st != OBJ_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, obj_status_name(st), obj_last_error());
        exit(2);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: scale N [SNAPSHOT_PATH]\n");
        return 2;
    }
    long n = atol(argv[1]);
    obj_heap_t *heap = obj_heap_new();
    if (heap == NULL) return 2;
    obj_gc_disable(heap);
    obj_t *cls = NULL, *x = NULL;
    must(obj_type_new(heap, "Node", NULL, 0, NULL, &cls), "Node");
    must(obj_intern(heap, "x", 1, &x), "x");

    double start = now();
    obj_t *last = obj_none(heap);
    for (long i = 0; i < n; ++i) {
        obj_t *t = NULL;
        must(obj_alloc(cls, &t), "Node()");
        must(obj_setattr(t, x, last), "t.x");
        obj_decref(last);
        last = t;
    }
    double built = now() - start;

    double best = 0;
    for (int round = 0; round < 3; ++round) {
        size_t found = 1;
        double t0 = now();
        must(obj_gc_collect(heap, -1, &found), "collect");
        double pause = now() - t0;
        if (found != 0) {
            fprintf(stderr, "collected %zu live objects\n", found);
            return 1;
        }
        if (round == 0 || pause < best) best = pause;
    }
    double snapshot_s = -1, snapshot_mib = -1;
    if (argc == 3) {
        double t0 = now();
        must(obj_heap_snapshot(heap, argv[2]), "snapshot");
        snapshot_s = now() - t0;
        struct stat st;
        if (stat(argv[2], &st) == 0) snapshot_mib = (double)st.st_size / 1048576.0;
        remove(argv[2]);
    }
    obj_heap_stats_t stats;
    must(obj_heap_stats(heap, &stats), "stats");
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    /* objects, build ns/object, pause s, collection ns/object, MiB in use,
     * peak RSS MiB, snapshot s and MiB (-1: none) */
    printf("%ld %.1f %.3f %.1f %.0f %.0f %.2f %.0f\n", n, built / (double)n * 1e9, best,
           best / (double)n * 1e9, (double)stats.bytes_in_use / 1048576.0,
           (double)usage.ru_maxrss / 1024.0, snapshot_s, snapshot_mib);
    obj_decref(last);
    obj_heap_free(heap);
    return 0;
}
