/* Memcheck client requests for objheap's pooled blocks (feature "valgrind").
 * Each function is a no-op costing a few instructions when not run under
 * valgrind. See src/valgrind.rs for when objheap calls them. */
#include <stddef.h>
#include <valgrind/memcheck.h>

void objheap_vg_create_pool(void *pool) { VALGRIND_CREATE_MEMPOOL(pool, 0, 0); }
void objheap_vg_destroy_pool(void *pool) { VALGRIND_DESTROY_MEMPOOL(pool); }
void objheap_vg_pool_alloc(void *pool, void *p, size_t n) { VALGRIND_MEMPOOL_ALLOC(pool, p, n); }
void objheap_vg_pool_free(void *pool, void *p) { VALGRIND_MEMPOOL_FREE(pool, p); }
void objheap_vg_make_defined(void *p, size_t n) { (void)VALGRIND_MAKE_MEM_DEFINED(p, n); }
void objheap_vg_make_noaccess(void *p, size_t n) { (void)VALGRIND_MAKE_MEM_NOACCESS(p, n); }
