//! An insertion-ordered hash map: the storage engine of `dict`.
//!
//! This is CPython's "compact dict" (`Objects/dictobject.c`): a dense array of
//! entries kept in insertion order, and a sparse hash table that holds nothing
//! but positions into that array. Python's rules for keys (`1`, `1.0` and
//! `True` are one key) belong to the object model, so the map never hashes or
//! compares a key itself: every lookup is handed the key's hash and an `eq`
//! closure, and a rehash reads the hash stored in each entry.
//!
//! # Layout
//!
//! ```text
//!   indices: HashTable<u32, A>              entries: Vec<Option<Entry<K, V>>, A>
//!   sparse, filed under each entry's        dense, in insertion order
//!   stored hash; holds positions            +---------------------------------+
//!   +---+---+---+---+---+---+---+---+     0 | hash | key "a" | value 1       | <-- 0
//!   |   | 3 |   | 0 |   |   | 2 |   |     1 | None  (tombstone: "b" removed)  |     (no index)
//!   +---+---+---+---+---+---+---+---+     2 | hash | key "c" | value 3       | <-- 2
//!                                         3 | hash | key "d" | value 4       | <-- 3
//!                                           +---------------------------------+
//!                                             len 4 = 3 live + 1 tombstone;
//!                                             capacity grows by doubling
//!
//!   cursor: Cell<Cursor { rank: 1, raw: 2 }>: entries[..2] hold exactly 1 live entry
//! ```
//!
//! A *position* (`raw`) is an index into `entries`, tombstones included; a
//! *rank* is an index among the live entries only, which is what `dict`
//! exposes (`obj_dict_item(dict, i)`). Without tombstones the two are equal.
//!
//! # Invariants
//!
//! With `live` the number of `Some` slots of `entries` and `tombstones` the
//! number of `None` slots, between any two calls:
//!
//! 1. `indices.len() == live` and `entries.len() == live + tombstones`.
//! 2. `tombstones <= live`, so `entries.len() <= 2 * live`: `remove` compacts
//!    when it would break this.
//! 3. `entries.last()` is live or absent: `remove` pops trailing tombstones, so
//!    removing the newest entry (Python's `popitem`) leaves none behind.
//! 4. Every `p` in `indices` has `entries[p] == Some(e)`, and `p` is filed
//!    under `e.hash` (`indices.find(e.hash, |&q| q == p)` finds it). With 1,
//!    each live entry has exactly one index.
//! 5. `entries.len() <= MAX_ENTRIES` (`u32::MAX`), so positions fit a `u32`.
//! 6. `cursor.raw <= entries.len()` and `entries[..cursor.raw]` holds exactly
//!    `cursor.rank` live entries.
//!
//! `OrderedMap::assert_valid` (tests only) checks all six.
//!
//! # Costs
//!
//! | operation                       | cost                                                      |
//! |---------------------------------|-----------------------------------------------------------|
//! | `get`, `get_mut`                | O(1) expected probes                                      |
//! | `try_insert` (existing key)     | O(1) expected                                             |
//! | `try_insert` (new key)          | O(1) amortised: doubling vector, rehash by stored hashes  |
//! | `remove`                        | O(1) amortised: a compaction is paid by its tombstones    |
//! | `get_index`, `index_of`         | O(1) without tombstones, else O(1 + distance walked)      |
//! | `iter`                          | O(live + tombstones) = O(live) by invariant 2             |
//! | `compact`                       | O(live + tombstones), no allocation                       |
//! | `clear`, `drain`                | O(1) plus dropping the entries                            |
//!
//! `eq` is only ever called on an entry whose stored hash equals the hash it
//! was probed with, as CPython does, so a Python `__eq__` never runs for keys
//! whose hashes differ.
//!
//! # Compaction
//!
//! A removed entry becomes a tombstone so the others keep their positions
//! (and their index-table slots stay valid). Compaction moves the live entries
//! down in order and rewrites each moved entry's slot in `indices`, found by
//! probing with its stored hash. It runs when
//!
//! - `remove` would leave `tombstones > live` (invariant 2); it costs
//!   O(live + tombstones) <= O(2 * tombstones + 1), and every tombstone was made
//!   by a `remove` since the previous compaction: O(1) amortised per `remove`;
//! - an append finds the entries vector full and at least one slot in
//!   `FULL_COMPACT_DIVISOR` is a tombstone: compacting instead of doubling keeps
//!   a map with steady churn (insert new, delete old) from growing, and costs
//!   at most `FULL_COMPACT_DIVISOR` slots moved per tombstone.
//!
//! # Rank lookups
//!
//! `get_index(i)` and `index_of` convert between ranks and positions. Without
//! tombstones that is the identity. With tombstones they walk `entries` from
//! the nearest of three anchors whose rank and position are known (the start,
//! the end, and `cursor`, the last answer given) and leave `cursor` at the
//! answer. A loop `for i in 0..len { get_index(i) }` therefore walks `entries`
//! once in total: O(1) amortised per call, through `&self`. `compact` makes
//! every later call O(1) until the next `remove`.
//!
//! # Failure
//!
//! Every operation that may allocate is fallible and returns
//! [`TryReserveError`]; on failure the map holds the same entries in the same
//! order as before (its spare capacity may have grown, and tombstones may have
//! been compacted away, neither of which is observable). `try_insert` hands the
//! key and value back inside [`InsertError`], so a caller whose keys are raw
//! object pointers can release its references. Nothing allocates on `new_in`,
//! `remove`, `compact`, `clear` or `drain`.
//!
//! # Threads
//!
//! The cursor is a `Cell`, so the map is `Send` (when `K`, `V` and `A` are) but
//! not `Sync`: `dict` calls on a heap are serialised by the host anyway.

#![cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "the dict object uses a subset of this API; remove once it is wired up"
    )
)]

use core::cell::Cell;
use core::fmt;
use core::iter::FusedIterator;
use core::mem;

use allocator_api2::alloc::{Allocator, Global};
use allocator_api2::collections::TryReserveErrorKind;
use allocator_api2::vec::{self, Vec};
use hashbrown::HashTable;

pub(crate) use hashbrown::TryReserveError;

/// Most slots (live entries plus tombstones) `entries` may hold: positions are
/// stored in the index table as `u32` (invariant 5).
const MAX_ENTRIES: usize = u32::MAX as usize;

// `MAX_ENTRIES` above must not truncate.
const _: () = assert!(usize::BITS >= u32::BITS);

/// An append that finds `entries` full compacts instead of growing when at
/// least `1 / FULL_COMPACT_DIVISOR` of its slots are tombstones.
const FULL_COMPACT_DIVISOR: usize = 8;

/// One slot of `entries`: a live entry, or `None` for a tombstone.
type Slot<K, V> = Option<Entry<K, V>>;

/// A live entry: the key's hash as the caller computed it, the key, the value.
struct Entry<K, V> {
    /// The hash the entry was inserted with; rehashing and compaction probe
    /// with it, and lookups compare it before calling `eq`.
    hash: u64,
    /// The key as first inserted (a later equal key replaces only the value).
    key: K,
    /// The value.
    value: V,
}

/// A known pair of rank and position (invariant 6): `entries[..raw]` holds
/// exactly `rank` live entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    /// Live entries before `raw`.
    rank: u32,
    /// A position in `0..=entries.len()`.
    raw: u32,
}

impl Cursor {
    /// The anchor every map has: nothing lies before position 0.
    const START: Self = Self { rank: 0, raw: 0 };

    /// A cursor from `usize`s that invariant 5 keeps below `u32::MAX`.
    fn new(rank: usize, raw: usize) -> Self {
        debug_assert!(rank <= raw && raw <= MAX_ENTRIES);
        Self {
            rank: rank as u32,
            raw: raw as u32,
        }
    }

    /// The rank as a `usize`.
    fn rank(self) -> usize {
        self.rank as usize
    }

    /// The position as a `usize`.
    fn raw(self) -> usize {
        self.raw as usize
    }
}

/// An insertion-ordered hash map whose keys are hashed and compared by the
/// caller; see the module documentation for the layout, the invariants and
/// the costs.
pub(crate) struct OrderedMap<K, V, A: Allocator + Clone = Global> {
    /// Positions of the live entries, filed under their stored hashes
    /// (invariants 1 and 4).
    indices: HashTable<u32, A>,
    /// Every entry ever appended and not yet compacted away, in insertion
    /// order; `None` is a tombstone (invariants 1 to 3).
    entries: Vec<Slot<K, V>, A>,
    /// The last rank/position pair `get_index` or `index_of` answered, kept
    /// valid by every mutation (invariant 6).
    cursor: Cell<Cursor>,
}

/// Why [`OrderedMap::try_insert`] failed, with the key and value it was given:
/// nothing was dropped and nothing leaked.
#[derive(Debug)]
pub(crate) struct InsertError<K, V> {
    /// What the allocator (or the `u32` position limit) refused.
    pub(crate) error: TryReserveError,
    /// The key that was not inserted.
    pub(crate) key: K,
    /// The value that was not inserted.
    pub(crate) value: V,
}

/// The live entry at `pos` (invariant 4 makes every index point at one).
fn live<K, V>(entries: &[Slot<K, V>], pos: u32) -> &Entry<K, V> {
    match entries.get(pos as usize) {
        Some(Some(entry)) => entry,
        _ => unreachable!("ordered_map: index {pos} does not point at a live entry"),
    }
}

/// How many live entries `slots` holds.
fn count_live<K, V>(slots: &[Slot<K, V>]) -> usize {
    slots.iter().filter(|slot| slot.is_some()).count()
}

/// `allocator_api2`'s error (from the entries vector) as hashbrown's.
fn from_vec_error(error: allocator_api2::collections::TryReserveError) -> TryReserveError {
    match error.kind() {
        TryReserveErrorKind::CapacityOverflow => TryReserveError::CapacityOverflow,
        TryReserveErrorKind::AllocError { layout, .. } => TryReserveError::AllocError { layout },
    }
}

impl<K, V, A: Allocator + Clone> OrderedMap<K, V, A> {
    /// An empty map whose two arrays will come from `alloc`; allocates nothing.
    pub(crate) fn new_in(alloc: A) -> Self {
        Self {
            indices: HashTable::new_in(alloc.clone()),
            entries: Vec::new_in(alloc),
            cursor: Cell::new(Cursor::START),
        }
    }

    /// The number of entries (tombstones not counted).
    pub(crate) fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the map has no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The number of tombstones in `entries` (invariant 1).
    fn tombstones(&self) -> usize {
        self.entries.len() - self.indices.len()
    }

    /// The position of the entry whose stored hash is `hash` and whose key
    /// satisfies `eq`.
    fn find_pos(&self, hash: u64, mut eq: impl FnMut(&K) -> bool) -> Option<usize> {
        let entries = &self.entries;
        self.indices
            .find(hash, |&pos| {
                let entry = live(entries, pos);
                entry.hash == hash && eq(&entry.key)
            })
            .map(|&pos| pos as usize)
    }

    /// The key and value of the entry for `hash` whose key satisfies `eq`.
    pub(crate) fn get(&self, hash: u64, eq: impl FnMut(&K) -> bool) -> Option<(&K, &V)> {
        let pos = self.find_pos(hash, eq)?;
        let entry = live(&self.entries, pos as u32);
        Some((&entry.key, &entry.value))
    }

    /// The value of the entry for `hash` whose key satisfies `eq`, to modify in
    /// place.
    pub(crate) fn get_mut(&mut self, hash: u64, eq: impl FnMut(&K) -> bool) -> Option<&mut V> {
        let pos = self.find_pos(hash, eq)?;
        self.entries[pos].as_mut().map(|entry| &mut entry.value)
    }

    /// The rank (position in insertion order among the live entries) of the
    /// entry for `hash` whose key satisfies `eq`.
    ///
    /// O(1) expected when there are no tombstones; otherwise the probe plus a
    /// walk over the slots between the entry and the nearest of the start, the
    /// end and the last rank answered (see "Rank lookups" in the module
    /// documentation).
    pub(crate) fn index_of(&self, hash: u64, eq: impl FnMut(&K) -> bool) -> Option<usize> {
        let pos = self.find_pos(hash, eq)?;
        Some(self.rank_of(pos))
    }

    /// The `i`-th live entry in insertion order.
    ///
    /// O(1) when there are no tombstones; otherwise a walk from the nearest of
    /// the start, the end and the last rank answered, so a loop over
    /// `i = 0..len` costs O(len + tombstones) in total (see "Rank lookups" in
    /// the module documentation). Call [`compact`](Self::compact) first to
    /// make random access O(1).
    pub(crate) fn get_index(&self, i: usize) -> Option<(&K, &V)> {
        if i >= self.len() {
            return None;
        }
        let entry = live(&self.entries, self.pos_of_rank(i) as u32);
        Some((&entry.key, &entry.value))
    }

    /// The anchor among the start, the cursor and the end whose `key` (rank or
    /// position) is closest to `target`.
    fn nearest_anchor(&self, target: usize, key: impl Fn(Cursor) -> usize) -> Cursor {
        let end = Cursor::new(self.len(), self.entries.len());
        [Cursor::START, self.cursor.get(), end]
            .into_iter()
            .min_by_key(|&anchor| key(anchor).abs_diff(target))
            .unwrap_or(Cursor::START)
    }

    /// The position of the live entry of rank `rank < len`; moves the cursor
    /// there.
    fn pos_of_rank(&self, rank: usize) -> usize {
        debug_assert!(rank < self.len());
        if self.tombstones() == 0 {
            return rank;
        }
        let anchor = self.nearest_anchor(rank, Cursor::rank);
        let (mut r, mut pos) = (anchor.rank(), anchor.raw());
        if rank >= r {
            // entries[..pos] holds r live entries, so the first live one at or
            // after pos has rank r.
            loop {
                if self.entries[pos].is_some() {
                    if r == rank {
                        break;
                    }
                    r += 1;
                }
                pos += 1;
            }
        } else {
            // Step back over live entries until entries[..pos] holds `rank`
            // of them; the one just stepped over, at pos, is the answer.
            while r > rank {
                pos -= 1;
                if self.entries[pos].is_some() {
                    r -= 1;
                }
            }
        }
        self.cursor.set(Cursor::new(rank, pos));
        pos
    }

    /// The rank of the live entry at position `pos`; moves the cursor there.
    fn rank_of(&self, pos: usize) -> usize {
        if self.tombstones() == 0 {
            return pos;
        }
        let anchor = self.nearest_anchor(pos, Cursor::raw);
        let rank = if pos >= anchor.raw() {
            anchor.rank() + count_live(&self.entries[anchor.raw()..pos])
        } else {
            anchor.rank() - count_live(&self.entries[pos..anchor.raw()])
        };
        self.cursor.set(Cursor::new(rank, pos));
        rank
    }

    /// Inserts `value` under `key`, whose hash is `hash`, `eq` recognising an
    /// equal key already present.
    ///
    /// If there is one, only its value is replaced: the map keeps the original
    /// key and its position (Python's `d[1.0] = x` after `d[1] = y` keeps the
    /// key `1`), the `key` passed in is dropped, and the old value is returned.
    /// Otherwise the entry is appended and `Ok(None)` returned.
    ///
    /// # Errors
    ///
    /// When the arrays cannot grow, the map's entries and order are unchanged
    /// and the error carries `key` and `value` back to the caller.
    pub(crate) fn try_insert(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        eq: impl FnMut(&K) -> bool,
    ) -> Result<Option<V>, InsertError<K, V>> {
        if let Some(pos) = self.find_pos(hash, eq) {
            let entry = self.entries[pos]
                .as_mut()
                .expect("ordered_map: index points at a live entry");
            let old = mem::replace(&mut entry.value, value);
            drop(key);
            return Ok(Some(old));
        }
        if let Err(error) = self.reserve_for_append() {
            return Err(InsertError { error, key, value });
        }
        let pos = self.entries.len();
        // Neither call allocates: `reserve_for_append` made room in both.
        self.entries.push(Some(Entry { hash, key, value }));
        let entries = &self.entries;
        self.indices
            .insert_unique(hash, pos as u32, |&pos| live(entries, pos).hash);
        Ok(None)
    }

    /// Makes room for one more entry in both arrays, compacting instead of
    /// growing `entries` when enough of it is tombstones.
    fn reserve_for_append(&mut self) -> Result<(), TryReserveError> {
        let slots = self.entries.len();
        let full = slots == self.entries.capacity() || slots >= MAX_ENTRIES;
        let tombstones = self.tombstones();
        if full
            && tombstones > 0
            && (tombstones >= slots / FULL_COMPACT_DIVISOR || slots >= MAX_ENTRIES)
        {
            self.compact();
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(TryReserveError::CapacityOverflow);
        }
        self.entries.try_reserve(1).map_err(from_vec_error)?;
        let entries = &self.entries;
        self.indices.try_reserve(1, |&pos| live(entries, pos).hash)
    }

    /// Removes the entry for `hash` whose key satisfies `eq` and returns its key
    /// and value; the other entries keep their order.
    pub(crate) fn remove(&mut self, hash: u64, mut eq: impl FnMut(&K) -> bool) -> Option<(K, V)> {
        let entries = &self.entries;
        let found = self
            .indices
            .find_entry(hash, |&pos| {
                let entry = live(entries, pos);
                entry.hash == hash && eq(&entry.key)
            })
            .ok()?;
        let pos = found.remove().0 as usize;
        let entry = self.entries[pos]
            .take()
            .expect("ordered_map: index points at a live entry");

        // Invariant 6: the entry left entries[..cursor.raw] if it was in it.
        let cursor = self.cursor.get_mut();
        if pos < cursor.raw() {
            cursor.rank -= 1;
        }
        // Invariant 3: no tombstone at the end.
        while let Some(None) = self.entries.last() {
            self.entries.pop();
        }
        let cursor = self.cursor.get_mut();
        if cursor.raw() > self.entries.len() {
            // Only tombstones were cut off, so the rank is unchanged.
            *cursor = Cursor::new(cursor.rank(), self.entries.len());
        }
        // Invariant 2.
        if self.tombstones() > self.len() {
            self.compact();
        }
        Some((entry.key, entry.value))
    }

    /// Removes every tombstone, keeping the order, so that `get_index` and
    /// `index_of` are O(1) until the next `remove`. O(1) when there are none,
    /// else O(live + tombstones); never allocates.
    pub(crate) fn compact(&mut self) {
        if self.tombstones() == 0 {
            return;
        }
        // Stable partition: entries[..next] are the live entries seen so far,
        // in order, and entries[next..pos] are tombstones.
        let mut next = 0;
        for pos in 0..self.entries.len() {
            let Some(entry) = &self.entries[pos] else {
                continue;
            };
            if pos != next {
                // Invariant 4: the slot for `pos` is filed under the entry's
                // hash. Positions already rewritten are below `pos`, so the
                // search cannot match one of them.
                let hash = entry.hash;
                let index = self
                    .indices
                    .find_mut(hash, |&p| p as usize == pos)
                    .expect("ordered_map: every live entry has an index");
                *index = next as u32;
                self.entries.swap(pos, next);
            }
            next += 1;
        }
        self.entries.truncate(next);
        // Without tombstones, rank == position.
        let cursor = self.cursor.get_mut();
        *cursor = Cursor::new(cursor.rank(), cursor.rank());
    }

    /// Makes room for `additional` more keys, so that the next `additional`
    /// inserts of new keys (with no `remove` between) neither allocate nor fail.
    ///
    /// # Errors
    ///
    /// When the arrays cannot grow; the entries and order are unchanged.
    pub(crate) fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        let fits = |slots: usize| {
            slots
                .checked_add(additional)
                .is_some_and(|n| n <= MAX_ENTRIES)
        };
        if !fits(self.entries.len()) {
            self.compact();
            if !fits(self.entries.len()) {
                return Err(TryReserveError::CapacityOverflow);
            }
        }
        self.entries
            .try_reserve(additional)
            .map_err(from_vec_error)?;
        let entries = &self.entries;
        self.indices
            .try_reserve(additional, |&pos| live(entries, pos).hash)
    }

    /// The entries in insertion order.
    pub(crate) fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            slots: self.entries.iter(),
            remaining: self.len(),
        }
    }

    /// Drops every entry and frees both arrays (as CPython's `dict.clear`).
    /// The map is already empty and consistent when the first key or value is
    /// dropped.
    pub(crate) fn clear(&mut self) {
        drop(self.drain());
    }

    /// Empties the map at once and returns its entries, in insertion order, as
    /// an iterator that owns them: it does not borrow the map, which may be
    /// used (or dropped) while the entries are released one at a time. The
    /// index table is freed now, the entries array when the iterator is
    /// dropped; entries not taken are dropped with it.
    pub(crate) fn drain(&mut self) -> Drain<K, V, A> {
        let remaining = self.len();
        let alloc = self.entries.allocator().clone();
        self.indices = HashTable::new_in(alloc.clone());
        let entries = mem::replace(&mut self.entries, Vec::new_in(alloc));
        *self.cursor.get_mut() = Cursor::START;
        Drain {
            slots: entries.into_iter(),
            remaining,
        }
    }

    /// Checks invariants 1 to 6 of the module documentation; O(live + tombstones).
    #[cfg(test)]
    fn assert_valid(&self) {
        let live_count = count_live(&self.entries);
        assert_eq!(self.indices.len(), live_count, "invariant 1");
        assert!(self.tombstones() <= live_count, "invariant 2");
        assert!(
            matches!(self.entries.last(), None | Some(Some(_))),
            "invariant 3"
        );
        for &pos in self.indices.iter() {
            assert!(
                matches!(self.entries.get(pos as usize), Some(Some(_))),
                "invariant 4: index {pos} points at a tombstone or past the end"
            );
        }
        for (pos, slot) in self.entries.iter().enumerate() {
            if let Some(entry) = slot {
                assert!(
                    self.indices
                        .find(entry.hash, |&p| p as usize == pos)
                        .is_some(),
                    "invariant 4: entry {pos} is not filed under its hash"
                );
            }
        }
        assert!(self.entries.len() <= MAX_ENTRIES, "invariant 5");
        let cursor = self.cursor.get();
        assert!(cursor.raw() <= self.entries.len(), "invariant 6");
        assert_eq!(
            count_live(&self.entries[..cursor.raw()]),
            cursor.rank(),
            "invariant 6"
        );
    }
}

impl<K: fmt::Debug, V: fmt::Debug, A: Allocator + Clone> fmt::Debug for OrderedMap<K, V, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The entries of an [`OrderedMap`] in insertion order, from
/// [`OrderedMap::iter`].
pub(crate) struct Iter<'a, K, V> {
    /// The slots not yet visited, tombstones included.
    slots: core::slice::Iter<'a, Slot<K, V>>,
    /// Live entries among `slots`.
    remaining: usize,
}

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            slots: self.slots.clone(),
            remaining: self.remaining,
        }
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.slots.find_map(Option::as_ref)?;
        self.remaining -= 1;
        Some((&entry.key, &entry.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let entry = self.slots.by_ref().rev().find_map(Option::as_ref)?;
        self.remaining -= 1;
        Some((&entry.key, &entry.value))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

impl<K, V> FusedIterator for Iter<'_, K, V> {}

/// The entries taken out of an [`OrderedMap`] by [`OrderedMap::drain`], in
/// insertion order; owns them and the array they are in.
pub(crate) struct Drain<K, V, A: Allocator = Global> {
    /// The slots not yet visited, tombstones included.
    slots: vec::IntoIter<Slot<K, V>, A>,
    /// Live entries among `slots`.
    remaining: usize,
}

impl<K, V, A: Allocator> Iterator for Drain<K, V, A> {
    type Item = (K, V);

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.slots.find_map(|slot| slot)?;
        self.remaining -= 1;
        Some((entry.key, entry.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V, A: Allocator> DoubleEndedIterator for Drain<K, V, A> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let entry = self.slots.by_ref().rev().find_map(|slot| slot)?;
        self.remaining -= 1;
        Some((entry.key, entry.value))
    }
}

impl<K, V, A: Allocator> ExactSizeIterator for Drain<K, V, A> {}

impl<K, V, A: Allocator> FusedIterator for Drain<K, V, A> {}

#[cfg(test)]
mod tests {
    use super::*;

    use core::alloc::Layout;
    use core::ptr::NonNull;
    use std::panic::{self, AssertUnwindSafe};
    use std::rc::Rc;

    use allocator_api2::alloc::AllocError;
    use proptest::collection::vec as prop_vec;
    use proptest::prelude::*;

    /// A deliberately weak hash: seven buckets, so most keys collide.
    fn weak_hash(key: u64) -> u64 {
        key % 7
    }

    /// An allocator that forwards to `Global` until its shared budget of
    /// allocations (grows included) runs out, then refuses.
    #[derive(Clone)]
    struct FailingAlloc {
        /// Allocations still allowed, shared by every clone.
        budget: Rc<Cell<usize>>,
    }

    impl FailingAlloc {
        fn new(budget: usize) -> Self {
            Self {
                budget: Rc::new(Cell::new(budget)),
            }
        }

        fn set_budget(&self, budget: usize) {
            self.budget.set(budget);
        }
    }

    // SAFETY: every block is allocated by `Global` and handed back to it
    // unchanged, and every clone forwards to the same `Global`, so blocks stay
    // valid while the allocator (or any clone) lives, as `Allocator` requires.
    // `grow` and `shrink` are the trait's defaults, built on these two.
    unsafe impl Allocator for FailingAlloc {
        fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
            let left = self.budget.get();
            if left == 0 {
                return Err(AllocError);
            }
            self.budget.set(left - 1);
            Global.allocate(layout)
        }

        unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
            // SAFETY: the caller guarantees `ptr` is a block of this allocator
            // with `layout`; every such block came from `Global.allocate`.
            unsafe { Global.deallocate(ptr, layout) }
        }
    }

    type Map<A = Global> = OrderedMap<u64, u64, A>;

    fn new_map() -> Map {
        OrderedMap::new_in(Global)
    }

    fn insert<A: Allocator + Clone>(map: &mut Map<A>, key: u64, value: u64) -> Option<u64> {
        let old = map
            .try_insert(weak_hash(key), key, value, |&k| k == key)
            .unwrap_or_else(|e| panic!("insert failed: {:?}", e.error));
        map.assert_valid();
        old
    }

    fn remove<A: Allocator + Clone>(map: &mut Map<A>, key: u64) -> Option<(u64, u64)> {
        let removed = map.remove(weak_hash(key), |&k| k == key);
        map.assert_valid();
        removed
    }

    fn get<A: Allocator + Clone>(map: &Map<A>, key: u64) -> Option<u64> {
        map.get(weak_hash(key), |&k| k == key).map(|(_, &v)| v)
    }

    fn items<A: Allocator + Clone>(map: &Map<A>) -> std::vec::Vec<(u64, u64)> {
        map.iter().map(|(&k, &v)| (k, v)).collect()
    }

    fn keys<A: Allocator + Clone>(map: &Map<A>) -> std::vec::Vec<u64> {
        map.iter().map(|(&k, _)| k).collect()
    }

    /// Every rank answered by `get_index`, walked forwards, backwards and
    /// strided, against `iter`; and `index_of` for every key.
    fn check_ranks<A: Allocator + Clone>(map: &Map<A>) {
        let expected = items(map);
        let n = expected.len();
        let mut orders: std::vec::Vec<std::vec::Vec<usize>> =
            vec![(0..n).collect(), (0..n).rev().collect()];
        orders.push((0..n).step_by(3).chain((0..n).rev().step_by(2)).collect());
        for order in orders {
            for i in order {
                let (&k, &v) = map.get_index(i).expect("rank below len");
                assert_eq!((k, v), expected[i], "get_index({i})");
            }
        }
        assert!(map.get_index(n).is_none());
        for (i, &(k, _)) in expected.iter().enumerate() {
            assert_eq!(map.index_of(weak_hash(k), |&x| x == k), Some(i));
        }
        map.assert_valid();
    }

    #[test]
    fn new_map_is_empty_and_allocates_nothing() {
        let alloc = FailingAlloc::new(0);
        let map: Map<FailingAlloc> = OrderedMap::new_in(alloc);
        assert!(map.is_empty());
        assert_eq!(map.len(), 0);
        assert!(map.get(0, |_| true).is_none());
        assert!(map.get_index(0).is_none());
        assert_eq!(map.iter().count(), 0);
        map.assert_valid();
    }

    #[test]
    fn order_is_kept_after_deletions() {
        let mut map = new_map();
        for k in 0..10 {
            assert_eq!(insert(&mut map, k, k * 10), None);
        }
        assert_eq!(remove(&mut map, 3), Some((3, 30)));
        assert_eq!(remove(&mut map, 0), Some((0, 0)));
        assert_eq!(remove(&mut map, 5), Some((5, 50)));
        assert_eq!(remove(&mut map, 5), None);
        assert_eq!(keys(&map), [1, 2, 4, 6, 7, 8, 9]);
        assert_eq!(map.len(), 7);
        assert_eq!(get(&map, 4), Some(40));
        assert_eq!(get(&map, 3), None);
        check_ranks(&map);
        assert_eq!(
            map.iter()
                .rev()
                .map(|(&k, _)| k)
                .collect::<std::vec::Vec<_>>(),
            [9, 8, 7, 6, 4, 2, 1]
        );
    }

    #[test]
    fn reinsert_after_delete_goes_to_the_end() {
        let mut map = new_map();
        for k in 0..5 {
            insert(&mut map, k, k);
        }
        remove(&mut map, 1);
        assert_eq!(insert(&mut map, 1, 100), None);
        assert_eq!(keys(&map), [0, 2, 3, 4, 1]);
        assert_eq!(map.index_of(weak_hash(1), |&k| k == 1), Some(4));
        check_ranks(&map);
    }

    #[test]
    fn replace_keeps_the_original_key_and_position() {
        // Keys equal by number, told apart by a tag: `1`, `1.0` and `True`.
        let mut map: OrderedMap<(u64, &str), &str> = OrderedMap::new_in(Global);
        let eq = |n: u64| move |k: &(u64, &str)| k.0 == n;
        assert!(matches!(
            map.try_insert(1, (1, "int"), "y", eq(1)),
            Ok(None)
        ));
        assert!(matches!(
            map.try_insert(2, (2, "int"), "z", eq(2)),
            Ok(None)
        ));
        assert!(matches!(
            map.try_insert(1, (1, "float"), "x", eq(1)),
            Ok(Some("y"))
        ));
        assert!(matches!(
            map.try_insert(1, (1, "bool"), "w", eq(1)),
            Ok(Some("x"))
        ));
        assert_eq!(map.len(), 2);
        assert_eq!(map.get_index(0), Some((&(1, "int"), &"w")));
        assert_eq!(map.get_index(1), Some((&(2, "int"), &"z")));
        if let Some(v) = map.get_mut(1, eq(1)) {
            *v = "v";
        }
        assert_eq!(map.get(1, eq(1)), Some((&(1, "int"), &"v")));
        map.assert_valid();
    }

    #[test]
    fn removing_the_newest_entry_leaves_no_tombstone() {
        let mut map = new_map();
        for k in 0..6 {
            insert(&mut map, k, k);
        }
        remove(&mut map, 2);
        remove(&mut map, 5);
        remove(&mut map, 4);
        // 3 is now last; 2 is the one tombstone.
        assert_eq!(map.entries.len(), 4);
        remove(&mut map, 3);
        // Trailing tombstones are popped down to the live entry 1.
        assert_eq!(map.entries.len(), 2);
        assert_eq!(keys(&map), [0, 1]);
        check_ranks(&map);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "217 s under miri; compaction is also in a_full_array_with_tombstones_is_compacted_instead_of_grown"
    )]
    fn compaction_keeps_order_and_lookups() {
        let mut map = new_map();
        for k in 0..100 {
            insert(&mut map, k, k + 1000);
        }
        // Remove from the front and the middle so tombstones pile up until
        // they outnumber the live entries.
        let removed: std::vec::Vec<u64> = (0..100).filter(|k| k % 3 != 2).take(60).collect();
        for (n, &k) in removed.iter().enumerate() {
            assert_eq!(remove(&mut map, k), Some((k, k + 1000)));
            assert!(map.tombstones() <= map.len());
            if n == 10 {
                check_ranks(&map);
            }
        }
        let expected: std::vec::Vec<u64> = (0..100).filter(|k| !removed.contains(k)).collect();
        assert_eq!(keys(&map), expected);
        assert!(map.entries.len() < 100, "a compaction ran");
        for &k in &expected {
            assert_eq!(get(&map, k), Some(k + 1000));
        }
        for &k in &removed {
            assert_eq!(get(&map, k), None);
        }
        check_ranks(&map);
        map.compact();
        assert_eq!(map.tombstones(), 0);
        assert_eq!(keys(&map), expected);
        check_ranks(&map);
    }

    #[test]
    fn a_full_array_with_tombstones_is_compacted_instead_of_grown() {
        let mut map = new_map();
        let mut k = 0;
        while map.entries.len() < map.entries.capacity() || map.entries.len() < 16 {
            insert(&mut map, k, k);
            k += 1;
        }
        let capacity = map.entries.capacity();
        // A quarter of the slots become tombstones (not at the end).
        for gone in 0..(capacity as u64 / 4) {
            remove(&mut map, gone);
        }
        insert(&mut map, k, k);
        assert_eq!(map.entries.capacity(), capacity);
        assert_eq!(map.tombstones(), 0);
        assert_eq!(
            keys(&map),
            ((capacity as u64 / 4)..=k).collect::<std::vec::Vec<_>>()
        );
    }

    #[test]
    fn get_index_over_all_ranks_with_tombstones() {
        let mut map = new_map();
        for k in 0..40 {
            insert(&mut map, k, k * 2);
        }
        for k in [0, 3, 7, 8, 9, 20, 38] {
            remove(&mut map, k);
        }
        assert!(map.tombstones() > 0);
        check_ranks(&map);
        // Removing before and after the cursor keeps it right.
        map.get_index(15);
        remove(&mut map, 1);
        remove(&mut map, 30);
        check_ranks(&map);
    }

    #[test]
    fn drain_yields_in_order_and_does_not_borrow_the_map() {
        let mut map = new_map();
        for k in 0..10 {
            insert(&mut map, k, k);
        }
        remove(&mut map, 4);
        let drained = map.drain();
        assert_eq!(drained.len(), 9);
        assert!(map.is_empty());
        map.assert_valid();
        insert(&mut map, 77, 7);
        let drained: std::vec::Vec<_> = drained.collect();
        assert_eq!(
            drained,
            [
                (0, 0),
                (1, 1),
                (2, 2),
                (3, 3),
                (5, 5),
                (6, 6),
                (7, 7),
                (8, 8),
                (9, 9)
            ]
        );
        assert_eq!(items(&map), [(77, 7)]);
        let mut drain = map.drain();
        assert_eq!(drain.next_back(), Some((77, 7)));
        assert_eq!(drain.next(), None);
    }

    #[test]
    fn drain_and_clear_drop_every_entry_once() {
        let token = Rc::new(());
        let mut map: OrderedMap<u64, Rc<()>> = OrderedMap::new_in(Global);
        for k in 0..8 {
            assert!(matches!(
                map.try_insert(k, k, Rc::clone(&token), |&x| x == k),
                Ok(None)
            ));
        }
        let (_, removed) = map.remove(2, |&x| x == 2).expect("present");
        drop(removed);
        assert_eq!(Rc::strong_count(&token), 8);
        let mut drain = map.drain();
        drop(drain.next());
        assert_eq!(Rc::strong_count(&token), 7);
        drop(drain);
        assert_eq!(Rc::strong_count(&token), 1);
        for k in 0..5 {
            assert!(matches!(
                map.try_insert(k, k, Rc::clone(&token), |&x| x == k),
                Ok(None)
            ));
        }
        map.clear();
        assert_eq!(Rc::strong_count(&token), 1);
        assert!(map.is_empty());
        assert!(map.entries.capacity() == 0, "clear frees the entries");
        map.assert_valid();
    }

    #[test]
    fn eq_runs_only_on_equal_stored_hashes() {
        let mut map = new_map();
        insert(&mut map, 5, 50);
        // Same low bits and top bits as 5, so hashbrown probes the same group
        // with the same tag; the stored hash differs.
        let other = 5 | (1 << 40);
        assert!(map.get(other, |_| panic!("eq called")).is_none());
        assert!(map.remove(other, |_| panic!("eq called")).is_none());
        assert!(matches!(
            map.try_insert(other, 6, 60, |_| panic!("eq called")),
            Ok(None)
        ));
        assert_eq!(map.len(), 2);
        map.assert_valid();
    }

    #[test]
    fn a_panicking_eq_leaves_the_map_unchanged() {
        let mut map = new_map();
        for k in 0..10 {
            insert(&mut map, k, k);
        }
        remove(&mut map, 3);
        let before = items(&map);
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            // Key 15 shares its hash with 1 and 8, so `eq` runs.
            map.try_insert(weak_hash(15), 15, 15, |_| panic!("eq raised"))
        }));
        assert!(result.is_err());
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            map.remove(weak_hash(15), |_| panic!("eq raised"))
        }));
        assert!(result.is_err());
        assert_eq!(items(&map), before);
        map.assert_valid();
        insert(&mut map, 10, 10);
        check_ranks(&map);
    }

    #[test]
    fn insert_into_a_map_that_cannot_allocate_returns_the_key_and_value() {
        let alloc = FailingAlloc::new(0);
        let mut map: OrderedMap<u64, Rc<()>, FailingAlloc> = OrderedMap::new_in(alloc.clone());
        let value = Rc::new(());
        let err = map
            .try_insert(1, 1, Rc::clone(&value), |&k| k == 1)
            .expect_err("no memory");
        assert!(matches!(err.error, TryReserveError::AllocError { .. }));
        assert_eq!(err.key, 1);
        assert_eq!(Rc::strong_count(&err.value), 2);
        drop(err);
        assert_eq!(Rc::strong_count(&value), 1);
        assert!(map.is_empty());
        map.assert_valid();
        assert!(map.try_reserve(4).is_err());
        alloc.set_budget(usize::MAX);
        assert!(map.try_insert(1, 1, Rc::clone(&value), |&k| k == 1).is_ok());
        assert_eq!(map.len(), 1);
        map.assert_valid();
    }

    #[test]
    fn every_failed_allocation_leaves_the_map_unchanged_and_usable() {
        const KEYS: u64 = 40;
        // A budget of n lets exactly n allocations through: fail at each
        // allocation point in turn, whether the entries or the table grows.
        for budget in 0..if cfg!(miri) { 6 } else { 16 } {
            let alloc = FailingAlloc::new(budget);
            let mut map: Map<FailingAlloc> = OrderedMap::new_in(alloc.clone());
            let mut failed_at = None;
            for k in 0..KEYS {
                if k % 5 == 4 {
                    remove(&mut map, k - 2);
                }
                let before = items(&map);
                match map.try_insert(weak_hash(k), k, k, |&x| x == k) {
                    Ok(old) => assert_eq!(old, None),
                    Err(err) => {
                        assert_eq!((err.key, err.value), (k, k));
                        assert_eq!(items(&map), before, "budget {budget}, key {k}");
                        map.assert_valid();
                        failed_at = Some(k);
                        break;
                    }
                }
                map.assert_valid();
            }
            let Some(first) = failed_at else {
                continue;
            };
            alloc.set_budget(usize::MAX);
            for k in first..KEYS {
                if k % 5 == 4 {
                    remove(&mut map, k - 2);
                }
                insert(&mut map, k, k);
            }
            let expected: std::vec::Vec<u64> =
                (0..KEYS).filter(|k| k % 5 != 2 || *k + 2 >= KEYS).collect();
            assert_eq!(keys(&map), expected, "budget {budget}");
            check_ranks(&map);
        }
    }

    #[test]
    fn try_reserve_makes_room_for_that_many_inserts() {
        let alloc = FailingAlloc::new(2);
        let mut map: Map<FailingAlloc> = OrderedMap::new_in(alloc.clone());
        map.try_reserve(50).expect("two allocations are enough");
        assert_eq!(alloc.budget.get(), 0);
        for k in 0..50 {
            insert(&mut map, k, k);
        }
        let before = items(&map);
        assert!(map.try_reserve(1000).is_err());
        assert_eq!(items(&map), before);
        assert_eq!(
            map.try_reserve(usize::MAX),
            Err(TryReserveError::CapacityOverflow)
        );
        map.assert_valid();
    }

    /// One step of the model test.
    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64, u64),
        Remove(u64),
        Get(u64),
        IndexOf(u64),
        GetIndex(usize),
        Compact,
        Reserve(usize),
        /// Allocations the allocator will still allow.
        Budget(usize),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        let key = 0..24u64;
        prop_oneof![
            8 => (key.clone(), any::<u64>()).prop_map(|(k, v)| Op::Insert(k, v)),
            6 => key.clone().prop_map(Op::Remove),
            2 => key.clone().prop_map(Op::Get),
            2 => key.prop_map(Op::IndexOf),
            3 => (0..28usize).prop_map(Op::GetIndex),
            1 => Just(Op::Compact),
            1 => (0..40usize).prop_map(Op::Reserve),
            1 => prop_oneof![Just(0usize), Just(1), Just(2), Just(usize::MAX)].prop_map(Op::Budget),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: if cfg!(miri) { 2 } else { 256 },
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// The map against a plain vector of (key, value) in insertion order,
        /// with colliding hashes and an allocator that sometimes refuses.
        #[test]
        fn matches_a_vector_model(ops in prop_vec(op(), 0..if cfg!(miri) { 40 } else { 200 })) {
            let alloc = FailingAlloc::new(usize::MAX);
            let mut map: Map<FailingAlloc> = OrderedMap::new_in(alloc.clone());
            let mut model: std::vec::Vec<(u64, u64)> = std::vec::Vec::new();
            let position = |model: &[(u64, u64)], key| model.iter().position(|&(k, _)| k == key);
            for op in ops {
                match op {
                    Op::Insert(key, value) => {
                        match map.try_insert(weak_hash(key), key, value, |&k| k == key) {
                            Ok(old) => {
                                let expected = match position(&model, key) {
                                    Some(i) => Some(mem::replace(&mut model[i].1, value)),
                                    None => {
                                        model.push((key, value));
                                        None
                                    }
                                };
                                prop_assert_eq!(old, expected);
                            }
                            Err(err) => {
                                prop_assert!(position(&model, key).is_none());
                                prop_assert_eq!((err.key, err.value), (key, value));
                            }
                        }
                    }
                    Op::Remove(key) => {
                        let expected = position(&model, key).map(|i| model.remove(i));
                        prop_assert_eq!(map.remove(weak_hash(key), |&k| k == key), expected);
                    }
                    Op::Get(key) => {
                        let expected = position(&model, key).map(|i| model[i].1);
                        prop_assert_eq!(get(&map, key), expected);
                    }
                    Op::IndexOf(key) => {
                        prop_assert_eq!(
                            map.index_of(weak_hash(key), |&k| k == key),
                            position(&model, key)
                        );
                    }
                    Op::GetIndex(i) => {
                        prop_assert_eq!(
                            map.get_index(i).map(|(&k, &v)| (k, v)),
                            model.get(i).copied()
                        );
                    }
                    Op::Compact => map.compact(),
                    Op::Reserve(n) => {
                        let _ = map.try_reserve(n);
                    }
                    Op::Budget(n) => alloc.set_budget(n),
                    Op::Clear => {
                        map.clear();
                        model.clear();
                    }
                }
                map.assert_valid();
                prop_assert_eq!(map.len(), model.len());
                prop_assert_eq!(items(&map), model.clone());
            }
        }
    }
}
