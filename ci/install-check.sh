#!/usr/bin/env bash
# The install step works: ci/install.sh into a temporary prefix, then a C
# program and a C++ one build against it with pkg-config alone (shared
# library), and the C one again with the static library; all three run.
# The shared library is versioned (soname libobjffi.so.1, the file
# libobjffi.so.1.C.P, two symlinks) and exports nothing but obj_* functions.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ci/install.sh "$tmp/prefix"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"

for f in include/objffi.h include/objffi.hpp lib/libobjffi.a lib/libobjffi.so lib/libobjffi.so.1 \
    lib/pkgconfig/objffi.pc lib/cmake/objrt/objrtConfig.cmake lib/cmake/objrt/objrtConfigVersion.cmake; do
    [[ -f "$tmp/prefix/$f" ]] || { echo "install-check: $f was not installed" >&2; exit 1; }
done

shared=$(readlink -f "$tmp/prefix/lib/libobjffi.so")
[[ "$(readlink "$tmp/prefix/lib/libobjffi.so")" == libobjffi.so.1 ]]
[[ "$shared" == "$tmp/prefix/lib/libobjffi.so.1."* && ! -L "$shared" ]]
# Outputs are read whole before grep: `cmd | grep -q` under pipefail fails
# whenever grep exits before cmd has written everything.
if ! grep -q 'SONAME.*\[libobjffi\.so\.1\]' <<<"$(readelf -d "$shared")"; then
    echo "install-check: $shared has no soname libobjffi.so.1" >&2
    exit 1
fi
# Defined dynamic symbols: "ADDRESS TYPE NAME"; version nodes have no name
# of ours and would be type A.
others=$(nm -D --defined-only "$shared" | awk '$3 !~ /^obj_/ && $2 != "A"')
if [[ -n "$others" ]]; then
    echo "install-check: $shared exports more than obj_*:" >&2
    echo "$others" >&2
    exit 1
fi
[[ "$(pkg-config --modversion objffi)" == "$(awk '/^#define OBJFFI_VERSION_(MAJOR|MINOR|PATCH) / { print $3 }' include/objffi.h | paste -sd.)" ]]

cat > "$tmp/prog.c" <<'C'
#include <objffi.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    obj_heap_t *heap = obj_heap_new();
    obj_t *parent = NULL, *child = NULL, *o = NULL, *name = NULL;
    if (heap == NULL || obj_type_new(heap, "Parent", NULL, 0, NULL, &parent) != OBJ_OK ||
        obj_setattr_str(parent, "name", obj_none(heap)) != OBJ_OK ||
        obj_type_new(heap, "Child", &parent, 1, NULL, &child) != OBJ_OK ||
        obj_call(child, NULL, 0, &o) != OBJ_OK || obj_getattr_str(o, "name", &name) != OBJ_OK) {
        fprintf(stderr, "failed: %s\n", obj_last_error());
        return 1;
    }
    int ok = name == obj_none(heap);
    obj_decref(name);
    obj_decref(o);
    obj_decref(child);
    obj_decref(parent);
    obj_heap_free(heap);
    puts(ok ? "found None on Parent" : "wrong answer");
    return ok ? 0 : 1;
}
C
cat > "$tmp/prog.cpp" <<'CPP'
#include <objffi.hpp>
#include <cstdio>

int main() {
    obj::heap h;
    obj::ref child = h.type("Child", {h.type("Parent")});
    obj::ref o = child();
    o.setattr("name", h.str("Андрей"));
    std::puts(o.getattr("name").repr().c_str());
    return o.getattr("name").str() == "Андрей" ? 0 : 1;
}
CPP

strict=(-Wall -Wextra -Wpedantic -Werror)
# shellcheck disable=SC2046 # pkg-config output is meant to be split
cc -std=c11 "${strict[@]}" -o "$tmp/prog" "$tmp/prog.c" $(pkg-config --cflags --libs objffi)
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/prog"
# shellcheck disable=SC2046
c++ -std=c++17 "${strict[@]}" -o "$tmp/prog-cpp" "$tmp/prog.cpp" $(pkg-config --cflags --libs objffi)
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/prog-cpp"

# Static: the archive, and the system libraries pkg-config lists for it.
libdir=$(pkg-config --variable=libdir objffi)
# shellcheck disable=SC2046
cc -std=c11 "${strict[@]}" -o "$tmp/prog-static" "$tmp/prog.c" $(pkg-config --cflags objffi) \
    "$libdir/libobjffi.a" $(pkg-config --static --libs-only-l objffi | sed 's/-lobjffi//')
if grep -q libobjffi <<<"$(ldd "$tmp/prog-static")"; then
    echo "install-check: the static build still needs libobjffi.so" >&2
    exit 1
fi
"$tmp/prog-static"
echo "install-check: installed, and C/C++ programs build with pkg-config and run"
