//! The object graph as numbers: a directed graph over node indices stored
//! as compressed adjacency lists (one array of targets, one of offsets), so
//! a million objects cost two flat vectors and every walk over it is a loop
//! with its own stack, never a recursion.
//!
//! Key invariant: `targets[offsets[v]..offsets[v + 1]]` are the successors
//! of `v` in the order they were added; for the references of a snapshot
//! that is the order of the object's `edges`, so position `k` of
//! `successors(v)` is edge `k` of object `v`.

/// A directed graph over the nodes `0..node_count()`.
#[derive(Debug, Clone)]
pub struct Digraph {
    /// `offsets[v]..offsets[v + 1]` is where `v`'s successors sit in
    /// `targets`; `offsets.len() == node_count + 1`.
    offsets: Vec<usize>,
    /// Every edge's target, grouped by source.
    targets: Vec<usize>,
}

impl Digraph {
    /// The graph whose node `v` has the successors `adjacency(v)`, for `v`
    /// in `0..node_count`.
    pub fn from_fn<I>(node_count: usize, mut adjacency: impl FnMut(usize) -> I) -> Digraph
    where
        I: IntoIterator<Item = usize>,
    {
        let mut offsets = Vec::with_capacity(node_count + 1);
        let mut targets = Vec::new();
        offsets.push(0);
        for v in 0..node_count {
            targets.extend(adjacency(v));
            offsets.push(targets.len());
        }
        Digraph { offsets, targets }
    }

    /// How many nodes the graph has.
    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The successors of `v`, in the order they were given.
    pub fn successors(&self, v: usize) -> &[usize] {
        &self.targets[self.offsets[v]..self.offsets[v + 1]]
    }

    /// How many edges end at each node (an edge repeated counts each time).
    pub fn in_degrees(&self) -> Vec<u64> {
        let mut degrees = vec![0; self.node_count()];
        for &target in &self.targets {
            degrees[target] += 1;
        }
        degrees
    }

    /// The same graph with every edge turned around: `u` is a successor of
    /// `v` in the result once for each edge `u -> v` here, sources in
    /// increasing order.
    pub fn reversed(&self) -> Digraph {
        let node_count = self.node_count();
        let mut offsets = vec![0; node_count + 1];
        for &target in &self.targets {
            offsets[target + 1] += 1;
        }
        for v in 0..node_count {
            offsets[v + 1] += offsets[v];
        }
        let mut next_free = offsets.clone();
        let mut targets = vec![0; self.targets.len()];
        for source in 0..node_count {
            for &target in self.successors(source) {
                targets[next_free[target]] = source;
                next_free[target] += 1;
            }
        }
        Digraph { offsets, targets }
    }
}

#[cfg(test)]
mod tests {
    use super::Digraph;

    #[test]
    fn reversal_turns_every_edge_around_and_keeps_repeats() {
        let graph = Digraph::from_fn(3, |v| match v {
            0 => vec![1, 2, 2],
            1 => vec![0],
            _ => vec![],
        });
        let reversed = graph.reversed();
        assert_eq!(reversed.successors(0), &[1]);
        assert_eq!(reversed.successors(1), &[0]);
        assert_eq!(reversed.successors(2), &[0, 0]);
        assert_eq!(graph.in_degrees(), vec![1, 1, 2]);
    }
}
