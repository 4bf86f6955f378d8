# Sourced by ci/sanitizers.sh and ci/valgrind-ffi.sh: builds ffi-tests
# (mimalloc off) into "$target_dir" and sets `tests` (every test executable:
# tests/*.rs, and the tour's empty unit-test harness) and `tour`, from the
# executables cargo names in its JSON messages. `name` prefixes errors.
json=$(cargo test -p ffi-tests --no-default-features --no-run --target-dir "$target_dir" --message-format=json)
# (A test build says so in its "profile"; a target's own "test" is another key.)
mapfile -t tests < <(grep '"profile":{[^}]*"test":true' <<<"$json" |
    grep -o '"executable":"[^"]*"' | cut -d'"' -f4)
tour=$(grep '"profile":{[^}]*"test":false' <<<"$json" |
    grep -o '"executable":"[^"]*/tour"' | cut -d'"' -f4)
if [[ ${#tests[@]} -eq 0 || -z "$tour" ]]; then
    echo "$name: cargo built no test executable or no tour" >&2
    exit 1
fi
