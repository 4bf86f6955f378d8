/* Checks for the C test programs: a failed check prints where and what, and
 * counts; each entry point returns its count (0 = all passed). */
#ifndef OBJFFI_TESTS_CHECK_H
#define OBJFFI_TESTS_CHECK_H

#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "objffi.h"

#define CHECK(failures, cond)                                                     \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            ++(failures);                                                         \
        }                                                                         \
    } while (0)

/* Checks that `call` returns `want`; on failure prints both names and obj_last_error(). */
#define CHECK_STATUS(failures, call, want)                                        \
    do {                                                                          \
        obj_status_t got_ = (call);                                               \
        if (got_ != (want)) {                                                     \
            fprintf(stderr, "%s:%d: %s gave %s, expected %s (last error: \"%s\")\n", \
                    __FILE__, __LINE__, #call, obj_status_name(got_),             \
                    obj_status_name(want), obj_last_error());                     \
            ++(failures);                                                         \
        }                                                                         \
    } while (0)

/* Checks that two NUL-terminated strings are equal; prints both when not. */
#define CHECK_STR(failures, got, want)                                            \
    do {                                                                          \
        const char *got_s_ = (got);                                               \
        const char *want_s_ = (want);                                             \
        if (got_s_ == NULL || strcmp(got_s_, want_s_) != 0) {                     \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,   \
                    __LINE__, #got, got_s_ ? got_s_ : "(NULL)", want_s_);         \
            ++(failures);                                                         \
        }                                                                         \
    } while (0)

/* Checks that `call` fails with `want` and leaves the message `msg`. */
#define CHECK_ERROR(failures, call, want, msg)                                    \
    do {                                                                          \
        CHECK_STATUS(failures, call, want);                                       \
        CHECK_STR(failures, obj_last_error(), msg);                               \
    } while (0)

/* Drops a status on purpose (in a hook that has no way to report it). A
 * (void) cast would not do: GCC's warn_unused_result ignores it. */
static inline void ignore_status(obj_status_t status) { (void)status; }

/* A new str with the text `s` (NUL-terminated), or NULL after printing why. */
static inline obj_t *test_str(obj_heap_t *heap, const char *s) {
    obj_t *o = NULL;
    obj_status_t st = obj_str_new(heap, s, strlen(s), &o);
    if (st != OBJ_OK) {
        fprintf(stderr, "obj_str_new(\"%s\") gave %s: %s\n", s, obj_status_name(st),
                obj_last_error());
        return NULL;
    }
    return o;
}

/* A new int, or NULL after printing why. */
static inline obj_t *test_int(obj_heap_t *heap, int64_t v) {
    obj_t *o = NULL;
    obj_status_t st = obj_int_new(heap, v, &o);
    if (st != OBJ_OK) {
        fprintf(stderr, "obj_int_new gave %s: %s\n", obj_status_name(st), obj_last_error());
        return NULL;
    }
    return o;
}

/* Writes repr(o) to buf (cut to cap - 1 bytes); returns the status of obj_repr. */
static inline obj_status_t test_repr(obj_t *o, char *buf, size_t cap) {
    obj_t *r = NULL;
    obj_status_t st = obj_repr(o, &r);
    buf[0] = '\0';
    if (st != OBJ_OK) {
        return st;
    }
    const char *text = NULL;
    size_t len = 0;
    st = obj_str_data(r, &text, &len);
    if (st == OBJ_OK) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    obj_decref(r);
    return st;
}

/* Checks that repr(o) is `want`. */
#define CHECK_REPR(failures, o, want)                                             \
    do {                                                                          \
        char repr_buf_[512];                                                      \
        CHECK_STATUS(failures, test_repr((o), repr_buf_, sizeof repr_buf_), OBJ_OK); \
        CHECK_STR(failures, repr_buf_, want);                                     \
    } while (0)

/* Checks that `o` is a str with the text `want`. */
#define CHECK_STR_OBJ(failures, o, want)                                          \
    do {                                                                          \
        const char *text_ = NULL;                                                 \
        size_t len_ = 0;                                                          \
        CHECK_STATUS(failures, obj_str_data((o), &text_, &len_), OBJ_OK);         \
        CHECK_STR(failures, text_, want);                                         \
        CHECK(failures, text_ == NULL || len_ == strlen(want));                   \
    } while (0)

/* Checks that `o` is an int equal to `want`. */
#define CHECK_INT_OBJ(failures, o, want)                                          \
    do {                                                                          \
        int64_t v_ = -999999;                                                     \
        CHECK_STATUS(failures, obj_int_value((o), &v_), OBJ_OK);                  \
        CHECK(failures, v_ == (want));                                            \
    } while (0)

/* The heap's objects_live (SIZE_MAX if the call fails). */
static inline size_t test_live(const obj_heap_t *heap) {
    obj_heap_stats_t s;
    return obj_heap_stats(heap, &s) == OBJ_OK ? s.objects_live : (size_t)-1;
}

#endif
