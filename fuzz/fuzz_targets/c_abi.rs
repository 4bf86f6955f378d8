//! Differential fuzzing of the C ABI: libFuzzer's bytes become a sequence
//! of `ffi_tests::model::Op`s, run on the real library and on the
//! reference model; any difference (or a crash, or an AddressSanitizer
//! report) is a finding.

#![no_main]

use ffi_tests::model::{Op, run};
use libfuzzer_sys::fuzz_target;

/// Longer sequences add little that shorter ones do not reach, and cost
/// time per input.
const MAX_OPS: usize = 200;

fuzz_target!(|ops: Vec<Op>| {
    let ops = &ops[..ops.len().min(MAX_OPS)];
    if let Err(e) = run(ops) {
        panic!("the library and the model disagree:\n{e}");
    }
});
