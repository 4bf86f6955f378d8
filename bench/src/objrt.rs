//! The objrt side of the object-model benchmarks: the same classes as the
//! CPython side (`cpython::TWO_ATTRIBUTE_CLASSES` and the bench's
//! `CLASSES`), built through `objmodel`'s API with host functions for
//! `__init__` and methods.

use objmodel::{Heap, Obj, Result, TypeSpec};

/// The benchmark classes of one heap.
pub struct Classes<'h> {
    /// `__init__` sets `x = 1`, `y = 2` in the instance dict.
    pub dict2: Obj<'h>,
    /// `__slots__ = ('x', 'y')`, `__init__` sets both.
    pub slots2: Obj<'h>,
    /// `kind` class attribute, `__init__` sets `x`, `y`; method `get_x`.
    pub obj: Obj<'h>,
    /// `Level5(Level4(...(Level0)))`; `deep` is defined on `Level0`.
    pub level5: Obj<'h>,
}

fn init_xy<'h>(heap: &'h Heap<'h>) -> Result<Obj<'h>> {
    heap.function("__init__", |h, args| {
        args[0].setattr("x", &h.int(1)?)?;
        args[0].setattr("y", &h.int(2)?)?;
        Ok(h.none())
    })
}

impl<'h> Classes<'h> {
    /// Defines the classes in `heap`.
    pub fn new(heap: &'h Heap<'h>) -> Result<Self> {
        let dict2 = heap.new_type("Dict2", &[], &TypeSpec::dict())?;
        dict2.setattr("__init__", &init_xy(heap)?)?;
        let slots2 = heap.new_type(
            "Slots2",
            &[],
            &TypeSpec {
                slots: &["x", "y"],
                ..TypeSpec::default()
            },
        )?;
        slots2.setattr("__init__", &init_xy(heap)?)?;
        let obj = heap.new_type("Obj", &[], &TypeSpec::dict())?;
        obj.setattr("kind", &heap.str("class attribute")?)?;
        obj.setattr("__init__", &init_xy(heap)?)?;
        obj.setattr(
            "get_x",
            &heap.function("get_x", |_, args| args[0].getattr("x"))?,
        )?;
        let mut level = heap.new_type("Level0", &[], &TypeSpec::dict())?;
        level.setattr("deep", &heap.str("five levels up")?)?;
        level.setattr("__init__", &init_xy(heap)?)?;
        for i in 1..=5 {
            level = heap.new_type(&format!("Level{i}"), &[&level], &TypeSpec::dict())?;
        }
        Ok(Self {
            dict2,
            slots2,
            obj,
            level5: level,
        })
    }
}

/// The classes of the collector workloads: `Node` (instances with a
/// `__dict__`) and `TreeNode` (`__slots__ = ('left', 'right', 'parent')`).
pub struct GcClasses<'h> {
    /// A plain class; pairs of its instances point at each other via `other`.
    pub node: Obj<'h>,
    /// The binary tree's node class.
    pub tree_node: Obj<'h>,
    other: Obj<'h>,
    left: Obj<'h>,
    right: Obj<'h>,
    parent: Obj<'h>,
}

impl<'h> GcClasses<'h> {
    /// Defines the classes in `heap`.
    pub fn new(heap: &'h Heap<'h>) -> Result<Self> {
        Ok(Self {
            node: heap.new_type("Node", &[], &TypeSpec::dict())?,
            tree_node: heap.new_type(
                "TreeNode",
                &[],
                &TypeSpec {
                    slots: &["left", "right", "parent"],
                    ..TypeSpec::default()
                },
            )?,
            other: heap.intern("other")?,
            left: heap.intern("left")?,
            right: heap.intern("right")?,
            parent: heap.intern("parent")?,
        })
    }

    /// `pairs` pairs of `Node`s pointing at each other; each pair's first
    /// node is appended to `keep` when given (else the pairs are garbage).
    pub fn pairs(&self, pairs: usize, keep: Option<&Obj<'h>>) -> Result<()> {
        for _ in 0..pairs {
            let a = self.cycle()?;
            if let Some(list) = keep {
                list.list_append(&a)?;
            }
        }
        Ok(())
    }

    /// A new pair of `Node`s pointing at each other; returns the first.
    pub fn cycle(&self) -> Result<Obj<'h>> {
        let a = self.node.new_instance()?;
        let b = self.node.new_instance()?;
        a.setattr_obj(&self.other, &b)?;
        b.setattr_obj(&self.other, &a)?;
        Ok(a)
    }

    /// Cycle churn: `steps` new 2-cycles, the `ring` newest kept reachable
    /// (so they age into older generations before they die), next to
    /// `long_lived` other objects, with automatic collection as configured.
    /// Returns the worst ratio of live to reachable objects, sampled every
    /// `every` steps.
    pub fn churn_peak(
        &self,
        steps: usize,
        ring: usize,
        long_lived: usize,
        every: usize,
    ) -> Result<f64> {
        let heap = self.node.heap();
        let base = heap.stats().objects_live;
        let keep = (0..long_lived)
            .map(|_| self.node.new_instance())
            .collect::<Result<Vec<_>>>()?;
        let mut newest: Vec<Option<Obj<'h>>> = (0..ring).map(|_| None).collect();
        let mut worst: f64 = 0.0;
        for step in 0..steps {
            newest[step % ring] = Some(self.cycle()?);
            if step % every == every - 1 {
                let reachable = long_lived + 2 * (step + 1).min(ring);
                let live = heap.stats().objects_live - base;
                worst = worst.max(live as f64 / reachable as f64);
            }
        }
        drop((keep, newest));
        heap.collect(2);
        Ok(worst)
    }

    /// A complete binary tree of `TreeNode`s with parent pointers.
    pub fn tree(&self, depth: u32) -> Result<Obj<'h>> {
        let node = self.tree_node.new_instance()?;
        if depth > 0 {
            for side in [&self.left, &self.right] {
                let child = self.tree(depth - 1)?;
                child.setattr_obj(&self.parent, &node)?;
                node.setattr_obj(side, &child)?;
            }
        }
        Ok(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use objmodel::with_heap;

    #[test]
    fn the_classes_behave_as_their_python_twins() {
        with_heap(|heap| {
            let c = Classes::new(heap).unwrap();
            let o = c.obj.call(&[]).unwrap();
            assert_eq!(o.getattr("x").unwrap().as_int(), Some(1));
            assert_eq!(o.getattr("kind").unwrap().as_str(), Some("class attribute"));
            assert_eq!(o.call_method("get_x", &[]).unwrap().as_int(), Some(1));
            let leaf = c.level5.call(&[]).unwrap();
            assert_eq!(
                leaf.getattr("deep").unwrap().as_str(),
                Some("five levels up")
            );
            assert_eq!(
                c.slots2.call(&[]).unwrap().getattr("y").unwrap().as_int(),
                Some(2)
            );
            assert_eq!(
                c.dict2.call(&[]).unwrap().getattr("y").unwrap().as_int(),
                Some(2)
            );
        });
    }
}
