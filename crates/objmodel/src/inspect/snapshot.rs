//! Heap snapshots: what a heap holds, written as the JSON document of
//! `docs/heap-snapshot.md` (version 1), for `objrt-inspect` and any JSON
//! tool.
//!
//! The objects are every tracked one (from the collector's lists, with
//! their generation) and, closing over the edges, every untracked object
//! one of them refers to (atoms, functions, immortal built-ins). Each is
//! one line of the `objects` array, written as it is visited, so the
//! writer holds only the set of ids seen: it takes nothing from the heap
//! it describes (no object is made or counted, no heap memory allocated)
//! and runs no host code except payload traverse hooks, which may only
//! report.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use crate::gc::{Edge, for_each_edge, is_tracked, object, prefix};
use crate::heap::Heap;
use crate::inspect::repr;
use crate::kinds::instance::InstanceEdge;
use crate::kinds::type_object::{Kind, TypeObject, as_type};
use crate::kinds::{function, str};
use crate::lifecycle::death::object_size;
use crate::object::ObjRef;

/// Characters of a value's `repr` kept in the snapshot.
const VALUE_CHARS: usize = 80;

impl<'h> Heap<'h> {
    /// Writes a snapshot of the heap to `out` (see `docs/heap-snapshot.md`).
    /// Costs time proportional to the objects in it; `out` is best
    /// buffered.
    pub fn write_snapshot(&self, out: &mut dyn Write) -> io::Result<()> {
        let stats = self.stats();
        write!(
            out,
            "{{\"format\":\"objrt-heap-snapshot\",\"version\":1,\
             \"heap\":{{\"objects_live\":{},\"bytes_in_use\":{},\"bytes_reserved\":{}}},\
             \"objects\":[",
            stats.objects_live, stats.memory.bytes_in_use, stats.memory.bytes_reserved
        )?;
        let mut writer = ObjectWriter {
            out,
            seen: HashSet::new(),
            edges: Vec::new(),
            untracked: Vec::new(),
            slot_names: HashMap::new(),
            first: true,
        };
        let collector = &self.collector;
        for g in 0..objgc::GENERATIONS {
            for o in collector.objects(Some(g)) {
                writer.object(object(o), Generation::Young(g))?;
            }
        }
        for o in collector.frozen() {
            writer.object(object(o), Generation::Permanent)?;
        }
        for o in collector.saved() {
            writer.object(object(o), Generation::Garbage)?;
        }
        while let Some(o) = writer.untracked.pop() {
            writer.object(o, Generation::Untracked)?;
        }
        writer.out.write_all(b"\n],\"arenas\":[")?;
        for (i, arena) in self.arena_map().iter().enumerate() {
            let sep = if i == 0 { "\n" } else { ",\n" };
            write!(
                writer.out,
                "{sep}{{\"address\":{},\"pools\":[",
                arena.address
            )?;
            for (j, pool) in arena.pools.iter().enumerate() {
                let sep = if j == 0 { "" } else { "," };
                match pool {
                    Some(p) => write!(
                        writer.out,
                        "{sep}{{\"block_size\":{},\"used\":{},\"capacity\":{}}}",
                        p.block_size, p.used, p.capacity
                    )?,
                    None => write!(writer.out, "{sep}null")?,
                }
            }
            writer.out.write_all(b"]}")?;
        }
        writer.out.write_all(b"\n]}\n")
    }
}

/// Where an object is, for its `generation` field.
#[derive(Clone, Copy)]
enum Generation {
    Young(usize),
    Permanent,
    Garbage,
    Untracked,
}

/// Writes object records, remembering what it wrote.
struct ObjectWriter<'w> {
    out: &'w mut dyn Write,
    /// Untracked objects written or queued (a tracked object is in one of
    /// the collector's lists, so it comes up once).
    seen: HashSet<ObjRef>,
    /// The edges of the object being written (kept for its capacity).
    edges: Vec<(Edge, ObjRef)>,
    /// Untracked objects referred to and not written yet.
    untracked: Vec<ObjRef>,
    /// Slot names per class, in layout order.
    slot_names: HashMap<*const TypeObject, Vec<String>>,
    first: bool,
}

impl ObjectWriter<'_> {
    fn object(&mut self, o: ObjRef, generation: Generation) -> io::Result<()> {
        let ty = o.ty();
        let sep = if self.first { "\n" } else { ",\n" };
        self.first = false;
        write!(self.out, "{sep}{{\"id\":{},\"type\":", o.addr())?;
        json_str(self.out, ty.name_str())?;
        write!(
            self.out,
            ",\"kind\":\"{}\",\"size\":{},\"refcount\":",
            kind_name(ty.kind),
            prefix(ty.kind) + object_size(o)
        )?;
        if o.is_immortal() {
            self.out.write_all(b"null")?;
        } else {
            write!(self.out, "{}", o.refcount())?;
        }
        match generation {
            Generation::Young(g) => write!(self.out, ",\"generation\":{g}")?,
            Generation::Permanent => self.out.write_all(b",\"generation\":\"permanent\"")?,
            Generation::Garbage => self.out.write_all(b",\"generation\":\"garbage\"")?,
            Generation::Untracked => self.out.write_all(b",\"generation\":null")?,
        }
        match ty.kind {
            Kind::NoneType | Kind::Bool | Kind::Int | Kind::Float | Kind::Str => {
                if let Ok(r) = repr::repr_string(o) {
                    self.out.write_all(b",\"value\":")?;
                    json_str(self.out, &shortened(&r))?;
                }
            }
            Kind::Type => {
                self.out.write_all(b",\"name\":")?;
                // SAFETY: matched on the kind; `o` is live.
                json_str(self.out, unsafe { as_type(o) }.name_str())?;
            }
            Kind::Function => {
                self.out.write_all(b",\"name\":")?;
                // SAFETY: matched on the kind; `o` is live.
                let name = unsafe { function::function(o) }.name;
                json_str(self.out, str::text(name).unwrap_or(""))?;
            }
            _ => {}
        }
        self.out.write_all(b",\"edges\":[")?;
        let mut edges = core::mem::take(&mut self.edges);
        edges.clear();
        for_each_edge::<true>(o, |edge, to| edges.push((edge.expect("named"), to)));
        for (i, &(edge, to)) in edges.iter().enumerate() {
            self.edge(o, i, edge, to)?;
        }
        self.edges = edges;
        self.out.write_all(b"]}")
    }

    /// Writes one edge of `from` and queues its target if it is untracked
    /// and new.
    fn edge(&mut self, from: ObjRef, i: usize, edge: Edge, to: ObjRef) -> io::Result<()> {
        if !is_tracked(to) && self.seen.insert(to) {
            self.untracked.push(to);
        }
        let sep = if i == 0 { "" } else { "," };
        write!(self.out, "{sep}{{\"to\":{},\"kind\":", to.addr())?;
        match edge {
            Edge::Type => self.out.write_all(b"\"type\"")?,
            Edge::Instance(InstanceEdge::Attribute(name)) => {
                self.out.write_all(b"\"attribute\",\"name\":")?;
                json_str(self.out, str::text(name).unwrap_or(""))?;
            }
            Edge::Instance(InstanceEdge::Slot(k)) => {
                self.out.write_all(b"\"slot\",\"name\":")?;
                let name = self.slot_name(from, k);
                json_str(self.out, &name)?;
            }
            Edge::Instance(InstanceEdge::Dict) => self.out.write_all(b"\"dict\"")?,
            Edge::Instance(InstanceEdge::Payload) => self.out.write_all(b"\"payload\"")?,
            Edge::Namespace => self.out.write_all(b"\"namespace\"")?,
            Edge::Base(k) => write!(self.out, "\"base\",\"index\":{k}")?,
            Edge::Item(k) => write!(self.out, "\"item\",\"index\":{k}")?,
            Edge::Key(k) => write!(self.out, "\"key\",\"index\":{k}")?,
            Edge::Value(k) => write!(self.out, "\"value\",\"index\":{k}")?,
            Edge::Function => self.out.write_all(b"\"function\"")?,
            Edge::SelfObject => self.out.write_all(b"\"self\"")?,
            Edge::Getter => self.out.write_all(b"\"getter\"")?,
            Edge::Setter => self.out.write_all(b"\"setter\"")?,
            Edge::Callback => self.out.write_all(b"\"callback\"")?,
        }
        self.out.write_all(b"}")
    }

    /// The name of slot `k` of `o`'s class: the member descriptor found
    /// along the MRO at that slot's offset (cached per class).
    fn slot_name(&mut self, o: ObjRef, k: usize) -> String {
        let ty = o.ty();
        let names = self
            .slot_names
            .entry(core::ptr::from_ref(ty))
            .or_insert_with(|| {
                ty.layout
                    .slots
                    .iter()
                    .map(|&offset| {
                        member_name(ty, offset).unwrap_or_else(|| format!("slot{offset}"))
                    })
                    .collect()
            });
        names.get(k).cloned().unwrap_or_default()
    }
}

/// The name of the member descriptor for the slot at `offset` on `ty`'s MRO.
fn member_name(ty: &TypeObject, offset: usize) -> Option<String> {
    ty.mro_types().find_map(|t| {
        // SAFETY: a type's namespace is a live dict; the closure only reads.
        unsafe {
            crate::kinds::containers::with_dict(t.dict, |map| {
                map.iter()
                    // SAFETY: matched on the kind just before.
                    .find(|(_, v)| {
                        v.ty().kind == Kind::Member && function::member(**v).offset == offset
                    })
                    .and_then(|(k, _)| str::text(*k).map(str::to_owned))
            })
        }
    })
}

/// The snapshot's name of a kind.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Object => "instance",
        Kind::Type => "type",
        Kind::NoneType => "none",
        Kind::Bool => "bool",
        Kind::Int => "int",
        Kind::Float => "float",
        Kind::Str => "str",
        Kind::Tuple => "tuple",
        Kind::List => "list",
        Kind::Dict => "dict",
        Kind::Function => "function",
        Kind::Method => "method",
        Kind::Property => "property",
        Kind::Member => "member",
        Kind::WeakRef => "weakref",
    }
}

/// `s` cut to [`VALUE_CHARS`] characters, with `...` when cut.
fn shortened(s: &str) -> String {
    match s.char_indices().nth(VALUE_CHARS) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_owned(),
    }
}

/// Writes `s` as a JSON string.
fn json_str(out: &mut dyn Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.write_all(&s.as_bytes()[start..i])?;
        if escaped.is_empty() {
            write!(out, "\\u{:04x}", c as u32)?;
        } else {
            out.write_all(escaped.as_bytes())?;
        }
        start = i + c.len_utf8();
    }
    out.write_all(&s.as_bytes()[start..])?;
    out.write_all(b"\"")
}
