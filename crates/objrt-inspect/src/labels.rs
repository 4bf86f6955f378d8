//! How every report names things: ids in hexadecimal (they are addresses),
//! an object by its type and, for values, types and functions, what it is,
//! and an edge the way Python code would reach along it (`.name`, `[3]`,
//! `['key']`, `.__class__`).

use crate::snapshot::{Edge, EdgeKind, Object, Snapshot};

/// The hex digits kept by [`short_id`].
const SHORT_ID_DIGITS: usize = 6;

pub use crate::snapshot::format_id;

/// An id short enough for a box of the graph picture: its last six hex
/// digits after `…` when it has more.
pub fn short_id(id: u64) -> String {
    let digits = format!("{id:x}");
    if digits.len() > SHORT_ID_DIGITS {
        format!("…{}", &digits[digits.len() - SHORT_ID_DIGITS..])
    } else {
        format!("0x{digits}")
    }
}

/// An id from the command line: hexadecimal with `0x`, else decimal (the
/// snapshot's own spelling).
pub fn parse_id(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// What an object is: its type, then its value (`int 7`), or its name for
/// types and functions (`type Node`).
pub fn describe_object(object: &Object) -> String {
    match object.value.as_ref().or(object.name.as_ref()) {
        Some(detail) => format!("{} {detail}", object.type_name),
        None => object.type_name.clone(),
    }
}

/// The edge `edge_position` of object `from`, as Python would spell the
/// step: `.items`, `[3]`, `['name']` (a dict's value, by its key's repr
/// when the key has one), `.__class__`.
pub fn edge_label(snapshot: &Snapshot, from: usize, edge_position: usize) -> String {
    let object = &snapshot.objects[from];
    let edge = &object.edges[edge_position];
    let name = edge.name.as_deref().unwrap_or("?");
    let index = || edge.index.map_or_else(|| "?".to_owned(), |i| i.to_string());
    match edge.kind {
        EdgeKind::Type => ".__class__".to_owned(),
        EdgeKind::Attribute | EdgeKind::Slot => format!(".{name}"),
        EdgeKind::Dict | EdgeKind::Namespace => ".__dict__".to_owned(),
        EdgeKind::Payload => "<payload>".to_owned(),
        EdgeKind::Item => format!("[{}]", index()),
        EdgeKind::Key => format!("<key {}>", index()),
        EdgeKind::Value => match dict_key_repr(snapshot, object, edge) {
            Some(key) => format!("[{key}]"),
            None => format!("<value {}>", index()),
        },
        EdgeKind::Base => format!(".__bases__[{}]", index()),
        EdgeKind::Function => ".__func__".to_owned(),
        EdgeKind::SelfObject => ".__self__".to_owned(),
        EdgeKind::Getter => ".fget".to_owned(),
        EdgeKind::Setter => ".fset".to_owned(),
        EdgeKind::Callback => "<callback>".to_owned(),
        EdgeKind::Other => "<reference>".to_owned(),
    }
}

/// The name of an edge's kind, as the snapshot spells it.
pub fn edge_kind_name(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Type => "type",
        EdgeKind::Attribute => "attribute",
        EdgeKind::Slot => "slot",
        EdgeKind::Dict => "dict",
        EdgeKind::Payload => "payload",
        EdgeKind::Item => "item",
        EdgeKind::Key => "key",
        EdgeKind::Value => "value",
        EdgeKind::Namespace => "namespace",
        EdgeKind::Base => "base",
        EdgeKind::Function => "function",
        EdgeKind::SelfObject => "self",
        EdgeKind::Getter => "getter",
        EdgeKind::Setter => "setter",
        EdgeKind::Callback => "callback",
        EdgeKind::Other => "other",
    }
}

/// The repr of the key of the dict entry whose value `value_edge` is.
fn dict_key_repr<'a>(snapshot: &'a Snapshot, dict: &Object, value_edge: &Edge) -> Option<&'a str> {
    let key_edge = dict
        .edges
        .iter()
        .find(|edge| edge.kind == EdgeKind::Key && edge.index == value_edge.index)?;
    snapshot.objects[key_edge.target].value.as_deref()
}

#[cfg(test)]
mod tests {
    use super::{parse_id, short_id};

    #[test]
    fn ids_parse_in_hex_and_decimal_and_shorten_to_six_digits() {
        assert_eq!(parse_id("0x10"), Some(16));
        assert_eq!(parse_id("16"), Some(16));
        assert_eq!(parse_id("0xzz"), None);
        assert_eq!(parse_id("-1"), None);
        assert_eq!(short_id(0x1000), "0x1000");
        assert_eq!(short_id(0x7f3a_0012_3456), "…123456");
    }
}
