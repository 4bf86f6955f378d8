/* objffi.h's inline call-site cache hits as functions the differential
 * model (src/model.rs, in Rust, which cannot compile C's inline
 * functions) calls, so that its random call sequences check them against
 * the reference model as they do the exported calls. */
#include "objffi.h"

obj_status_t objffi_test_getattr_cached_inline(obj_t *o, obj_t *name, obj_attr_cache_t *cache,
                                               obj_t **out);
obj_status_t objffi_test_setattr_cached_inline(obj_t *o, obj_t *name, obj_t *value,
                                               obj_attr_cache_t *cache);
obj_status_t objffi_test_getattr_inline(obj_t *o, obj_t *name, obj_t **out);
obj_status_t objffi_test_setattr_inline(obj_t *o, obj_t *name, obj_t *value);

obj_status_t objffi_test_getattr_cached_inline(obj_t *o, obj_t *name, obj_attr_cache_t *cache,
                                               obj_t **out) {
    return obj_getattr_cached_inline(o, name, cache, out);
}

obj_status_t objffi_test_setattr_cached_inline(obj_t *o, obj_t *name, obj_t *value,
                                               obj_attr_cache_t *cache) {
    return obj_setattr_cached_inline(o, name, value, cache);
}

obj_status_t objffi_test_getattr_inline(obj_t *o, obj_t *name, obj_t **out) {
    return obj_getattr_inline(o, name, out);
}

obj_status_t objffi_test_setattr_inline(obj_t *o, obj_t *name, obj_t *value) {
    return obj_setattr_inline(o, name, value);
}
