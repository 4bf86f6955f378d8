//! A minimal host of objgc's collector: nodes in `Box`es that hold counted
//! references to each other. Two nodes pointing at each other survive
//! reference counting; a collection finds and frees them, and leaves a
//! node that is held from outside alone: `cargo run -p objgc --example cycles`.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use objgc::{Collector, Gc, GcHost, GcLinks};

/// A node: the collector's links first, so a node's address is its links'.
#[repr(C)]
struct Node {
    links: GcLinks,
    count: Cell<usize>,
    name: &'static str,
    children: RefCell<Vec<Gc>>,
}

fn node(o: Gc) -> &'static Node {
    // SAFETY: every `Gc` of this program is the first field of a live,
    // leaked `Node` (freed only by `Nodes::decref` at count zero).
    unsafe { o.cast::<Node>().as_ref() }
}

/// The host: the collector and how to count and free nodes.
struct Nodes {
    gc: Collector,
}

impl Nodes {
    fn new_node(&self, name: &'static str) -> Gc {
        let n = Box::leak(Box::new(Node {
            links: GcLinks::new(),
            count: Cell::new(1),
            name,
            children: RefCell::new(Vec::new()),
        }));
        let o = NonNull::from(n).cast::<GcLinks>();
        // SAFETY: a new, untracked node, untracked again before it is freed.
        unsafe { self.gc.track(o) };
        o
    }

    fn link(&self, from: Gc, to: Gc) {
        self.incref(to);
        node(from).children.borrow_mut().push(to);
    }
}

// SAFETY: a node's count is the number of handles to it; `traverse`
// reports the children, each a live node whose count it holds; `decref`
// untracks before freeing; all on one thread.
unsafe impl GcHost for Nodes {
    fn refcount(&self, o: Gc) -> usize {
        node(o).count.get()
    }
    fn traverse(&self, o: Gc, mut visit: impl FnMut(Gc)) {
        node(o).children.borrow().iter().for_each(|&c| visit(c));
    }
    fn incref(&self, o: Gc) {
        node(o).count.set(node(o).count.get() + 1);
    }
    fn decref(&self, o: Gc) {
        let n = node(o);
        n.count.set(n.count.get() - 1);
        if n.count.get() == 0 {
            println!("freeing {}", n.name);
            // SAFETY: tracked until now, and freed right after.
            unsafe { self.gc.untrack(o) };
            for c in n.children.take() {
                self.decref(c);
            }
            // SAFETY: made by `Box::leak` in `new_node`; nothing refers to it.
            drop(unsafe { Box::from_raw(o.cast::<Node>().as_ptr()) });
        }
    }
    fn clear(&self, o: Gc) {
        for c in node(o).children.take() {
            self.decref(c);
        }
    }
}

fn main() {
    let host = Nodes {
        gc: Collector::new(),
    };
    let (a, b) = (host.new_node("a"), host.new_node("b"));
    host.link(a, b);
    host.link(b, a);
    let kept = host.new_node("kept");
    host.decref(a);
    host.decref(b); // a and b only hold each other now
    let found = host.gc.collect(&host, 2);
    println!("the collection found {found} unreachable nodes");
    assert_eq!(found, 2);
    host.decref(kept);
}
