/*
 The first words of every object, as inline counting reads them. Part of
 the ABI of libobjffi.so.1 (objmodel's `abi` module pins each offset):

     object                          type object (itself an object)
     +0  uint32_t local  ---------   +0  obj_abi_head_t head
     +4  uint32_t shared             +16 (two private words)
     +8  type  ------------------->  +32 const uintptr_t *owner --> owner token

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
 The first words of a type object: its own head, two private words, and the
 address of its heap's owner word.
 */
typedef struct obj_abi_type_head_t {
    obj_abi_head_t head;
    const void *private_words[2];
    const uintptr_t *owner;
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
