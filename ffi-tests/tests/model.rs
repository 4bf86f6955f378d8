//! Differential tests of the C ABI: random op sequences (proptest) run on
//! the library and on the reference model of `ffi_tests::model`, and
//! hand-written regression sequences.
//!
//! `PROPTEST_CASES` overrides the number of random cases (256 by default).

use core::ptr::{null, null_mut};

use ffi_tests::model::{
    Base, Behaviour, Fault, Name, Op, RunStats, Spec, Step, Subject, Then, run,
};
use proptest::collection::vec;
use proptest::prelude::*;

// ----- the strategy ------------------------------------------------------------

const NO: Fault = Fault::None;

/// Handles, newest first: mostly one of the last few results, so ops
/// build on each other.
fn h() -> impl Strategy<Value = u8> {
    prop_oneof![6 => 0u8..3, 3 => 3u8..6, 1 => any::<u8>()]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::None),
        2 => any::<u8>().prop_map(Fault::Null),
        1 => any::<u8>().prop_map(Fault::BadUtf8),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(object, arg)| Fault::Foreign { object, arg }),
    ]
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![4 => (0u8..9).prop_map(Name::Str), 1 => h().prop_map(Name::Obj)]
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        Just(Subject::First),
        Just(Subject::ClassOfFirst),
        Just(Subject::Itself),
        Just(Subject::NoneObj),
    ]
}

/// Attribute names for reentrant steps: mostly `x`, `f`, `__init__`,
/// `__getattr__` (indices into the model's `NAMES`).
fn step_name() -> impl Strategy<Value = u8> {
    prop_oneof![4 => prop_oneof![Just(0u8), Just(2), Just(3), Just(4)], 1 => 0u8..9]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (subject(), step_name(), subject())
            .prop_map(|(on, name, value)| Step::SetAttr { on, name, value }),
        2 => (subject(), step_name()).prop_map(|(on, name)| Step::DelAttr { on, name }),
        2 => (subject(), any::<bool>()).prop_map(|(callee, rest)| Step::Call { callee, rest }),
        2 => subject().prop_map(Step::DropHandle),
    ]
}

fn then() -> impl Strategy<Value = Then> {
    prop_oneof![
        2 => Just(Then::Propagate),
        1 => Just(Then::Swallow),
        2 => (subject(), step_name()).prop_map(|(on, name)| Then::GetAttr { on, name }),
    ]
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        4 => (step(), then()).prop_map(|(s, t)| Behaviour::Reenter(s, t)),
        1 => Just(Behaviour::Int7),
        1 => Just(Behaviour::Int1000),
        1 => Just(Behaviour::None),
        1 => Just(Behaviour::Nargs),
        1 => Just(Behaviour::FirstArg),
        1 => Just(Behaviour::Fail),
        1 => Just(Behaviour::FailCustom),
        1 => Just(Behaviour::FailAttribute),
        1 => Just(Behaviour::NullResult),
        1 => Just(Behaviour::Foreign),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        3 => Just(Spec::Null),
        1 => Just(Spec::Dict),
        1 => Just(Spec::NoDict),
        1 => (0u8..3).prop_map(Spec::Slots),
        1 => (0u8..3).prop_map(Spec::SlotsDict),
        1 => Just(Spec::Payload),
        1 => Just(Spec::PayloadDict),
        1 => (0u8..3).prop_map(Spec::PayloadSlots),
    ]
}

fn base() -> impl Strategy<Value = Base> {
    prop_oneof![4 => h().prop_map(Base::Handle), 1 => Just(Base::Object)]
}

/// One op, weighted toward making classes, instances and functions and
/// using attributes.
fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (any::<u8>(), fault()).prop_map(|(value, fault)| Op::Int { value, fault }),
        1 => (any::<u8>(), fault()).prop_map(|(value, fault)| Op::Float { value, fault }),
        2 => (any::<u8>(), fault()).prop_map(|(text, fault)| Op::Str { text, fault }),
        1 => (any::<u8>(), fault()).prop_map(|(text, fault)| Op::Intern { text, fault }),
        1 => (any::<u8>(), fault()).prop_map(|(which, fault)| Op::Builtin { which, fault }),
        1 => (vec(h(), 0..4), fault()).prop_map(|(items, fault)| Op::Tuple { items, fault }),
        1 => (any::<bool>(), any::<u8>(), h())
            .prop_map(|(tuple, depth, item)| Op::Nest { tuple, depth, item }),
        1 => fault().prop_map(|fault| Op::List { fault }),
        1 => fault().prop_map(|fault| Op::Dict { fault }),
        2 => (h(), h(), fault()).prop_map(|(list, item, fault)| Op::Append { list, item, fault }),
        1 => (h(), any::<i8>(), h(), fault())
            .prop_map(|(list, index, item, fault)| Op::ListSet { list, index, item, fault }),
        1 => (h(), any::<i8>(), fault()).prop_map(|(seq, index, fault)| Op::SeqGet { seq, index, fault }),
        1 => (h(), fault()).prop_map(|(o, fault)| Op::Len { o, fault }),
        2 => (h(), h(), h(), fault())
            .prop_map(|(dict, key, value, fault)| Op::DictSet { dict, key, value, fault }),
        1 => (h(), h(), fault()).prop_map(|(dict, key, fault)| Op::DictGet { dict, key, fault }),
        1 => (h(), h(), fault()).prop_map(|(dict, key, fault)| Op::DictDel { dict, key, fault }),
        1 => (h(), any::<u8>(), fault())
            .prop_map(|(dict, index, fault)| Op::DictItem { dict, index, fault }),
        4 => (any::<u8>(), vec(base(), 0..4), spec(), fault())
            .prop_map(|(name, bases, spec, fault)| Op::Type { name, bases, spec, fault }),
        2 => (h(), fault()).prop_map(|(ty, fault)| Op::Alloc { ty, fault }),
        3 => (h(), vec(h(), 0..3), fault())
            .prop_map(|(callable, args, fault)| Op::Call { callable, args, fault }),
        3 => (any::<u8>(), behaviour(), fault())
            .prop_map(|(name, behaviour, fault)| Op::Function { name, behaviour, fault }),
        1 => (h(), proptest::option::of(h()), fault())
            .prop_map(|(getter, setter, fault)| Op::Property { getter, setter, fault }),
        5 => (h(), name(), fault()).prop_map(|(o, name, fault)| Op::GetAttr { o, name, fault }),
        6 => (h(), name(), h(), fault())
            .prop_map(|(o, name, value, fault)| Op::SetAttr { o, name, value, fault }),
        2 => (h(), name(), fault()).prop_map(|(o, name, fault)| Op::DelAttr { o, name, fault }),
        3 => (h(), name(), vec(h(), 0..3), fault())
            .prop_map(|(o, name, args, fault)| Op::CallMethod { o, name, args, fault }),
        2 => (h(), proptest::option::of(h()), fault())
            .prop_map(|(target, callback, fault)| Op::WeakRef { target, callback, fault }),
        2 => (h(), fault()).prop_map(|(weakref, fault)| Op::WeakGet { weakref, fault }),
        1 => (h(), h(), fault()).prop_map(|(o, ty, fault)| Op::IsInstance { o, ty, fault }),
        1 => (h(), fault()).prop_map(|(ty, fault)| Op::Mro { ty, fault }),
        1 => (h(), fault()).prop_map(|(o, fault)| Op::TypeOf { o, fault }),
        2 => h().prop_map(|o| Op::Inspect { o }),
        1 => (h(), fault()).prop_map(|(o, fault)| Op::Dup { o, fault }),
        3 => h().prop_map(|o| Op::Drop { o }),
        2 => (any::<i8>(), fault())
            .prop_map(|(generation, fault)| Op::Collect { generation, fault }),
    ]
}

/// A few ops that build something worth testing: a class with a function
/// (method, `__init__`, `__getattr__` or plain attribute), an instance and
/// a call; a property; an attribute moved from one class to another; a
/// weak reference with a callback; a cycle; a dict or an instance with many
/// keys.
fn scenario() -> impl Strategy<Value = Vec<Op>> {
    let names = prop_oneof![Just(2u8), Just(3u8), Just(4u8), Just(0u8)];
    let class_with_function = (
        any::<u8>(),
        prop_oneof![2 => Just(vec![]), 1 => vec(base(), 1..3)],
        spec(),
        behaviour(),
        names,
        vec(h(), 0..2),
    )
        .prop_map(|(name, bases, spec, behaviour, attr, args)| {
            vec![
                Op::Type {
                    name,
                    bases,
                    spec,
                    fault: NO,
                },
                Op::Function {
                    name: 0,
                    behaviour,
                    fault: NO,
                },
                Op::SetAttr {
                    o: 1,
                    name: Name::Str(attr),
                    value: 0,
                    fault: NO,
                },
                Op::Call {
                    callable: 1,
                    args: args.clone(),
                    fault: NO,
                },
                Op::CallMethod {
                    o: 0,
                    name: Name::Str(attr),
                    args,
                    fault: NO,
                },
                Op::GetAttr {
                    o: 1,
                    name: Name::Str(0),
                    fault: NO,
                },
            ]
        });
    // A class with a property (and maybe a `__getattr__` hook), an
    // instance, a read and a write.
    let property = (
        (any::<u8>(), spec(), behaviour(), any::<bool>(), 0u8..9),
        proptest::option::of(behaviour()),
    )
        .prop_map(|((name, spec, getter, setter, attr), hook)| {
            let mut ops = vec![
                Op::Type {
                    name,
                    bases: vec![],
                    spec,
                    fault: NO,
                },
                Op::Function {
                    name: 1,
                    behaviour: getter,
                    fault: NO,
                },
                Op::Property {
                    getter: 0,
                    setter: setter.then_some(0),
                    fault: NO,
                },
                Op::SetAttr {
                    o: 2,
                    name: Name::Str(attr),
                    value: 0,
                    fault: NO,
                },
            ];
            let mut class = 2;
            if let Some(b) = hook {
                ops.push(Op::Function {
                    name: 0,
                    behaviour: b,
                    fault: NO,
                });
                ops.push(Op::SetAttr {
                    o: 3,
                    name: Name::Str(4),
                    value: 0,
                    fault: NO,
                });
                class = 3;
            }
            ops.extend([
                Op::Alloc {
                    ty: class,
                    fault: NO,
                },
                Op::GetAttr {
                    o: 0,
                    name: Name::Str(attr),
                    fault: NO,
                },
                Op::SetAttr {
                    o: 0,
                    name: Name::Str(attr),
                    value: 1,
                    fault: NO,
                },
                Op::GetAttr {
                    o: 0,
                    name: Name::Str((attr + 1) % 9),
                    fault: NO,
                },
            ]);
            ops
        });
    // An attribute of one object (a slot member, a property, a bound
    // method...) stored in another class and used through its instances.
    let transplant = (h(), 0u8..9, any::<u8>(), spec(), 0u8..9, vec(h(), 0..2)).prop_map(
        |(from, attr, name, spec, to, args)| {
            vec![
                Op::GetAttr {
                    o: from,
                    name: Name::Str(attr),
                    fault: NO,
                },
                Op::Type {
                    name,
                    bases: vec![],
                    spec,
                    fault: NO,
                },
                Op::SetAttr {
                    o: 0,
                    name: Name::Str(to),
                    value: 1,
                    fault: NO,
                },
                Op::Call {
                    callable: 0,
                    args,
                    fault: NO,
                },
                Op::GetAttr {
                    o: 0,
                    name: Name::Str(to),
                    fault: NO,
                },
                Op::SetAttr {
                    o: 1,
                    name: Name::Str(to),
                    value: 1,
                    fault: NO,
                },
            ]
        },
    );
    let weakref = (behaviour(), h()).prop_map(|(b, target)| {
        vec![
            Op::Function {
                name: 0,
                behaviour: b,
                fault: NO,
            },
            Op::WeakRef {
                target: target.saturating_add(1),
                callback: Some(0),
                fault: NO,
            },
        ]
    });
    let cycle = (h(), 0u8..9).prop_map(|(o, attr)| {
        vec![
            Op::SetAttr {
                o,
                name: Name::Str(attr),
                value: o,
                fault: NO,
            },
            Op::Drop { o },
        ]
    });
    // Many keys or attributes: dicts that grow (and shrink), long shapes.
    let grow = (
        any::<bool>(),
        vec((any::<u8>(), any::<bool>(), any::<bool>()), 4..16),
    )
        .prop_map(|(attributes, entries)| {
            let mut ops = vec![if attributes {
                Op::Alloc { ty: 0, fault: NO }
            } else {
                Op::Dict { fault: NO }
            }];
            for (k, use_str, delete) in entries {
                ops.push(if use_str {
                    Op::Str { text: k, fault: NO }
                } else {
                    Op::Int {
                        value: k,
                        fault: NO,
                    }
                });
                ops.push(if attributes {
                    Op::SetAttr {
                        o: 1,
                        name: Name::Obj(0),
                        value: 0,
                        fault: NO,
                    }
                } else {
                    Op::DictSet {
                        dict: 1,
                        key: 0,
                        value: 0,
                        fault: NO,
                    }
                });
                if delete {
                    ops.push(if attributes {
                        Op::DelAttr {
                            o: 1,
                            name: Name::Str(k % 9),
                            fault: NO,
                        }
                    } else {
                        Op::DictDel {
                            dict: 1,
                            key: 0,
                            fault: NO,
                        }
                    });
                }
                ops.push(Op::Drop { o: 0 });
            }
            ops.push(Op::DictItem {
                dict: 0,
                index: 3,
                fault: NO,
            });
            ops.push(Op::Inspect { o: 0 });
            ops
        });
    // A class whose `__init__` (or method, or `__getattr__`) calls back:
    // itself, the class, or the class's attributes; called twice.
    let reentrant = (
        any::<u8>(),
        spec(),
        step(),
        then(),
        names2(),
        vec(h(), 0..2),
    )
        .prop_map(|(name, spec, step, then, attr, args)| {
            vec![
                Op::Type {
                    name,
                    bases: vec![],
                    spec,
                    fault: NO,
                },
                Op::Function {
                    name: 0,
                    behaviour: Behaviour::Reenter(step, then),
                    fault: NO,
                },
                Op::SetAttr {
                    o: 1,
                    name: Name::Str(attr),
                    value: 0,
                    fault: NO,
                },
                Op::Call {
                    callable: 1,
                    args: args.clone(),
                    fault: NO,
                },
                Op::CallMethod {
                    o: 0,
                    name: Name::Str(attr),
                    args: args.clone(),
                    fault: NO,
                },
                Op::GetAttr {
                    o: 1,
                    name: Name::Str(1),
                    fault: NO,
                },
                Op::Call {
                    callable: 3,
                    args,
                    fault: NO,
                },
            ]
        });
    // Two equal deep chains, one a dict key, the other looked up; a repr.
    let deep = (any::<bool>(), any::<u8>(), any::<u8>()).prop_map(|(tuple, depth, value)| {
        vec![
            Op::Int { value, fault: NO },
            Op::Nest {
                tuple,
                depth,
                item: 0,
            },
            Op::Nest {
                tuple,
                depth,
                item: 1,
            },
            Op::Dict { fault: NO },
            Op::DictSet {
                dict: 0,
                key: 2,
                value: 1,
                fault: NO,
            },
            Op::DictGet {
                dict: 0,
                key: 1,
                fault: NO,
            },
            Op::Inspect { o: 1 },
            Op::Inspect { o: 2 },
        ]
    });
    prop_oneof![
        3 => reentrant,
        1 => deep,
        4 => class_with_function,
        2 => property,
        2 => transplant,
        1 => weakref,
        1 => cycle,
        1 => grow,
    ]
}

/// Where a reentrant function is stored: `f`, `__init__`, `__getattr__`, `x`.
fn names2() -> impl Strategy<Value = u8> {
    prop_oneof![Just(2u8), Just(3u8), Just(4u8), Just(0u8)]
}

/// Sequences of up to 80 ops: single random ops and scenarios.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    vec(
        prop_oneof![3 => op().prop_map(|o| vec![o]), 1 => scenario()],
        0..40,
    )
    .prop_map(|chunks| {
        let mut ops: Vec<Op> = chunks.into_iter().flatten().collect();
        ops.truncate(80);
        ops
    })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_library_agrees_with_the_model(ops in ops()) {
        if let Err(e) = run(&ops) {
            prop_assert!(false, "{}", e);
        }
    }
}

// ----- hand-written sequences ---------------------------------------------------------

fn check(ops: &[Op]) -> RunStats {
    match run(ops) {
        Ok(stats) => {
            println!("{stats:?}");
            stats
        }
        Err(e) => panic!("{e}"),
    }
}

fn class(name: u8, bases: Vec<Base>, spec: Spec) -> Op {
    Op::Type {
        name,
        bases,
        spec,
        fault: NO,
    }
}

fn function(behaviour: Behaviour) -> Op {
    Op::Function {
        name: 0,
        behaviour,
        fault: NO,
    }
}

fn set(o: u8, name: u8, value: u8) -> Op {
    Op::SetAttr {
        o,
        name: Name::Str(name),
        value,
        fault: NO,
    }
}

fn get(o: u8, name: u8) -> Op {
    Op::GetAttr {
        o,
        name: Name::Str(name),
        fault: NO,
    }
}

/// Handles are chosen newest first: in these sequences handle 0 is the
/// latest result still held, 1 the one before, and so on.
#[test]
fn a_short_tour_runs_every_kind_of_op() {
    let stats = check(&[
        class(0, vec![], Spec::Null),   // A
        function(Behaviour::Nargs),     // f
        set(1, 2, 0),                   // A.f = f
        Op::Alloc { ty: 1, fault: NO }, // a = A()
        Op::CallMethod {
            o: 0,
            name: Name::Str(2),
            args: vec![2],
            fault: NO,
        }, // a.f(A) == 2
        Op::Inspect { o: 0 },
        get(1, 2), // a.f: a bound method
        Op::Call {
            callable: 0,
            args: vec![],
            fault: NO,
        }, // a.f() == 1
        Op::WeakRef {
            target: 3,
            callback: Some(4),
            fault: NO,
        }, // weakref(a, f)
        Op::Drop { o: 1 }, // the bound method
        Op::Drop { o: 2 }, // the result 2
        Op::Drop { o: 2 }, // a: it dies, f(weakref) runs
        Op::WeakGet {
            weakref: 0,
            fault: NO,
        }, // None
        Op::Collect {
            generation: 0,
            fault: NO,
        },
    ]);
    assert!(stats.executed >= 13, "{stats:?}");
    assert_eq!(stats.host_calls, 3, "{stats:?}");
}

#[test]
fn an_inconsistent_mro_and_a_layout_conflict_are_refused() {
    check(&[
        // class X; class Y(X); class Z(X, Y) -> OBJ_ERR_MRO
        class(0, vec![], Spec::Null),
        class(1, vec![Base::Handle(0)], Spec::Null),
        class(2, vec![Base::Handle(1), Base::Handle(0)], Spec::Null),
        // Two bases with slots: a layout conflict (OBJ_ERR_TYPE).
        class(0, vec![], Spec::Slots(0)),
        class(1, vec![], Spec::Slots(1)),
        class(3, vec![Base::Handle(0), Base::Handle(1)], Spec::Null),
        // A duplicate base.
        class(3, vec![Base::Handle(0), Base::Handle(0)], Spec::Null),
        Op::Mro { ty: 2, fault: NO },
    ]);
}

#[test]
fn a_cycle_through_a_class_is_collected_and_its_weakref_called_back() {
    check(&[
        class(0, vec![], Spec::Null),   // A
        Op::Alloc { ty: 0, fault: NO }, // a
        set(0, 0, 0),                   // a.x = a
        set(1, 1, 0),                   // A.y = a: a cycle through the class
        function(Behaviour::FirstArg),  // f
        Op::WeakRef {
            target: 1,
            callback: Some(0),
            fault: NO,
        }, // weakref(a, f)
        Op::WeakRef {
            target: 3,
            callback: None,
            fault: NO,
        }, // weakref(A)
        Op::Drop { o: 3 },              // a
        Op::Drop { o: 3 },              // A: both only in the cycle now
        Op::Collect {
            generation: 1,
            fault: NO,
        }, // a, A and A's namespace: f(weakref) runs
        Op::WeakGet {
            weakref: 0,
            fault: NO,
        },
        Op::WeakGet {
            weakref: 2,
            fault: NO,
        },
    ]);
}

#[test]
fn faults_change_nothing() {
    check(&[
        Op::List { fault: NO },
        Op::Int {
            value: 6,
            fault: NO,
        },
        Op::Append {
            list: 1,
            item: 0,
            fault: Fault::Foreign { object: 0, arg: 1 },
        },
        Op::Append {
            list: 1,
            item: 0,
            fault: Fault::Null(1),
        },
        Op::GetAttr {
            o: 1,
            name: Name::Str(0),
            fault: Fault::BadUtf8(0),
        },
        class(0, vec![Base::Object], Spec::Null),
        Op::Type {
            name: 1,
            bases: vec![Base::Handle(0)],
            spec: Spec::Slots(2),
            fault: Fault::Null(7),
        },
        Op::Type {
            name: 1,
            bases: vec![Base::Handle(0)],
            spec: Spec::Slots(2),
            fault: Fault::Foreign { object: 2, arg: 0 },
        },
        Op::Len { o: 2, fault: NO },
    ]);
}

// ----- bugs the model found (fixed in objmodel) -------------------------------------------
//
// Each test runs the minimal sequence that showed the bug.

/// Random runs must mostly run their ops (a model that skipped everything
/// would agree with any library): at least half of the ops are compared,
/// some with faults, with host calls and collections among them.
#[test]
fn random_runs_compare_most_of_their_ops() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut total = RunStats::default();
    let mut ops_generated = 0;
    for _ in 0..64 {
        let ops = ops().new_tree(&mut runner).expect("a value").current();
        ops_generated += ops.len();
        total += check(&ops);
    }
    println!("{ops_generated} ops: {total:?}");
    assert!(total.executed * 2 > ops_generated, "{total:?}");
    assert!(total.faulted * 60 > total.executed, "{total:?}");
    assert!(total.host_calls > 60 && total.collections > 40, "{total:?}");
    assert!(total.peak_objects > 10, "{total:?}");
}

/// A slot member taken from class `A` and stored in an unrelated class `B`
/// must refuse `b.y` as CPython does (`TypeError: descriptor 'x' for 'A'
/// objects doesn't apply to a 'B' object`); objrt used to read at A's slot
/// offset inside the `B` instance.
#[test]
fn slot_member_of_another_class_get() {
    check(&[
        class(0, vec![], Spec::Slots(0)), // class A: __slots__ = ('x',)
        get(0, 0),                        // m = A.x (a member descriptor)
        class(1, vec![], Spec::Null),     // class B
        set(0, 1, 1),                     // B.y = m
        Op::Alloc { ty: 0, fault: NO },   // b = B()
        get(0, 1),                        // b.y: TypeError
    ]);
}

/// As above, writing: `b.y = b` used to store at A's slot offset inside
/// `b` (over B's `__dict__` shape pointer: memory corruption).
#[test]
fn slot_member_of_another_class_set() {
    check(&[
        class(0, vec![], Spec::Slots(0)), // class A: __slots__ = ('x',)
        get(0, 0),                        // m = A.x
        class(1, vec![], Spec::Null),     // class B
        set(0, 1, 1),                     // B.y = m
        Op::Alloc { ty: 0, fault: NO },   // b = B()
        set(0, 1, 0),                     // b.y = b: TypeError
    ]);
}

/// An `__init__` that is a bound method: CPython calls it as it is
/// (`m()`: one argument, m's own `self`); objrt used to pass the new
/// instance too.
#[test]
fn init_that_is_not_a_function() {
    check(&[
        class(0, vec![], Spec::Null),   // class A
        function(Behaviour::None),      // g
        set(1, 2, 0),                   // A.f = g
        Op::Alloc { ty: 1, fault: NO }, // a = A()
        get(0, 2),                      // m = a.f
        class(1, vec![], Spec::Null),   // class B
        set(0, 3, 1),                   // B.__init__ = m
        Op::Call {
            callable: 0,
            args: vec![],
            fault: NO,
        }, // B(): g(a) in CPython, g(a, b) in objrt
    ]);
}

/// A property getter that fails with `OBJ_ERR_ATTRIBUTE` (AttributeError):
/// CPython then calls the class's `__getattr__` (objrt used not to).
#[test]
fn attribute_error_from_a_getter_calls_getattr() {
    check(&[
        class(0, vec![], Spec::Null),       // class A
        function(Behaviour::FailAttribute), // getter
        Op::Property {
            getter: 0,
            setter: None,
            fault: NO,
        }, // p = property(getter)
        set(2, 0, 0),                       // A.x = p
        function(Behaviour::Int7),          // hook
        set(3, 4, 0),                       // A.__getattr__ = hook
        Op::Alloc { ty: 3, fault: NO },     // a = A()
        get(0, 0),                          // a.x == 7
    ]);
}

/// `B.__init__ = B; B()`: CPython raises `RecursionError`; objrt used to
/// call `B` as `B`'s `__init__` without end, until the stack overflowed and
/// the process aborted, and now fails at 1,000 nested calls. Run in a child
/// process (a stack overflow cannot be caught).
#[test]
fn class_that_is_its_own_init() {
    let exe = std::env::current_exe().expect("the test executable");
    let child = std::process::Command::new(exe)
        .args(["--ignored", "--exact", "class_that_is_its_own_init_child"])
        .env("OBJRT_MODEL_CHILD", "1")
        .output()
        .expect("a child process");
    assert!(
        child.status.success(),
        "B() took the process down: {:?}\n{}",
        child.status,
        String::from_utf8_lossy(&child.stderr)
    );
}

/// The body of `class_that_is_its_own_init`, in the child process.
#[test]
#[ignore = "run by class_that_is_its_own_init in a child process"]
fn class_that_is_its_own_init_child() {
    use objffi::*;
    if std::env::var_os("OBJRT_MODEL_CHILD").is_none() {
        return;
    }
    // SAFETY: a new heap, NUL-terminated names, locals to write; every
    // object is used while the heap lives.
    unsafe {
        let heap = obj_heap_new();
        let mut b = null_mut();
        assert_eq!(
            obj_type_new(heap, c"B".as_ptr(), null(), 0, null(), &mut b).0,
            0
        );
        assert_eq!(obj_setattr_str(b, c"__init__".as_ptr(), b).0, 0);
        let mut out = null_mut();
        let status = obj_call(b, null(), 0, &mut out);
        assert_ne!(status.0, 0, "B() cannot succeed");
        obj_decref(b);
        obj_heap_free(heap);
    }
}

// ----- reentrant host functions, recursion, deep nesting ----------------------------------

fn call(callable: u8, args: Vec<u8>) -> Op {
    Op::Call {
        callable,
        args,
        fault: NO,
    }
}

fn reenter(step: Step, then: Then) -> Op {
    function(Behaviour::Reenter(step, then))
}

/// `B.__init__ = B; B()`, now followed by the model: `OBJ_ERR_RECURSION`
/// after 1,000 nested calls, with CPython's message.
#[test]
fn class_that_is_its_own_init_in_the_model() {
    let stats = check(&[
        class(1, vec![], Spec::Null), // class B
        set(0, 3, 0),                 // B.__init__ = B
        call(0, vec![]),              // B(): RecursionError
        call(0, vec![]),              // and again: the depth went back to 0
    ]);
    assert_eq!(stats.recursions, 2, "{stats:?}");
}

/// A host function that calls itself: 1,000 calls, then `OBJ_ERR_RECURSION`
/// through every level; or, swallowing the failure, None after 1,000 calls.
#[test]
fn host_function_that_calls_itself() {
    let stats = check(&[
        reenter(
            Step::Call {
                callee: Subject::Itself,
                rest: false,
            },
            Then::Propagate,
        ),
        call(0, vec![]),
    ]);
    assert_eq!((stats.recursions, stats.host_calls), (1, 1000), "{stats:?}");
    let stats = check(&[
        reenter(
            Step::Call {
                callee: Subject::Itself,
                rest: false,
            },
            Then::Swallow,
        ),
        call(0, vec![]),
        Op::Inspect { o: 0 },
    ]);
    assert_eq!((stats.recursions, stats.host_calls), (0, 1000), "{stats:?}");
}

/// `__init__` calling `type(self)(*rest)`: each level a new instance, each
/// one freed as the failure unwinds.
#[test]
fn init_that_calls_its_class() {
    let stats = check(&[
        class(0, vec![], Spec::Dict),
        reenter(
            Step::Call {
                callee: Subject::ClassOfFirst,
                rest: true,
            },
            Then::Propagate,
        ),
        set(1, 3, 0), // A.__init__ = f
        call(1, vec![]),
        call(1, vec![]),
    ]);
    // A() is a call, and __init__ another: 500 of each.
    assert_eq!((stats.recursions, stats.host_calls), (2, 1000), "{stats:?}");
}

/// `__init__` that deletes itself from its class, then reads `self.x`;
/// the next `A()` has no `__init__`.
#[test]
fn init_that_deletes_itself() {
    check(&[
        class(0, vec![], Spec::Dict),
        reenter(
            Step::DelAttr {
                on: Subject::ClassOfFirst,
                name: 3,
            },
            Then::GetAttr {
                on: Subject::First,
                name: 0,
            },
        ),
        set(1, 3, 0),                   // A.__init__ = f
        Op::Drop { o: 0 },              // A.__init__ holds the last reference to f
        call(0, vec![]),                // A(): AttributeError for self.x
        call(0, vec![]),                // A()
        Op::Alloc { ty: 1, fault: NO }, // nothing left of f
    ]);
}

/// `__init__` that rebinds `T.__init__` to None while it runs (dropping
/// the last reference to itself), and `__getattr__` that deletes itself.
#[test]
fn hooks_that_rebind_themselves() {
    check(&[
        class(0, vec![], Spec::Dict),
        reenter(
            Step::SetAttr {
                on: Subject::ClassOfFirst,
                name: 3,
                value: Subject::NoneObj,
            },
            Then::Propagate,
        ),
        set(1, 3, 0),      // A.__init__ = f
        Op::Drop { o: 0 }, // A.__init__ holds the last reference to f
        call(0, vec![]),   // A(): f rebinds A.__init__ = None
        call(1, vec![]),   // A(): None is not callable
        reenter(
            Step::DelAttr {
                on: Subject::ClassOfFirst,
                name: 4,
            },
            Then::GetAttr {
                on: Subject::First,
                name: 1,
            },
        ),
        set(2, 4, 0),                   // A.__getattr__ = g
        Op::Drop { o: 0 },              // A.__getattr__ holds the last reference to g
        Op::Alloc { ty: 1, fault: NO }, // a
        get(0, 1),                      // a.y: g deletes itself, then a.y fails
        get(1, 1),                      // a.y: no hook left
    ]);
}

/// A method that gives back the runner's last handle to itself while it
/// runs, called through a bound method (the call holds it until it
/// returns); and one that gives back the handle to its `self`. The
/// arguments of the runner's own call are lent, not given back.
#[test]
fn host_function_that_drops_the_last_handle_to_itself() {
    let stats = check(&[
        class(0, vec![], Spec::Dict),                                // A
        reenter(Step::DropHandle(Subject::Itself), Then::Propagate), // f
        set(1, 2, 0),                                                // A.f = f
        Op::Alloc { ty: 1, fault: NO },                              // a
        get(0, 2),                                                   // m = a.f
        Op::DelAttr {
            o: 3,
            name: Name::Str(2),
            fault: NO,
        }, // del A.f: m and the runner hold f
        call(0, vec![]), // m(): f gives back the runner's handle to f
        call(1, vec![]), // m() again: nothing to give back
        reenter(Step::DropHandle(Subject::First), Then::Propagate), // g
        Op::Dup { o: 4, fault: NO }, // a second handle to a
        set(6, 2, 1),    // A.f = g
        Op::CallMethod {
            o: 0,
            name: Name::Str(2),
            args: vec![],
            fault: NO,
        }, // a.f(): gives back the second handle to a, not the lent one
        Op::Collect {
            generation: 2,
            fault: NO,
        },
    ]);
    assert_eq!(
        (stats.handles_given_back, stats.host_calls),
        (2, 3),
        "{stats:?}"
    );
}

/// A property getter that gives back the runner's handle to `self` and
/// then fails with `OBJ_ERR_ATTRIBUTE`, so that `__getattr__` runs on
/// `self` next: `self` is an argument of the runner's `obj_getattr`, lent
/// (borrowed) for the call, so the handle is not given back (giving it back
/// would break the caller's promise, in CPython as in objrt).
#[test]
fn getter_cannot_give_back_the_lent_self() {
    let stats = check(&[
        class(0, vec![], Spec::Null), // A
        reenter(
            Step::DropHandle(Subject::First),
            Then::GetAttr {
                on: Subject::ClassOfFirst,
                name: 0,
            },
        ), // g: A.x does not exist
        Op::Property {
            getter: 0,
            setter: None,
            fault: NO,
        },
        set(2, 1, 0), // A.y = property(g)
        reenter(
            Step::SetAttr {
                on: Subject::First,
                name: 0,
                value: Subject::First,
            },
            Then::Propagate,
        ),
        set(3, 4, 0),                   // A.__getattr__ = f
        Op::Alloc { ty: 3, fault: NO }, // a
        get(0, 1),                      // a.y: g(a) fails, f(a, 'y') sets a.x = a
    ]);
    assert_eq!(stats.handles_given_back, 0, "{stats:?}");
}

/// `repr` of an item inside 999 tuples works; inside 1,000 it fails with
/// `OBJ_ERR_RECURSION` (CPython's "while getting the repr of an object").
/// Lists the same; and deep tuples are dict keys compared at any depth.
#[test]
fn repr_and_dict_keys_of_deep_nesting() {
    for tuple in [true, false] {
        let stats = check(&[
            Op::Int {
                value: 6,
                fault: NO,
            },
            Op::Nest {
                tuple,
                depth: 4, // 999
                item: 0,
            },
            Op::Inspect { o: 0 },
            Op::Nest {
                tuple,
                depth: 5, // 1000
                item: 1,
            },
            Op::Inspect { o: 0 },
            Op::SeqGet {
                seq: 0,
                index: 0,
                fault: NO,
            },
            Op::Inspect { o: 0 }, // 999 again
        ]);
        assert_eq!(stats.recursions, 1, "{stats:?}");
    }
    check(&[
        Op::Int {
            value: 6,
            fault: NO,
        },
        Op::Nest {
            tuple: true,
            depth: 7, // 2000
            item: 0,
        },
        Op::Nest {
            tuple: true,
            depth: 7,
            item: 1,
        },
        Op::Dict { fault: NO },
        Op::DictSet {
            dict: 0,
            key: 2,
            value: 1,
            fault: NO,
        },
        Op::DictGet {
            dict: 0,
            key: 1,
            fault: NO,
        },
        Op::Drop { o: 1 },
        Op::Drop { o: 1 },
        Op::Collect {
            generation: 0,
            fault: NO,
        },
    ]);
}
