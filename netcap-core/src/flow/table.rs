//! A bounded flow table with capture-time idle expiry and counted evictions.
//!
//! Memory is bounded by [`FlowLimits::max_flows`] live entries. Time is capture time,
//! passed in with every lookup: nothing reads a clock. A flow idle for longer than
//! [`FlowLimits::idle_timeout_ns`] (measured against the newest capture timestamp seen)
//! is expired by a sweep that runs at most once per quarter of the timeout; when the
//! table is full, the least recently seen eighth of the flows is evicted at once, so an
//! insert costs amortised O(1) however the table is used. Expired and evicted flows are
//! handed back to the caller, in the order they left, and counted.

use crate::CaptureKeyed;

use super::FlowKey;

/// The table's limits; the defaults are what `netcap` uses unless told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowLimits {
    /// Most live flows (default 1 048 576). A TCP flow's state is about 1–3 KiB, so the
    /// default bounds the analysis at a few GiB in the worst case and far less in practice.
    pub max_flows: usize,
    /// A flow with no frame for this long (capture time) is finished (default 15 min,
    /// beyond Linux's default TCP keep-alive interval of 2 h / 9 probes only for flows
    /// that really went quiet; a connection that resumes after the timeout is reported
    /// as a second, mid-stream flow).
    pub idle_timeout_ns: i64,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits { max_flows: 1 << 20, idle_timeout_ns: 15 * 60 * 1_000_000_000 }
    }
}

/// Why a flow left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// Idle for longer than the timeout.
    Expired,
    /// Pushed out because the table was full.
    Evicted,
    /// Replaced by a new connection on the same key (e.g. a new SYN with another ISN).
    Replaced,
    /// Still live when the input ended.
    End,
}

/// Counters of what happened to the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableStats {
    /// Flows inserted, a new connection that replaced an old one included.
    pub created: u64,
    /// Flows finished after idling past [`FlowLimits::idle_timeout_ns`]
    /// ([`Exit::Expired`]).
    pub expired: u64,
    /// Flows pushed out because the table was full ([`Exit::Evicted`]).
    pub evicted: u64,
    /// Flows ended by a new connection on the same key ([`Exit::Replaced`]).
    pub replaced: u64,
    /// Most flows live at once.
    pub peak: u64,
    /// Flow records an [`crate::analysis::Analysis`] analysed and gave its observer but
    /// did not keep in [`crate::analysis::Outcome::flows`], because as many as
    /// [`crate::analysis::Analysis::max_flow_records`] were kept already: the findings
    /// and listings built from the kept records do not count them.
    pub not_kept: u64,
}

#[derive(Debug)]
struct Entry<T> {
    key: FlowKey,
    /// A second key for the same flow: the other direction's encapsulation path, when
    /// the two directions travel different paths ([`FlowTable::pair`]).
    alias: Option<FlowKey>,
    last_ns: i64,
    value: T,
}

/// A flow key without its encapsulation path: what [`FlowTable::pair`] matches on.
type Tuple = (u32, u8, super::Endpoint, super::Endpoint);

fn tuple(k: &FlowKey) -> Tuple {
    (k.point, k.proto, k.a, k.b)
}

/// Live flows by key.
#[derive(Debug)]
pub struct FlowTable<T> {
    limits: FlowLimits,
    /// The keys come from the capture: a seeded hasher ([`crate::CaptureKeyed`]).
    index: CaptureKeyed<FlowKey, usize>,
    /// Slots by key without path, for pairing directions that travel different paths.
    by_tuple: CaptureKeyed<Tuple, Vec<usize>>,
    slots: Vec<Option<Entry<T>>>,
    free: Vec<usize>,
    newest_ns: i64,
    last_sweep_ns: i64,
    stats: TableStats,
}

impl<T> FlowTable<T> {
    /// An empty table with `limits`; a `max_flows` or `idle_timeout_ns` below 1 is raised
    /// to 1.
    pub fn new(limits: FlowLimits) -> Self {
        let limits = FlowLimits { max_flows: limits.max_flows.max(1), idle_timeout_ns: limits.idle_timeout_ns.max(1) };
        FlowTable {
            limits,
            index: CaptureKeyed::default(),
            by_tuple: CaptureKeyed::default(),
            slots: Vec::new(),
            free: Vec::new(),
            newest_ns: i64::MIN,
            last_sweep_ns: i64::MIN,
            stats: TableStats::default(),
        }
    }

    /// The limits in effect (after [`FlowTable::new`] raised any below 1).
    pub fn limits(&self) -> FlowLimits {
        self.limits
    }

    /// What happened to the table so far.
    pub fn stats(&self) -> TableStats {
        self.stats
    }

    /// Live flows.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Whether no flow is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Expires idle flows if capture time has moved on far enough since the last sweep;
    /// every flow that leaves goes to `gone`. Call before [`FlowTable::get_or_insert`].
    pub fn advance(&mut self, ts_ns: i64, gone: &mut impl FnMut(FlowKey, T, Exit)) {
        if ts_ns > self.newest_ns {
            self.newest_ns = ts_ns;
        }
        let period = (self.limits.idle_timeout_ns / 4).max(1);
        if self.newest_ns.saturating_sub(self.last_sweep_ns) < period {
            return;
        }
        self.last_sweep_ns = self.newest_ns;
        let cutoff = self.newest_ns.saturating_sub(self.limits.idle_timeout_ns);
        let stale: Vec<usize> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().filter(|e| e.last_ns < cutoff).map(|_| i))
            .collect();
        for i in stale {
            self.remove_slot(i, Exit::Expired, gone);
        }
    }

    /// The slot of the live flow under `key`: one hash lookup, then
    /// [`FlowTable::touch`], [`FlowTable::remove`] by slot.
    pub fn find(&self, key: &FlowKey) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// The value in `slot` (from [`FlowTable::find`]), its last-seen time moved to `ts_ns`.
    pub fn touch(&mut self, slot: usize, ts_ns: i64) -> Option<&mut T> {
        let entry = self.slots.get_mut(slot)?.as_mut()?;
        if ts_ns > entry.last_ns {
            entry.last_ns = ts_ns;
        }
        Some(&mut entry.value)
    }

    /// The value in `slot`, untouched.
    pub fn peek(&mut self, slot: usize) -> Option<&mut T> {
        self.slots.get_mut(slot)?.as_mut().map(|e| &mut e.value)
    }

    /// Inserts a flow known to be absent (evicting the least recently seen flows first
    /// when the table is full).
    pub fn insert(&mut self, key: FlowKey, ts_ns: i64, value: T, gone: &mut impl FnMut(FlowKey, T, Exit)) -> &mut T {
        if self.len() >= self.limits.max_flows {
            self.evict_oldest(gone);
        }
        let entry = Entry { key, alias: None, last_ns: ts_ns, value };
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(entry);
                i
            }
            None => {
                self.slots.push(Some(entry));
                self.slots.len() - 1
            }
        };
        self.index.insert(key, slot);
        self.by_tuple.entry(tuple(&key)).or_default().push(slot);
        self.stats.created += 1;
        self.stats.peak = self.stats.peak.max(self.len() as u64);
        &mut self.slots[slot].as_mut().expect("just filled").value
    }

    /// For a key not in the table: the live flow with the same point, protocol and
    /// endpoints but another encapsulation path, that has no second path yet and that
    /// `accept`s (the caller checks it saw only the other direction) — the most recently
    /// seen if several. Its slot gets `key` as its second key, so later frames find it
    /// directly. This joins the two directions of a connection whose directions travel
    /// different paths (a VLAN tag one way only, a VNI per direction, mirrored traffic).
    pub fn pair(&mut self, key: FlowKey, accept: impl Fn(&T) -> bool) -> Option<usize> {
        let slots = self.by_tuple.get(&tuple(&key))?;
        let best = slots
            .iter()
            .filter_map(|&i| self.slots.get(i)?.as_ref().map(|e| (i, e)))
            .filter(|(_, e)| e.alias.is_none() && e.key.encap != key.encap && accept(&e.value))
            .max_by_key(|(_, e)| e.last_ns)
            .map(|(i, _)| i)?;
        if let Some(e) = self.slots.get_mut(best).and_then(Option::as_mut) {
            e.alias = Some(key);
            self.index.insert(key, best);
        }
        Some(best)
    }

    /// Removes the flow in `slot` and hands it to `gone` with `why`.
    pub fn remove(&mut self, slot: usize, why: Exit, gone: &mut impl FnMut(FlowKey, T, Exit)) {
        self.remove_slot(slot, why, gone);
    }

    /// The flow's value, created with `make` if the key is new (evicting the least
    /// recently seen flows first when the table is full). Returns the value and whether
    /// it was created.
    pub fn get_or_insert(
        &mut self,
        key: FlowKey,
        ts_ns: i64,
        make: impl FnOnce() -> T,
        gone: &mut impl FnMut(FlowKey, T, Exit),
    ) -> (&mut T, bool) {
        match self.find(&key) {
            Some(slot) => (self.touch(slot, ts_ns).expect("indexed slot is occupied"), false),
            None => (self.insert(key, ts_ns, make(), gone), true),
        }
    }

    /// Hands every live flow to `gone` with [`Exit::End`], oldest first.
    /// Equal times go in slot order. Each flow is moved once, out of its slot.
    pub fn drain(&mut self, gone: &mut impl FnMut(FlowKey, T, Exit)) {
        let mut order: Vec<(i64, usize)> =
            self.slots.iter().enumerate().filter_map(|(i, e)| e.as_ref().map(|e| (e.last_ns, i))).collect();
        order.sort_unstable();
        for (_, i) in order {
            if let Some(e) = self.slots.get_mut(i).and_then(Option::take) {
                gone(e.key, e.value, Exit::End);
            }
        }
        // Given back now, not when the table is dropped: the run still has the
        // correlator's end and the observers' to go through.
        self.slots = Vec::new();
        self.index = CaptureKeyed::default();
        self.by_tuple = CaptureKeyed::default();
        self.free = Vec::new();
    }

    fn evict_oldest(&mut self, gone: &mut impl FnMut(FlowKey, T, Exit)) {
        let mut ages: Vec<(i64, usize)> =
            self.slots.iter().enumerate().filter_map(|(i, e)| e.as_ref().map(|e| (e.last_ns, i))).collect();
        let n = (ages.len() / 8).max(1).min(ages.len());
        if n == 0 {
            return;
        }
        ages.select_nth_unstable(n - 1);
        let mut victims: Vec<(i64, usize)> = ages[..n].to_vec();
        victims.sort_unstable();
        for (_, i) in victims {
            self.remove_slot(i, Exit::Evicted, gone);
        }
    }

    fn remove_slot(&mut self, i: usize, why: Exit, gone: &mut impl FnMut(FlowKey, T, Exit)) {
        let Some(e) = self.slots.get_mut(i).and_then(Option::take) else { return };
        self.index.remove(&e.key);
        if let Some(alias) = &e.alias {
            self.index.remove(alias);
        }
        let t = tuple(&e.key);
        if let Some(v) = self.by_tuple.get_mut(&t) {
            v.retain(|&x| x != i);
            if v.is_empty() {
                self.by_tuple.remove(&t);
            }
        }
        self.free.push(i);
        match why {
            Exit::Expired => self.stats.expired += 1,
            Exit::Evicted => self.stats.evicted += 1,
            Exit::Replaced => self.stats.replaced += 1,
            Exit::End => {}
        }
        gone(e.key, e.value, why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{EncapPath, Endpoint};
    use std::net::{IpAddr, Ipv4Addr};

    fn key(n: u16) -> FlowKey {
        let ep = |port| Endpoint { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), port };
        FlowKey { point: 0, proto: 6, a: ep(n), b: ep(80), encap: EncapPath::default() }
    }

    /// Flow keys that differ only in a port and share a bucket under FxHash (one in a
    /// thousand does: no secret stands in the way) land in different buckets of the
    /// table's index, whose hasher is seeded.
    #[test]
    fn keys_that_share_an_fxhash_bucket_are_spread_by_the_tables_hasher() {
        use std::hash::BuildHasher;
        // hashbrown's bucket: the low bits of the hash (1,024 buckets here).
        let bucket = |h: u64| h & 1023;
        let fx = rustc_hash::FxBuildHasher;
        let target = bucket(fx.hash_one(key(0)));
        let same: Vec<FlowKey> = (1..=u16::MAX).map(key).filter(|k| bucket(fx.hash_one(k)) == target).take(32).collect();
        assert_eq!(same.len(), 32, "ports alone give keys of one FxHash bucket");
        let t: FlowTable<()> = FlowTable::new(FlowLimits::default());
        let spread: std::collections::HashSet<u64> = same.iter().map(|k| bucket(t.index.hasher().hash_one(k))).collect();
        assert!(spread.len() > 16, "the table's hasher put 32 keys in {} buckets", spread.len());
    }

    #[test]
    fn full_table_evicts_the_least_recently_seen_and_counts_it() {
        let mut t: FlowTable<u16> = FlowTable::new(FlowLimits { max_flows: 8, idle_timeout_ns: i64::MAX });
        let out = std::cell::RefCell::new(Vec::new());
        let mut gone = |k: FlowKey, v: u16, why| out.borrow_mut().push((k.a.port, v, why));
        for n in 0..8 {
            t.get_or_insert(key(n), i64::from(n), || n, &mut gone);
        }
        // Touch flow 0 so flow 1 is the oldest.
        t.get_or_insert(key(0), 100, || 0, &mut gone);
        let (v, created) = t.get_or_insert(key(50), 101, || 50, &mut gone);
        assert!(created);
        assert_eq!(*v, 50);
        assert_eq!(*out.borrow(), [(1, 1, Exit::Evicted)]);
        assert_eq!(t.len(), 8);
        assert_eq!(t.stats().evicted, 1);
        assert_eq!(t.stats().peak, 8);
    }

    #[test]
    fn idle_flows_expire_in_capture_time() {
        let mut t: FlowTable<u16> = FlowTable::new(FlowLimits { max_flows: 100, idle_timeout_ns: 1000 });
        let out = std::cell::RefCell::new(Vec::new());
        let mut gone = |k: FlowKey, _v: u16, why| out.borrow_mut().push((k.a.port, why));
        t.advance(0, &mut gone);
        t.get_or_insert(key(1), 0, || 1, &mut gone);
        t.advance(600, &mut gone);
        t.get_or_insert(key(2), 600, || 2, &mut gone);
        t.advance(1500, &mut gone);
        assert_eq!(*out.borrow(), [(1, Exit::Expired)]);
        assert_eq!(t.len(), 1);
        t.drain(&mut gone);
        assert_eq!(out.borrow().last(), Some(&(2, Exit::End)));
        assert!(t.is_empty());
    }
}
