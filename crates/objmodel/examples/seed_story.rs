//! The story objrt started from, told in Rust: a parent class with
//! `name = None`, a child class, an instance given its own name, and where
//! each lookup finds its answer.
//!
//! `cargo run -p objmodel --example seed_story`

use objmodel::{Result, TypeSpec, with_heap};

fn main() -> Result<()> {
    with_heap(|heap| {
        // class Parent: name = None
        let parent = heap.new_type("Parent", &[], &TypeSpec::dict())?;
        parent.setattr("name", &heap.none())?;
        // A method lives once, in the class namespace.
        let greet = heap.function("greet", |h, args| {
            let name = args[0].getattr("name")?;
            h.str(&format!("hello from {}", name.repr()?))
        })?;
        parent.setattr("greet", &greet)?;

        // class Child(Parent): pass
        let child = heap.new_type("Child", &[&parent], &TypeSpec::dict())?;
        let mro: Vec<String> = child
            .mro()?
            .iter()
            .map(|t| t.repr())
            .collect::<Result<_>>()?;
        println!("Child's method resolution order: {}", mro.join(" -> "));

        let andrey = child.call(&[])?;
        andrey.setattr("name", &heap.str("Андрей")?)?;
        let other = child.call(&[])?;

        println!(
            "andrey.name = {}   (found in the instance's own attributes)",
            andrey.getattr("name")?.repr()?
        );
        println!(
            "other.name  = {}   (not on the instance: found on Parent)",
            other.getattr("name")?.repr()?
        );

        let bound_a = andrey.getattr("greet")?;
        let bound_b = other.getattr("greet")?;
        println!(
            "Child.greet is Parent's function itself: {}",
            child.getattr("greet")?.is(&greet)
        );
        println!("andrey.greet -> {}", bound_a.repr()?);
        println!("andrey.greet() = {}", bound_a.call(&[])?.repr()?);
        println!("other.greet()  = {}", bound_b.call(&[])?.repr()?);

        let layout = child.instance_layout().expect("a type");
        println!(
            "a Child instance: {} bytes; slots at {:?}; attribute area at {:?}",
            layout.size, layout.slots, layout.dict_offset
        );
        let stats = heap.stats();
        println!(
            "{} objects live, {} bytes in blocks",
            stats.objects_live, stats.memory.bytes_in_use
        );
        Ok(())
    })
}
