//! `repr()`, as Python writes it for every built-in value; instances use
//! their class's `__repr__` when it has one.

use std::fmt::Write;

use crate::call;
use crate::error::{Error, Result};
use crate::heap::Heap;
use crate::kinds::type_object::{Kind, TypeObject, as_type};
use crate::kinds::{containers, function, numbers, str};
use crate::lookup;
use crate::object::{Obj, ObjRef};

/// Python's `repr(o)` as a Rust string.
pub(crate) fn repr_string(o: ObjRef) -> Result<String> {
    let mut out = String::new();
    let mut active = Vec::new();
    write_repr(o, &mut out, &mut active)?;
    Ok(out)
}

fn type_name(ty: &TypeObject) -> String {
    match &ty.module {
        Some(m) => format!("{m}.{}", ty.name_str()),
        None => ty.name_str().to_owned(),
    }
}

/// Appends `repr(o)`; `active` holds the containers being written, so a
/// container inside itself prints as `[...]` / `{...}` as in Python.
fn write_repr(o: ObjRef, out: &mut String, active: &mut Vec<ObjRef>) -> Result<()> {
    let heap: &Heap = o.ty().heap();
    let _level = heap.nest(" while getting the repr of an object")?;
    match o.ty().kind {
        Kind::NoneType => out.push_str("None"),
        Kind::Bool => out.push_str(if numbers::int_value(o) != 0 {
            "True"
        } else {
            "False"
        }),
        Kind::Int => write!(out, "{}", numbers::int_value(o)).expect("writing to a String"),
        Kind::Float => out.push_str(&float_repr(numbers::float_value(o))),
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::Str => str_repr(unsafe { str::as_str(o) }, out),
        Kind::Tuple | Kind::List | Kind::Dict if active.contains(&o) => {
            out.push_str(match o.ty().kind {
                Kind::List => "[...]",
                Kind::Dict => "{...}",
                _ => "(...)",
            });
        }
        Kind::Tuple => {
            active.push(o);
            // SAFETY: matched on the kind; the caller holds `o`.
            let items = unsafe { containers::tuple_items(o) };
            out.push('(');
            for (i, &item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out, active)?;
            }
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
            active.pop();
        }
        Kind::List => {
            active.push(o);
            out.push('[');
            let mut i = 0;
            // Index each time: a __repr__ called on the way may change the list.
            while let Some(item) =
                // SAFETY: matched on the kind; the caller holds `o`; reading
                // an item runs no host code.
                unsafe { containers::with_list(o, |items| items.get(i).copied()) }
            {
                if i > 0 {
                    out.push_str(", ");
                }
                item.incref();
                let r = write_repr(item, out, active);
                item.decref();
                r?;
                i += 1;
            }
            out.push(']');
            active.pop();
        }
        Kind::Dict => {
            active.push(o);
            out.push('{');
            let mut i = 0;
            // SAFETY: matched on the kind; the caller holds `o`.
            while let Some((k, v)) = unsafe { containers::dict_entry(o, i) } {
                if i > 0 {
                    out.push_str(", ");
                }
                k.incref();
                v.incref();
                let r = write_repr(k, out, active).and_then(|()| {
                    out.push_str(": ");
                    write_repr(v, out, active)
                });
                k.decref();
                v.decref();
                r?;
                i += 1;
            }
            out.push('}');
            active.pop();
        }
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::Type => write!(out, "<class '{}'>", type_name(unsafe { as_type(o) }))
            .expect("writing to a String"),
        Kind::Function => write!(
            out,
            "<built-in function {}>",
            // SAFETY: matched on the kind; the caller holds `o`; a
            // function's name is interned when it is made (`new_function`).
            unsafe { str::as_str(function::function(o).name) }
        )
        .expect("writing to a String"),
        Kind::Method => {
            // A host function bound to an instance, as CPython shows a bound built-in.
            // SAFETY: matched on the kind; the caller holds `o`.
            let m = unsafe { function::method(o) };
            let fname = if m.func.ty().kind == Kind::Function {
                // SAFETY: just checked the kind; the method holds its
                // function, whose name is interned (`new_function`).
                unsafe { str::as_str(function::function(m.func).name) }
            } else {
                "?"
            };
            write!(
                out,
                "<built-in method {fname} of {} object at {:#x}>",
                type_name(m.self_.ty()),
                m.self_.addr()
            )
            .expect("writing to a String");
        }
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::WeakRef => match unsafe { crate::kinds::weakref::weakref(o) }.target.get() {
            Some(t) => write!(
                out,
                "<weakref at {:#x}; to '{}' at {:#x}>",
                o.addr(),
                type_name(t.ty()),
                t.addr()
            ),
            None => write!(out, "<weakref at {:#x}; dead>", o.addr()),
        }
        .expect("writing to a String"),
        Kind::Property => {
            write!(out, "<property object at {:#x}>", o.addr()).expect("writing to a String")
        }
        Kind::Member => {
            // SAFETY: matched on the kind; the caller holds `o`.
            let m = unsafe { function::member(o) };
            write!(
                out,
                "<member '{}' of '{}' objects>",
                str::text(m.name).unwrap_or_default(),
                str::text(m.owner_name).unwrap_or_default()
            )
            .expect("writing to a String");
        }
        Kind::Object => match lookup::lookup_in_mro(o.ty(), heap.b().names.repr) {
            Some(f) => {
                let r = call::call_raw(heap, f, &[o])?;
                let result = if r.ty().kind == Kind::Str {
                    // SAFETY: just checked the kind; `r` is held.
                    out.push_str(unsafe { str::as_str(r) });
                    Ok(())
                } else {
                    Err(Error::type_error(format!(
                        "__repr__ returned non-string (type {})",
                        r.ty().name_str()
                    )))
                };
                r.decref();
                result?;
            }
            None => write!(out, "<{} object at {:#x}>", type_name(o.ty()), o.addr())
                .expect("writing to a String"),
        },
    }
    Ok(())
}

/// Python's repr of a str: quotes chosen as Python does, escapes for
/// backslash, the quote, control characters and non-printable code points.
fn str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                write!(out, "\\x{:02x}", c as u32).expect("writing to a String")
            }
            c if (0x80..0xa0).contains(&(c as u32)) || c == '\u{ad}' => {
                write!(out, "\\x{:02x}", c as u32).expect("writing to a String")
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's repr of a float: the shortest text that reads back the same,
/// in fixed notation for exponents -4..16, else scientific (`1e+16`).
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` gives the shortest round-tripping digits: "-1.2345e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("LowerExp has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{text}")
    } else {
        let frac = if digits.len() > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{}{frac}e{esign}{:02}", &digits[..1], exp.abs())
    }
}

impl<'h> Obj<'h> {
    /// Python's `repr(self)`.
    pub fn repr(&self) -> Result<String> {
        repr_string(self.raw())
    }

    /// `repr(self)` as a str object.
    pub fn repr_obj(&self) -> Result<Obj<'h>> {
        let s = repr_string(self.raw())?;
        self.heap().str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::float_repr;

    #[test]
    fn floats_print_as_python_prints_them() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e100, "1e+100"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.5e-7, "1.5e-07"),
            (std::f64::consts::PI, "3.141592653589793"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f:?}");
        }
    }
}
