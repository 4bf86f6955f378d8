/* Memcheck client requests for objheap's pooled blocks (feature "valgrind").
 * Each function is a no-op costing a few instructions when not run under
 * valgrind. See src/valgrind.rs for when objheap calls them. */
#include <stddef.h>
#include <valgrind/memcheck.h>

void objheap_vg_malloclike(void *p, size_t n) { VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 0); }
void objheap_vg_freelike(void *p) { VALGRIND_FREELIKE_BLOCK(p, 0); }
void objheap_vg_make_defined(void *p, size_t n) { (void)VALGRIND_MAKE_MEM_DEFINED(p, n); }
void objheap_vg_make_noaccess(void *p, size_t n) { (void)VALGRIND_MAKE_MEM_NOACCESS(p, n); }
