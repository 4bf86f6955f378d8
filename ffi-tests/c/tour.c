/* A tour of objrt's C API, run by `cargo run --release -p ffi-tests --bin tour`.
 * Later issues add objects, types, attributes and the collector. */
#include <stdio.h>

#include "objffi.h"

int objffi_tour_main(void);

static void print_stats(const char *when, const obj_heap_stats_t *s) {
    printf("%s:\n"
           "  objects_live        %zu\n"
           "  bytes_in_use        %zu\n"
           "  bytes_reserved      %zu\n"
           "  peak_bytes_reserved %zu\n"
           "  arenas              %zu\n"
           "  pools               %zu\n"
           "  large_blocks        %zu\n"
           "  memory_limit        %zu%s\n",
           when, s->objects_live, s->bytes_in_use, s->bytes_reserved, s->peak_bytes_reserved,
           s->arenas, s->pools, s->large_blocks, s->memory_limit,
           s->memory_limit == 0 ? " (none)" : "");
}

/* Prints the failure and returns 1 when `status` is not OBJ_OK. */
static int failed(const char *call, obj_status_t status) {
    if (status == OBJ_OK) {
        return 0;
    }
    fprintf(stderr, "%s failed: %s: %s\n", call, obj_status_name(status), obj_last_error());
    return 1;
}

int objffi_tour_main(void) {
    printf("objrt tour (objffi %d.%d.%d)\n\n", OBJFFI_VERSION_MAJOR, OBJFFI_VERSION_MINOR,
           OBJFFI_VERSION_PATCH);

    obj_heap_t *heap = obj_heap_new();
    if (heap == NULL) {
        fprintf(stderr, "obj_heap_new failed: %s\n", obj_last_error());
        return 1;
    }
    obj_heap_stats_t stats;
    if (failed("obj_heap_stats", obj_heap_stats(heap, &stats))) {
        obj_heap_free(heap);
        return 1;
    }
    print_stats("a new heap", &stats);

    if (failed("obj_heap_set_memory_limit", obj_heap_set_memory_limit(heap, (size_t)64 << 20)) ||
        failed("obj_heap_stats", obj_heap_stats(heap, &stats))) {
        obj_heap_free(heap);
        return 1;
    }
    print_stats("\nwith a 64 MiB memory limit", &stats);

    /* Errors come back as a status, with a message on the side. */
    obj_status_t status = obj_heap_stats(NULL, &stats);
    printf("\nobj_heap_stats(NULL, &stats) -> %s: %s\n", obj_status_name(status), obj_last_error());

    obj_heap_free(heap);
    printf("\nheap freed\n");
    fflush(stdout);
    return 0;
}
