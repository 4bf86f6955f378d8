/* Checks for the C test programs: a failed check prints where and what, and
 * counts; each entry point returns its count (0 = all passed). */
#ifndef OBJFFI_TESTS_CHECK_H
#define OBJFFI_TESTS_CHECK_H

#include <stdio.h>
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

#endif
