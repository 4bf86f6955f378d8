//! C3 linearization: the method resolution order of a new class.
//!
//! `mro(C) = [C] + merge(mro(B1), ..., mro(Bn), [B1, ..., Bn])`, where merge
//! repeatedly takes the first head that appears in no list's tail. When no
//! head qualifies the hierarchy is inconsistent, and CPython's message names
//! the bases still in play, in order of the lists (one line here, where
//! CPython 3.11 breaks it after "resolution").
//!
//! [`Obj::mro`] reads a type's MRO back (the `__mro__` of Python).

use crate::error::Error;
use crate::object::Obj;
use crate::views::Type;

/// Computes the MRO of a class with direct `bases` (given with their own
/// MROs), excluding the class itself. `name` names a class for the error.
pub(crate) fn c3_merge<T: Copy + Eq>(
    base_mros: &[&[T]],
    bases: &[T],
    name: impl Fn(T) -> String,
) -> Result<Vec<T>, String> {
    let mut lists: Vec<Vec<T>> = base_mros.iter().map(|m| m.to_vec()).collect();
    lists.push(bases.to_vec());
    let mut out = Vec::new();
    loop {
        lists.retain(|l| !l.is_empty());
        if lists.is_empty() {
            return Ok(out);
        }
        let in_a_tail = |c: T, lists: &[Vec<T>]| lists.iter().any(|l| l[1..].contains(&c));
        let Some(head) = lists.iter().map(|l| l[0]).find(|&c| !in_a_tail(c, &lists)) else {
            let mut stuck: Vec<T> = Vec::new();
            for l in &lists {
                if !stuck.contains(&l[0]) {
                    stuck.push(l[0]);
                }
            }
            let names: Vec<String> = stuck.into_iter().map(name).collect();
            return Err(format!(
                "Cannot create a consistent method resolution order (MRO) for bases {}",
                names.join(", ")
            ));
        };
        out.push(head);
        for l in &mut lists {
            if l[0] == head {
                l.remove(0);
            }
        }
    }
}

impl<'h> Obj<'h> {
    /// The MRO of a type, itself first ([`Type::mro`]).
    pub fn mro(&self) -> crate::Result<Vec<Obj<'h>>> {
        let ty = self.as_view::<Type>().ok_or_else(|| {
            Error::type_error(format!(
                "'{}' object is not a type",
                self.raw().ty().name_str()
            ))
        })?;
        Ok(ty.mro().into_iter().map(Type::into_obj).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mro_of(table: &[(char, Vec<char>)], c: char) -> &[char] {
        &table.iter().find(|(k, _)| *k == c).expect("known class").1
    }

    /// Builds MROs for `classes` given as (name, bases), in definition order.
    fn build(classes: &[(char, &str)]) -> Result<Vec<(char, Vec<char>)>, String> {
        let mut table: Vec<(char, Vec<char>)> = vec![('o', vec!['o'])];
        for &(c, bases) in classes {
            let mut bases: Vec<char> = bases.chars().collect();
            if bases.is_empty() {
                bases.push('o');
            }
            let mros: Vec<&[char]> = bases.iter().map(|&b| mro_of(&table, b)).collect();
            let mut mro = vec![c];
            mro.extend(c3_merge(&mros, &bases, |x| x.to_string())?);
            table.push((c, mro));
        }
        Ok(table)
    }

    #[test]
    fn a_diamond_linearizes_as_python_does() {
        // class A; class B(A); class C(A); class D(B, C)  ->  D B C A object
        let t = build(&[('A', ""), ('B', "A"), ('C', "A"), ('D', "BC")]).unwrap();
        assert_eq!(mro_of(&t, 'D'), ['D', 'B', 'C', 'A', 'o']);
    }

    #[test]
    fn the_wikipedia_example_matches_python() {
        // O=o; A,B,C,D,E(O); K1(A,B,C); K2(D,B,E); K3(D,A); Z(K1,K2,K3)
        let t = build(&[
            ('A', ""),
            ('B', ""),
            ('C', ""),
            ('D', ""),
            ('E', ""),
            ('1', "ABC"),
            ('2', "DBE"),
            ('3', "DA"),
            ('Z', "123"),
        ])
        .unwrap();
        assert_eq!(
            mro_of(&t, 'Z'),
            ['Z', '1', '2', '3', 'D', 'A', 'B', 'C', 'E', 'o']
        );
    }

    #[test]
    fn an_inconsistent_order_is_refused_with_cpythons_message() {
        // class X; class Y(X); class Z(X, Y)
        let err = build(&[('X', ""), ('Y', "X"), ('Z', "XY")]).unwrap_err();
        assert_eq!(
            err,
            "Cannot create a consistent method resolution order (MRO) for bases X, Y"
        );
    }
}
