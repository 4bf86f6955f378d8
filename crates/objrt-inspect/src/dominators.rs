//! Retained sizes: for each object, the bytes and objects that only it
//! keeps alive, i.e. its subtree in the dominator tree of the reference
//! graph seen from a virtual root that points at every root.
//!
//! Object `d` dominates object `o` when every path from the roots to `o`
//! passes through `d`; freeing `d` (dropping what holds it) frees every
//! object it dominates. The immediate dominators come from the
//! Lengauer-Tarjan algorithm (the "simple" version: path compression
//! without balancing, O(E log V)), written with explicit stacks throughout:
//! the depth-first numbering, and the path compression of `eval`, so a
//! chain of a million objects needs no deep recursion.
//!
//! Everything below works on depth-first preorder numbers (the virtual
//! root is number 0), in which a vertex's semidominator is itself a number
//! and every dominator has a smaller number than what it dominates.

use crate::digraph::Digraph;
use crate::snapshot::Snapshot;

/// "No vertex" in the forests of the algorithm.
const NONE: usize = usize::MAX;

/// What each object keeps alive.
#[derive(Debug, Clone)]
pub struct Retention {
    /// Per object: the bytes of its dominator subtree (itself included),
    /// `None` when no root reaches it (it is garbage).
    pub retained_bytes: Vec<Option<u64>>,
    /// Per object: the objects of its dominator subtree (itself included),
    /// `None` when no root reaches it.
    pub retained_objects: Vec<Option<u64>>,
}

/// Retained sizes of every object of `snapshot`.
pub fn retention(snapshot: &Snapshot) -> Retention {
    let object_count = snapshot.objects.len();
    let roots = snapshot.roots();
    let tree = DominatorTree::new(snapshot.references(), &roots);
    let mut bytes: Vec<u64> = tree
        .order
        .iter()
        .map(|&node| snapshot.objects.get(node).map_or(0, |object| object.size))
        .collect();
    let mut objects: Vec<u64> = tree
        .order
        .iter()
        .map(|&node| u64::from(node < object_count))
        .collect();
    for number in (1..tree.order.len()).rev() {
        let dominator = tree.idom[number];
        bytes[dominator] += bytes[number];
        objects[dominator] += objects[number];
    }
    let mut retention = Retention {
        retained_bytes: vec![None; object_count],
        retained_objects: vec![None; object_count],
    };
    for (number, &node) in tree.order.iter().enumerate().skip(1) {
        retention.retained_bytes[node] = Some(bytes[number]);
        retention.retained_objects[node] = Some(objects[number]);
    }
    retention
}

/// The dominator tree of the graph plus a virtual root (node
/// `graph.node_count()`) whose successors are `roots`, over the nodes it
/// reaches.
struct DominatorTree {
    /// `order[n]` is the node numbered `n` in depth-first preorder;
    /// `order[0]` is the virtual root.
    order: Vec<usize>,
    /// `idom[n]` is the number of the immediate dominator of number `n`
    /// (`idom[0] == 0`); always `idom[n] < n` for `n > 0`.
    idom: Vec<usize>,
}

impl DominatorTree {
    fn new(graph: &Digraph, roots: &[usize]) -> DominatorTree {
        let virtual_root = graph.node_count();
        let successors = |node: usize| {
            if node == virtual_root {
                roots
            } else {
                graph.successors(node)
            }
        };
        let (order, number_of, parent) = depth_first_preorder(virtual_root, successors);
        let count = order.len();
        // The graph again in preorder numbers, turned around.
        let predecessors = Digraph::from_fn(count, |number| {
            successors(order[number])
                .iter()
                .map(|&node| number_of[node])
        })
        .reversed();

        let mut semi: Vec<usize> = (0..count).collect();
        let mut label: Vec<usize> = (0..count).collect();
        let mut ancestor = vec![NONE; count];
        let mut idom = vec![0; count];
        // Each vertex waits in the bucket of its semidominator: a linked
        // list threaded through `bucket_next`.
        let mut bucket_head = vec![NONE; count];
        let mut bucket_next = vec![NONE; count];
        let mut compress_stack = Vec::new();

        for w in (1..count).rev() {
            for &v in predecessors.successors(w) {
                let u = eval(v, &mut ancestor, &mut label, &semi, &mut compress_stack);
                if semi[u] < semi[w] {
                    semi[w] = semi[u];
                }
            }
            bucket_next[w] = bucket_head[semi[w]];
            bucket_head[semi[w]] = w;
            let p = parent[w];
            ancestor[w] = p;
            let mut v = std::mem::replace(&mut bucket_head[p], NONE);
            while v != NONE {
                let u = eval(v, &mut ancestor, &mut label, &semi, &mut compress_stack);
                idom[v] = if semi[u] < semi[v] { u } else { p };
                v = bucket_next[v];
            }
        }
        for w in 1..count {
            if idom[w] != semi[w] {
                idom[w] = idom[idom[w]];
            }
        }
        DominatorTree { order, idom }
    }
}

/// Numbers the nodes reached from `start` in depth-first preorder, with an
/// explicit stack. Returns the nodes by number, the number of each node
/// (`NONE` when not reached), and each number's depth-first parent (the
/// start's is itself).
fn depth_first_preorder<'a>(
    start: usize,
    successors: impl Fn(usize) -> &'a [usize],
) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let mut number_of = vec![NONE; start + 1];
    let mut order = vec![start];
    let mut parent = vec![0];
    number_of[start] = 0;
    // Each frame: a node and the position of its next successor to visit.
    let mut stack = vec![(start, 0usize)];
    while let Some(frame) = stack.last_mut() {
        let (node, next) = *frame;
        match successors(node).get(next) {
            Some(&child) => {
                frame.1 += 1;
                if number_of[child] == NONE {
                    number_of[child] = order.len();
                    parent.push(number_of[node]);
                    order.push(child);
                    stack.push((child, 0));
                }
            }
            None => {
                stack.pop();
            }
        }
    }
    (order, number_of, parent)
}

/// Lengauer-Tarjan's `eval`: the vertex of least semidominator on the
/// forest path above `v` (`v` itself when `v` is a forest root), after
/// compressing that path.
fn eval(
    v: usize,
    ancestor: &mut [usize],
    label: &mut [usize],
    semi: &[usize],
    stack: &mut Vec<usize>,
) -> usize {
    if ancestor[v] == NONE {
        return v;
    }
    // The vertices whose ancestor link is to be shortened, nearest first;
    // processed farthest first, as the recursive version returns.
    stack.clear();
    let mut x = v;
    while ancestor[ancestor[x]] != NONE {
        stack.push(x);
        x = ancestor[x];
    }
    for &x in stack.iter().rev() {
        let a = ancestor[x];
        if semi[label[a]] < semi[label[x]] {
            label[x] = label[a];
        }
        ancestor[x] = ancestor[a];
    }
    label[v]
}

#[cfg(test)]
mod tests {
    use super::DominatorTree;
    use crate::digraph::Digraph;

    /// The immediate dominator of each node (the virtual root as `None`).
    fn idoms(graph: &Digraph, roots: &[usize]) -> Vec<Option<usize>> {
        let tree = DominatorTree::new(graph, roots);
        let mut result = vec![None; graph.node_count()];
        for (number, &node) in tree.order.iter().enumerate().skip(1) {
            let dominator = tree.order[tree.idom[number]];
            result[node] = (dominator != graph.node_count()).then_some(dominator);
        }
        result
    }

    #[test]
    fn diamond_and_cycle() {
        // 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, 3 -> 4, 4 -> 3 (a cycle).
        let graph = Digraph::from_fn(5, |v| match v {
            0 => vec![1, 2],
            1 | 2 => vec![3],
            3 => vec![4],
            _ => vec![3],
        });
        assert_eq!(
            idoms(&graph, &[0]),
            vec![None, Some(0), Some(0), Some(0), Some(3)]
        );
        // A second root reaching 3 directly: 3 is then dominated by
        // nothing but the virtual root.
        assert_eq!(
            idoms(&graph, &[0, 4]),
            vec![None, Some(0), Some(0), None, None]
        );
    }

    /// The classic example of Lengauer and Tarjan's paper (R = 0, A..L =
    /// 1..12), where semidominators and dominators differ.
    #[test]
    fn lengauer_tarjan_paper_example() {
        let (r, a, b, c, d, e, f, g, h, i, j, k, l) = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        let edges: Vec<Vec<usize>> = vec![
            vec![a, b, c],
            vec![d],
            vec![a, d, e],
            vec![f, g],
            vec![l],
            vec![h],
            vec![i],
            vec![i, j],
            vec![e, k],
            vec![k],
            vec![i],
            vec![i, r],
            vec![h],
        ];
        let graph = Digraph::from_fn(13, |v| edges[v].clone());
        let expected = [
            None,
            Some(r),
            Some(r),
            Some(r),
            Some(r),
            Some(r),
            Some(c),
            Some(c),
            Some(r),
            Some(r),
            Some(g),
            Some(r),
            Some(d),
        ];
        assert_eq!(idoms(&graph, &[r]), expected);
    }
}
