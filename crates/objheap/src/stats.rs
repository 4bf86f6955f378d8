//! Heap statistics: the figures of CPython's `sys._debugmallocstats()`,
//! per heap and per size class, and a readable dump of them.

use core::fmt;

use crate::arena::{ARENA_SIZE, POOL_SIZE};
use crate::size_class::NUM_SIZE_CLASSES;

/// Figures for one size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClassStats {
    /// Bytes per block.
    pub block_size: usize,
    /// Pools set up for this class (each has at least one block in use).
    pub pools: usize,
    /// Blocks handed out and not yet freed.
    pub blocks_in_use: usize,
    /// Blocks of this class's pools that are free (on free lists or never used).
    pub blocks_free: usize,
}

/// A snapshot of a heap's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeapStats {
    /// Blocks in use, pooled and large.
    pub blocks_in_use: usize,
    /// Bytes in blocks in use: whole pooled blocks, plus large requests.
    pub bytes_in_use: usize,
    /// Bytes taken from the system: arenas, plus large blocks with their headers.
    pub bytes_reserved: usize,
    /// High-water mark of `bytes_reserved`.
    pub peak_bytes_reserved: usize,
    /// Arenas mapped (the spare included).
    pub arenas: usize,
    /// Pools in use (holding at least one block).
    pub pools: usize,
    /// Pools of the mapped arenas holding no block.
    pub empty_pools: usize,
    /// Blocks over the pooled maximum, served by the large-block allocator.
    pub large_blocks: usize,
    /// Bytes requested in large blocks.
    pub large_bytes: usize,
    /// The memory limit on `bytes_reserved`, if any.
    pub memory_limit: Option<usize>,
    /// Figures per size class, smallest first.
    pub classes: [ClassStats; NUM_SIZE_CLASSES],
}

impl fmt::Display for HeapStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "class   size   pools   blocks in use   blocks free")?;
        writeln!(f, "-----   ----   -----   -------------   -----------")?;
        for (i, c) in self.classes.iter().enumerate().filter(|(_, c)| c.pools > 0) {
            writeln!(
                f,
                "{i:>5}   {:>4}   {:>5}   {:>13}   {:>11}",
                c.block_size, c.pools, c.blocks_in_use, c.blocks_free
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "# arenas mapped                = {:>12}  ({} bytes each)",
            self.arenas, ARENA_SIZE
        )?;
        writeln!(
            f,
            "# pools in use                 = {:>12}  ({} bytes each)",
            self.pools, POOL_SIZE
        )?;
        writeln!(
            f,
            "# empty pools                  = {:>12}",
            self.empty_pools
        )?;
        writeln!(
            f,
            "# blocks in use                = {:>12}",
            self.blocks_in_use
        )?;
        writeln!(
            f,
            "# bytes in blocks in use       = {:>12}",
            self.bytes_in_use
        )?;
        writeln!(
            f,
            "# large blocks                 = {:>12}  ({} bytes)",
            self.large_blocks, self.large_bytes
        )?;
        writeln!(
            f,
            "# bytes reserved               = {:>12}",
            self.bytes_reserved
        )?;
        writeln!(
            f,
            "# peak bytes reserved          = {:>12}",
            self.peak_bytes_reserved
        )?;
        match self.memory_limit {
            Some(limit) => writeln!(f, "# memory limit                 = {limit:>12}"),
            None => writeln!(f, "# memory limit                 =         none"),
        }
    }
}

/// One pool as [`crate::Heap::arena_map`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOccupancy {
    /// Bytes of each block of the pool's size class.
    pub block_size: usize,
    /// Blocks in use.
    pub used: usize,
    /// Blocks the pool holds.
    pub capacity: usize,
}

/// One arena as [`crate::Heap::arena_map`] sees it: its pools in address
/// order, `None` for an empty one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArenaOccupancy {
    /// The arena's first byte.
    pub address: usize,
    /// Its [`crate::POOLS_PER_ARENA`] pools.
    pub pools: Vec<Option<PoolOccupancy>>,
}
