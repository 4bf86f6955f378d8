/*
 The first words of every object, as inline counting and inline cache hits
 read them. Part of the ABI of libobjffi.so.1 (objmodel's `abi` module pins
 each offset):

     object                          type object (itself an object)
     +0  uint32_t local  ---------   +0  obj_abi_head_t head
     +4  uint32_t shared             +16 (two private words)
     +8  type  ------------------->  +32 const uintptr_t *owner --> owner token
                                     +40 uint64_t version
                                     +48 uintptr_t area_offset
                                     +56 obj_attr_cache_t *shared_sites

 `local` counts the references of the heap's owner thread; `shared` those
 of every other thread (with flags). Only the owner thread writes `local`,
 with plain stores; `*owner` is the owner thread's token (on x86-64 Linux its
 thread pointer, %fs:0), or 0 while the heap has no owner. Hosts never
 write these words themselves: use obj_incref_inline and obj_decref_inline.
 */
typedef struct obj_abi_head_t {
    uint32_t local;
    uint32_t shared;
    const struct obj_abi_type_head_t *type;
} obj_abi_head_t;

/*
 The first words of a type object: its own head, two private words, the
 address of its heap's owner word (one per heap: two objects whose types
 point at the same word are of one heap), its version, which changes
 whenever the type or a class on its MRO changes (0: none yet), and the
 byte offset of its instances' two-word attribute area (0: they have no
 __dict__), and its heap's attribute cache: the entries that obj_getattr and
 obj_setattr share (OBJ_ABI_SHARED_SITES_BITS below).
 */
typedef struct obj_abi_type_head_t {
    obj_abi_head_t head;
    const void *private_words[2];
    const uintptr_t *owner;
    uint64_t version;
    uintptr_t area_offset;
    obj_attr_cache_t *shared_sites;
} obj_abi_type_head_t;

/*
 The largest `local` count; the owner's next incref makes the object
 immortal (which the exported call does).
 */
#define OBJ_ABI_LOCAL_MAX 0xFFFFFFFDu

/*
 The `local` word of an immortal object (None, True, False, small ints,
 interned strs, built-in types): never counted, on any thread. An object
 becomes immortal only once, and stays so.
 */
#define OBJ_ABI_IMMORTAL 0xFFFFFFFFu

/*
 How obj_getattr_cached_inline and obj_setattr_cached_inline read an
 obj_attr_cache_t: which of its four words holds the version of the type
 its entry was made for, which the shape of the instance, which the name's
 address, and which says how the name was found (a tag in the low
 OBJ_ABI_CACHE_TAG_BITS bits, a payload above). Four tags are read inline:

 - OBJ_ABI_CACHE_FOUND_SLOT: a slot, at byte offset `payload` of the
   instance (it holds a value or NULL);
 - OBJ_ABI_CACHE_FOUND_INLINE_VALUE: an attribute held inline, in cell
   `payload & 1` of the two-word attribute area at byte offset
   `payload >> 1`, while the area's first word has none of the bits
   OBJ_ABI_AREA_TAGS (a cell holds a value or NULL);
 - OBJ_ABI_CACHE_FOUND_INSTANCE_VALUE: an attribute held in an array, in
   cell `payload` of the array at the attribute area's second word, while
   the area's first word equals the entry's shape word (the cell holds a
   value);
 - OBJ_ABI_CACHE_FOUND_CLASS_ATTR: a class attribute (no function), at the
   address that the found word less its tag gives, for an instance of the
   entry's shape: with the shape OBJ_ABI_CACHE_NO_DICT_SHAPE, any instance
   of a type without __dict__ (area_offset 0); with
   OBJ_ABI_CACHE_ANY_INLINE_SHAPE, any instance whose attribute area's
   first word has none of the bits OBJ_ABI_AREA_TAGS. Other shapes are
   left to the exported calls.

 An entry matches an object whose type has the entry's version (versions
 are never reused) and a name at the entry's address. Part of the ABI of
 libobjffi.so.1, as the heads above.
 */
#define OBJ_ABI_CACHE_VERSION_WORD 0
#define OBJ_ABI_CACHE_SHAPE_WORD 1
#define OBJ_ABI_CACHE_NAME_WORD 2
#define OBJ_ABI_CACHE_FOUND_WORD 3
#define OBJ_ABI_CACHE_TAG_BITS 3
#define OBJ_ABI_CACHE_FOUND_INSTANCE_VALUE 1u
#define OBJ_ABI_CACHE_FOUND_SLOT 2u
#define OBJ_ABI_CACHE_FOUND_CLASS_ATTR 3u
#define OBJ_ABI_CACHE_FOUND_INLINE_VALUE 6u
#define OBJ_ABI_CACHE_NO_DICT_SHAPE 4u
#define OBJ_ABI_CACHE_ANY_INLINE_SHAPE 5u
#define OBJ_ABI_AREA_TAGS 3u

/*
 Which entry of its heap's attribute cache (the type head's shared_sites)
 obj_getattr_inline and obj_setattr_inline use for `name` on an instance
 `o` of a type: in 64-bit arithmetic, with `shape` the token of `o`'s
 shape and `store` 1 for a store, 0 for a load, the entry at index

     ((version ^ (name >> OBJ_ABI_SHARED_SITE_NAME_SHIFT)
       ^ rotate_left(shape ^ store, OBJ_ABI_SHARED_SITE_SALT_ROTATION))
      * OBJ_ABI_SHARED_SITE_MULTIPLIER) >> (64 - OBJ_ABI_SHARED_SITES_BITS)

 The token of `o`'s shape: OBJ_ABI_CACHE_NO_DICT_SHAPE for a type without
 __dict__; else the attribute area's first word if it has any of the bits
 OBJ_ABI_AREA_TAGS; else 1, plus 1 for each of the area's two words that
 is not NULL. Part of the ABI of libobjffi.so.1, as the heads above.
 */
#define OBJ_ABI_SHARED_SITES_BITS 9
#define OBJ_ABI_SHARED_SITE_MULTIPLIER 0x9E3779B97F4A7C15ull
#define OBJ_ABI_SHARED_SITE_SALT_ROTATION 17
#define OBJ_ABI_SHARED_SITE_NAME_SHIFT 4

/*
 Defined where the inline functions below count without calling in: on
 x86-64 Linux with GCC or Clang. Elsewhere they call obj_incref and
 obj_decref.
 */
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define OBJ_INLINE_COUNTS 1
#endif

/*
 How the counting functions below are declared: always compiled into the
 caller where the compiler can be asked to (GCC and Clang), since a call
 would cost more than the counting itself.
 */
#if defined(__GNUC__) || defined(__clang__)
#define OBJ_ABI_INLINE static inline __attribute__((always_inline))
#define OBJ_ABI_LIKELY(c) __builtin_expect(!!(c), 1)
#else
#define OBJ_ABI_INLINE static inline
#define OBJ_ABI_LIKELY(c) (c)
#endif

#ifdef OBJ_INLINE_COUNTS
/*
 The calling thread's token, as the library computes it: the thread
 pointer. One instruction, which the compiler may hoist out of loops.
 */
OBJ_ABI_INLINE uintptr_t obj_abi_thread_token(void) {
    uintptr_t token;
    __asm__("movq %%fs:0, %0" : "=r"(token));
    return token;
}

/*
 Whether the calling thread owns the heap of the object at `head`: it then
 counts in `local`, without atomic instructions.
 */
OBJ_ABI_INLINE bool obj_abi_owned_here(const obj_abi_head_t *head) {
    const obj_abi_type_head_t *type = __atomic_load_n(&head->type, __ATOMIC_RELAXED);
    return __atomic_load_n(type->owner, __ATOMIC_RELAXED) == obj_abi_thread_token();
}

/*
 obj_incref of an object the calling thread is known to own (as a value
 held by an object it owns is): a load, a compare and a store; an immortal
 object is left alone; an owner count at its maximum calls obj_incref.
 */
OBJ_ABI_INLINE void obj_abi_incref_owned(obj_t *o) {
    obj_abi_head_t *head = (obj_abi_head_t *)(void *)o;
    uint32_t local = __atomic_load_n(&head->local, __ATOMIC_RELAXED);
    if (OBJ_ABI_LIKELY(local < OBJ_ABI_LOCAL_MAX)) {
        __atomic_store_n(&head->local, local + 1, __ATOMIC_RELAXED);
    } else if (local != OBJ_ABI_IMMORTAL) {
        obj_incref(o);
    }
}

/*
 The type of the object `o` (not NULL): what every inline hit reads first,
 once.
 */
OBJ_ABI_INLINE const obj_abi_type_head_t *obj_abi_type_of(const obj_t *o) {
    return __atomic_load_n(&((const obj_abi_head_t *)(const void *)o)->type, __ATOMIC_RELAXED);
}

/*
 Whether the entry of `cache` (not NULL) was made for `type` as it is now
 and for `name`, and `type`'s heap is owned by the calling thread.
 */
OBJ_ABI_INLINE bool obj_abi_cache_matches(const obj_abi_type_head_t *type, const obj_t *name, const obj_attr_cache_t *cache) {
    return type->version == cache->opaque[OBJ_ABI_CACHE_VERSION_WORD] &&
           (uint64_t)(uintptr_t)name == cache->opaque[OBJ_ABI_CACHE_NAME_WORD] &&
           __atomic_load_n(type->owner, __ATOMIC_RELAXED) == obj_abi_thread_token();
}

/*
 The cell of `o` (of type `type`) that the found word `found` of `cache`'s
 entry names: an inline value's (which may hold NULL), a value's in the
 array of the entry's shape, or a slot's (which may hold NULL); NULL for
 other tags, or while `o` does not hold its values that way.
 */
OBJ_ABI_INLINE obj_t **obj_abi_found_cell(obj_t *o, const obj_abi_type_head_t *type, const obj_attr_cache_t *cache, uint64_t found) {
    uintptr_t payload = (uintptr_t)(found >> OBJ_ABI_CACHE_TAG_BITS);
    uint64_t tag = found & ((1u << OBJ_ABI_CACHE_TAG_BITS) - 1);
    if (OBJ_ABI_LIKELY(tag == OBJ_ABI_CACHE_FOUND_INLINE_VALUE)) {
        obj_t **area = (obj_t **)(void *)((char *)o + (payload >> 1));
        return ((uintptr_t)area[0] & OBJ_ABI_AREA_TAGS) == 0 ? &area[payload & 1] : NULL;
    }
    if (tag == OBJ_ABI_CACHE_FOUND_SLOT) return (obj_t **)(void *)((char *)o + payload);
    if (tag == OBJ_ABI_CACHE_FOUND_INSTANCE_VALUE) {
        obj_t **area = (obj_t **)(void *)((char *)o + type->area_offset);
        if ((uint64_t)(uintptr_t)area[0] != cache->opaque[OBJ_ABI_CACHE_SHAPE_WORD]) return NULL;
        return &((obj_t **)(void *)area[1])[payload];
    }
    return NULL;
}

/*
 The value of the attribute `name` of `o` (not NULL, of type `type`),
 borrowed, if the entry of `cache` (not NULL) matches
 (obj_abi_cache_matches) and answers without calling in: a value in a cell
 (obj_abi_found_cell), or a class attribute for `o`'s shape; NULL
 otherwise.
 */
OBJ_ABI_INLINE obj_t *obj_abi_cached_value(obj_t *o, const obj_abi_type_head_t *type, const obj_t *name, const obj_attr_cache_t *cache) {
    if (!obj_abi_cache_matches(type, name, cache)) return NULL;
    uint64_t found = cache->opaque[OBJ_ABI_CACHE_FOUND_WORD];
    obj_t **cell = obj_abi_found_cell(o, type, cache, found);
    if (OBJ_ABI_LIKELY(cell != NULL)) return *cell;
    if ((found & ((1u << OBJ_ABI_CACHE_TAG_BITS) - 1)) == OBJ_ABI_CACHE_FOUND_CLASS_ATTR) {
        uint64_t shape = cache->opaque[OBJ_ABI_CACHE_SHAPE_WORD];
        uintptr_t area_offset = type->area_offset;
        bool shape_matches =
            area_offset == 0
                ? shape == OBJ_ABI_CACHE_NO_DICT_SHAPE
                : shape == OBJ_ABI_CACHE_ANY_INLINE_SHAPE &&
                      (*(const uintptr_t *)(const void *)((const char *)o + area_offset) & OBJ_ABI_AREA_TAGS) == 0;
        return shape_matches ? (obj_t *)(uintptr_t)(found & ~(uint64_t)((1u << OBJ_ABI_CACHE_TAG_BITS) - 1)) : NULL;
    }
    return NULL;
}

/*
 The entry of its heap's attribute cache that obj_getattr (`store` 0) or
 obj_setattr (`store` 1) uses for `name` on `o` (not NULL, of type `type`).
 */
OBJ_ABI_INLINE obj_attr_cache_t *obj_abi_shared_site(obj_t *o, const obj_abi_type_head_t *type, const obj_t *name, uint64_t store) {
    uint64_t shape = OBJ_ABI_CACHE_NO_DICT_SHAPE;
    if (type->area_offset != 0) {
        const uintptr_t *area = (const uintptr_t *)(const void *)((const char *)o + type->area_offset);
        shape = (area[0] & OBJ_ABI_AREA_TAGS) != 0 ? area[0] : 1u + (area[0] != 0) + (area[1] != 0);
    }
    uint64_t salt = shape ^ store;
    uint64_t key = type->version ^ (uint64_t)((uintptr_t)name >> OBJ_ABI_SHARED_SITE_NAME_SHIFT) ^
                   ((salt << OBJ_ABI_SHARED_SITE_SALT_ROTATION) | (salt >> (64 - OBJ_ABI_SHARED_SITE_SALT_ROTATION)));
    return &type->shared_sites[(key * OBJ_ABI_SHARED_SITE_MULTIPLIER) >> (64 - OBJ_ABI_SHARED_SITES_BITS)];
}

/*
 The load of a getattr hit: whether the entry of `cache` answers `name` on
 `o` (of type `type`) without calling in (obj_abi_cached_value), in which
 case the value, counted, is in `*out`. `o`, `cache` and `out` are not NULL.
 */
OBJ_ABI_INLINE bool obj_abi_load_hit(obj_t *o, const obj_abi_type_head_t *type, const obj_t *name, const obj_attr_cache_t *cache, obj_t **out) {
    obj_t *value = obj_abi_cached_value(o, type, name, cache);
    if (OBJ_ABI_LIKELY(value != NULL)) {
        obj_abi_incref_owned(value);
        *out = value;
        return true;
    }
    return false;
}
#endif

/*
 obj_incref, compiled into the caller: on the heap's owner thread a load,
 two compares and a store; for an immortal object a load and a compare;
 anywhere else (another thread, an owner count at its maximum) it calls
 obj_incref. Same
 semantics: NULL is ignored; any thread may call it at any time. Unlike the
 exported call it does not check, in a debug build of the library, that
 `o` was not freed already.

 Requirements (the behaviour is undefined otherwise):

 `o` is NULL or a live object.
 */
OBJ_ABI_INLINE void obj_incref_inline(obj_t *o) {
#ifdef OBJ_INLINE_COUNTS
    if (OBJ_ABI_LIKELY(o != NULL)) {
        obj_abi_head_t *head = (obj_abi_head_t *)(void *)o;
        uint32_t local = __atomic_load_n(&head->local, __ATOMIC_RELAXED);
        if (OBJ_ABI_LIKELY(local < OBJ_ABI_LOCAL_MAX && obj_abi_owned_here(head))) {
            __atomic_store_n(&head->local, local + 1, __ATOMIC_RELAXED);
            return;
        }
        if (local == OBJ_ABI_IMMORTAL) return;
    }
#endif
    obj_incref(o);
}

/*
 obj_decref, compiled into the caller: on the heap's owner thread, while
 the owner holds at least two references, a load, two compares and a
 store; for an immortal object a load and a compare; anything else (the
 owner's last reference, which may free the object and run its __del__;
 another thread) calls obj_decref. Same semantics: NULL is ignored; any thread may call it at any
 time. Unlike the exported call it does not check, in a debug build of the
 library, for a double decref.

 Requirements (the behaviour is undefined otherwise):

 `o` is NULL or a live object, and the caller owns the reference it gives
 back.
 */
OBJ_ABI_INLINE void obj_decref_inline(obj_t *o) {
#ifdef OBJ_INLINE_COUNTS
    if (OBJ_ABI_LIKELY(o != NULL)) {
        obj_abi_head_t *head = (obj_abi_head_t *)(void *)o;
        uint32_t local = __atomic_load_n(&head->local, __ATOMIC_RELAXED);
        if (OBJ_ABI_LIKELY(local - 2u < OBJ_ABI_LOCAL_MAX - 1u && obj_abi_owned_here(head))) {
            __atomic_store_n(&head->local, local - 1u, __ATOMIC_RELAXED);
            return;
        }
        if (local == OBJ_ABI_IMMORTAL) return;
    }
#endif
    obj_decref(o);
}

/*
 obj_getattr_cached, with its hit compiled into the caller: when `cache`
 knows `name` as an instance attribute (held inline or in an array), a
 slot, or a class attribute (no function, which would need a bound method)
 of `o`'s type as it is now, `o`'s heap is owned by the calling thread, and the value is
 there, the value's count and the store to `*out` are all it does (about
 twenty instructions and no call); anything else calls
 obj_getattr_cached. Same results, statuses and messages.

 Unlike the exported call, a hit neither checks, in a debug build of the
 library, that the objects were not freed already, nor frees what other
 threads dropped meanwhile (that waits for the heap's next call, as it
 does while the owner makes no call). Hosts serialise it with their other
 calls on the heap, as any call.

 Requirements (the behaviour is undefined otherwise):

 As for obj_getattr_cached.
 */
OBJ_ABI_INLINE obj_status_t obj_getattr_cached_inline(obj_t *o, obj_t *name, obj_attr_cache_t *cache, obj_t **out) {
#ifdef OBJ_INLINE_COUNTS
    if (OBJ_ABI_LIKELY(o != NULL && cache != NULL && out != NULL) &&
        obj_abi_load_hit(o, obj_abi_type_of(o), name, cache, out)) {
        return OBJ_OK;
    }
#endif
    return obj_getattr_cached(o, name, cache, out);
}

#ifdef OBJ_INLINE_COUNTS
/*
 The store of a setattr hit: whether the entry of `cache` matches
 (obj_abi_cache_matches) and gives `value` (of `o`'s heap) a cell of `o`
 (of type `type`) to replace, which it then did, dropping the old value
 with obj_decref_inline. An empty inline value's cell is an attribute to
 add: no hit. `o`, `value` and `cache` are not NULL.
 */
OBJ_ABI_INLINE bool obj_abi_store_hit(obj_t *o, const obj_abi_type_head_t *type, obj_t *name, obj_t *value, const obj_attr_cache_t *cache) {
    if (!obj_abi_cache_matches(type, name, cache)) return false;
    uint64_t found = cache->opaque[OBJ_ABI_CACHE_FOUND_WORD];
    obj_t **cell = obj_abi_found_cell(o, type, cache, found);
    bool slot = (found & ((1u << OBJ_ABI_CACHE_TAG_BITS) - 1)) == OBJ_ABI_CACHE_FOUND_SLOT;
    if (OBJ_ABI_LIKELY(cell != NULL && (*cell != NULL || slot) && obj_abi_type_of(value)->owner == type->owner)) {
        obj_t *old = *cell;
        obj_abi_incref_owned(value);
        *cell = value;
        obj_decref_inline(old);
        return true;
    }
    return false;
}
#endif

/*
 obj_setattr_cached, with its hit compiled into the caller: when `cache`
 knows `name` as an instance attribute (held inline or in an array) that
 `o` has, or a slot of `o`'s type as it is now, `o`'s heap is owned by the calling
 thread and `value` is of that heap, it counts `value`, stores it and
 drops the value it replaces (obj_decref_inline: the old value's last
 reference calls obj_decref, which may run its __del__); anything else
 calls obj_setattr_cached. Same results, statuses, messages and side
 effects; unlike the exported call, a hit checks nothing in a debug build
 of the library and frees nothing other threads dropped (as
 obj_getattr_cached_inline).

 Requirements (the behaviour is undefined otherwise):

 As for obj_setattr_cached.
 */
OBJ_ABI_INLINE obj_status_t obj_setattr_cached_inline(obj_t *o, obj_t *name, obj_t *value, obj_attr_cache_t *cache) {
#ifdef OBJ_INLINE_COUNTS
    if (OBJ_ABI_LIKELY(o != NULL && value != NULL && cache != NULL) &&
        obj_abi_store_hit(o, obj_abi_type_of(o), name, value, cache)) {
        return OBJ_OK;
    }
#endif
    return obj_setattr_cached(o, name, value, cache);
}

/*
 obj_getattr, with its hit compiled into the caller: obj_getattr_cached_inline
 through the entry of the heap's attribute cache that obj_getattr itself
 uses (obj_abi_shared_site), which obj_getattr fills. The same results,
 statuses and messages as obj_getattr, and the same caveats as
 obj_getattr_cached_inline.

 Requirements (the behaviour is undefined otherwise):

 As for obj_getattr.
 */
OBJ_ABI_INLINE obj_status_t obj_getattr_inline(obj_t *o, obj_t *name, obj_t **out) {
#ifdef OBJ_INLINE_COUNTS
    if (OBJ_ABI_LIKELY(o != NULL && out != NULL)) {
        const obj_abi_type_head_t *type = obj_abi_type_of(o);
        if (obj_abi_load_hit(o, type, name, obj_abi_shared_site(o, type, name, 0), out)) return OBJ_OK;
    }
#endif
    return obj_getattr(o, name, out);
}

/*
 obj_setattr, with its hit compiled into the caller: obj_setattr_cached_inline
 through the entry of the heap's attribute cache that obj_setattr itself
 uses (obj_abi_shared_site), which obj_setattr fills. The same results,
 statuses, messages and side effects as obj_setattr, and the same caveats
 as obj_setattr_cached_inline.

 Requirements (the behaviour is undefined otherwise):

 As for obj_setattr.
 */
OBJ_ABI_INLINE obj_status_t obj_setattr_inline(obj_t *o, obj_t *name, obj_t *value) {
#ifdef OBJ_INLINE_COUNTS
    if (OBJ_ABI_LIKELY(o != NULL && value != NULL)) {
        const obj_abi_type_head_t *type = obj_abi_type_of(o);
        if (obj_abi_store_hit(o, type, name, value, obj_abi_shared_site(o, type, name, 1))) return OBJ_OK;
    }
#endif
    return obj_setattr(o, name, value);
}
