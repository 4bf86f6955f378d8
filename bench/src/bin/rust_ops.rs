//! The Rust API's operations, one at a time, for an instruction count:
//! `rust_ops OP N` runs the operation `OP` N times on the workloads of
//! `bench::objrt::Classes` (the criterion benchmarks' own), checking every
//! result; `rust_ops --list` names the operations. `ci/callgrind-rust.sh`
//! counts N = 0 and N = 100,000 runs under callgrind and prints the
//! difference per operation, as `ci/callgrind-ops.sh` does for the C ABI.

use std::hint::black_box;

use bench::objrt::Classes;
use objmodel::{Obj, with_heap};

/// The operations (`--list`).
const OPS: &[&str] = &[
    "call_init",
    "getattr_instance",
    "getattr_class",
    "getattr_5_up",
    "getattr_method",
    "getattr_cached",
    "setattr_instance",
    "call_method",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next();
    if op.as_deref() == Some("--list") {
        OPS.iter().for_each(|op| println!("{op}"));
        return;
    }
    let (Some(op), Some(n)) = (op, args.next()) else {
        eprintln!("usage: rust_ops OP N, OP one of {OPS:?}");
        std::process::exit(2);
    };
    let n: u64 = n.parse().expect("N, a count");
    with_heap(|heap| {
        let classes = Classes::new(heap).expect("classes");
        let o = classes.obj.call(&[]).expect("an instance");
        let leaf = classes.level5.call(&[]).expect("an instance");
        let name = |s: &str| heap.intern(s).expect("a name");
        let (x, kind, deep, get_x) = (name("x"), name("kind"), name("deep"), name("get_x"));
        let value = heap.int(12345).expect("an int");
        let cache = heap.attr_cache("x").expect("a cache");
        match op.as_str() {
            "call_init" => {
                (0..n).for_each(|_| drop(black_box(classes.obj.call(&[]).expect("P()"))))
            }
            "getattr_instance" => getattr(&o, &x, n),
            "getattr_class" => getattr(&o, &kind, n),
            "getattr_5_up" => getattr(&leaf, &deep, n),
            "getattr_method" => getattr(&o, &get_x, n),
            "getattr_cached" => (0..n).for_each(|_| {
                drop(black_box(
                    black_box(&o).getattr_cached(&cache).expect("attribute"),
                ));
            }),
            "setattr_instance" => (0..n).for_each(|_| {
                black_box(&o)
                    .setattr_obj(black_box(&x), black_box(&value))
                    .expect("setattr");
            }),
            "call_method" => (0..n).for_each(|_| {
                drop(black_box(
                    black_box(&o)
                        .call_method_obj(black_box(&get_x), &[])
                        .expect("call"),
                ));
            }),
            _ => {
                eprintln!("unknown op {op}; one of {OPS:?}");
                std::process::exit(2);
            }
        }
    });
}

/// `o.name`, `n` times.
fn getattr<'h>(o: &Obj<'h>, name: &Obj<'h>, n: u64) {
    for _ in 0..n {
        drop(black_box(
            black_box(o)
                .getattr_obj(black_box(name))
                .expect("attribute"),
        ));
    }
}
