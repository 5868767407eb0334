//! The dialog table: every SIP call and registration the inspector follows, reachable
//! from every worker (a call's messages may arrive on different connections, hence on
//! different workers).
//!
//! Why a sharded `Mutex<HashTable>` and not the epoch/RCU scheme of the pinhole table:
//! dialog state is written by nearly every message that reaches it, so a read-mostly
//! structure would gain nothing; and signalling arrives at thousands of messages per
//! second against millions of packets for forwarding, so a short critical section on
//! one of many shards is never contended in practice. The lock is never held across
//! anything but the update of one dialog, and never while taking another shard's lock.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ahash::RandomState;
use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::counters::SipCounters;
use super::dialog::Dialog;
use crate::inspect::action::{CallRef, InspectAction};
use crate::time::Timestamp;

/// The identity a dialog is stored under: zone link, Call-ID and the caller's tag (the
/// From tag of the initial request; empty for RFC 2543 peers that send none). The
/// callee's tag is checked inside the dialog: early dialogs exist before it is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DialogKeyRef<'a> {
    pub zone_link: crate::ids::ZoneLink,
    pub call_id: &'a [u8],
    pub caller_tag: &'a [u8],
}

/// Why a dialog left the table (reports and the dialog history).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DialogEnd {
    /// A BYE ended the call.
    Bye,
    /// The caller cancelled its pending INVITE.
    Cancel,
    /// The initial INVITE got a final failure response.
    Rejected,
    /// A registration was refused or its last binding removed.
    Unregistered,
    /// Its timer ran out (early dialog, registration, maximum call duration).
    Expired,
}

/// A dialog as it was when it left the table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EndedDialog {
    /// Its last state.
    #[serde(flatten)]
    pub dialog: super::dialog::DialogView,
    /// Why it ended.
    pub ended_by: DialogEnd,
}

/// The table refused to create a dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("dialog table full")]
pub struct TableFull;

/// What [`Shard::insert`] found or made under the key.
#[derive(Debug)]
pub(crate) enum Inserted<'a> {
    /// The new dialog.
    Created(&'a mut Dialog),
    /// The dialog already stored under the key (nothing was made).
    Existing(&'a mut Dialog),
}

/// One shard.
pub(crate) struct Shard {
    dialogs: HashTable<Dialog>,
    capacity: usize,
}

impl Shard {
    /// The dialog stored under `key` (hash from [`DialogTable::hash`]).
    pub fn get_mut(&mut self, hash: u64, key: &DialogKeyRef<'_>) -> Option<&mut Dialog> {
        self.dialogs.find_mut(hash, |d| d.key_matches(key))
    }

    /// Store a new dialog under `key` (hash from [`DialogTable::hash`]), unless one is
    /// already stored there (a shard never holds two dialogs under one key: another
    /// worker may have created it since the caller last looked) or the shard is at
    /// capacity (refused before allocating).
    pub fn insert(
        &mut self,
        hash: u64,
        key: &DialogKeyRef<'_>,
        make: impl FnOnce() -> Dialog,
        hasher: &RandomState,
    ) -> Result<Inserted<'_>, TableFull> {
        if self.dialogs.len() >= self.capacity {
            return self
                .dialogs
                .find_mut(hash, |d| d.key_matches(key))
                .map(Inserted::Existing)
                .ok_or(TableFull);
        }
        match self
            .dialogs
            .entry(hash, |d| d.key_matches(key), |d| hasher.hash_one(d.key()))
        {
            Entry::Occupied(e) => Ok(Inserted::Existing(e.into_mut())),
            Entry::Vacant(e) => Ok(Inserted::Created(e.insert(make()).into_mut())),
        }
    }

    /// Remove the dialog stored under `key`.
    pub fn remove(&mut self, hash: u64, key: &DialogKeyRef<'_>) -> Option<Dialog> {
        self.dialogs
            .find_entry(hash, |d| d.key_matches(key))
            .ok()
            .map(|e| e.remove().0)
    }
}

/// Dialogs and registrations of every worker, sharded by key hash.
pub struct DialogTable {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    next_call: AtomicU64,
    sweep_cursor: AtomicUsize,
    /// Every dialog that ended, when kept (replay reports only: it grows without bound).
    history: Option<Mutex<Vec<EndedDialog>>>,
}

impl DialogTable {
    /// A table of `shards` shards holding at most `capacity` dialogs in all (each shard
    /// holds an equal share, so a full shard refuses even if others have room).
    pub fn new(shards: usize, capacity: usize) -> Self {
        let shards = shards.max(1);
        let per_shard = capacity.div_ceil(shards);
        DialogTable {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        dialogs: HashTable::new(),
                        capacity: per_shard,
                    })
                })
                .collect(),
            hasher: RandomState::new(),
            next_call: AtomicU64::new(1),
            sweep_cursor: AtomicUsize::new(0),
            history: None,
        }
    }

    /// The same table that also remembers every dialog that ends (for replay reports;
    /// never for a running engine, where the list would grow without bound).
    pub fn with_history(mut self) -> Self {
        self.history = Some(Mutex::new(Vec::new()));
        self
    }

    /// Every dialog that ended so far, in ending order (empty without history).
    pub fn history(&self) -> Vec<EndedDialog> {
        self.history
            .as_ref()
            .map(|h| {
                h.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone()
            })
            .unwrap_or_default()
    }

    /// Remember `d` as ended by `why` (when history is kept).
    pub(crate) fn record_end(&self, d: &Dialog, why: DialogEnd, now: Timestamp) {
        if let Some(h) = &self.history {
            h.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(EndedDialog {
                    dialog: d.view(now),
                    ended_by: why,
                });
        }
    }

    /// Number of dialogs and registrations held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).dialogs.len()).sum()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// At most `max` dialogs as operators see them, shard by shard (one shard locked
    /// at a time, for the copy only).
    pub fn snapshot(&self, now: Timestamp, max: usize) -> Vec<super::dialog::DialogView> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let shard = lock(shard);
            let room = max.saturating_sub(out.len());
            out.extend(shard.dialogs.iter().take(room).map(|d| d.view(now)));
        }
        out
    }

    pub(crate) fn hasher(&self) -> &RandomState {
        &self.hasher
    }

    pub(crate) fn hash(&self, key: &DialogKeyRef<'_>) -> u64 {
        self.hasher.hash_one(key)
    }

    /// A fresh call identity (unique for the table's lifetime).
    pub(crate) fn next_call(&self) -> CallRef {
        CallRef(self.next_call.fetch_add(1, Ordering::Relaxed))
    }

    /// Lock the shard that holds `hash` (`None` only if the table had no shard, which
    /// `new` rules out).
    pub(crate) fn shard(&self, hash: u64) -> Option<MutexGuard<'_, Shard>> {
        let len = u64::try_from(self.shards.len()).ok()?.max(1);
        let idx = usize::try_from(hash % len).ok()?;
        self.shards.get(idx).map(lock)
    }

    /// Remove dialogs whose timers ran out, one shard per call (bounded work; call it
    /// periodically, e.g. once per burst or per millisecond), closing their calls.
    pub fn expire(
        &self,
        now: Timestamp,
        counters: &mut SipCounters,
        actions: &mut Vec<InspectAction>,
    ) {
        let idx = self.sweep_cursor.fetch_add(1, Ordering::Relaxed) % self.shards.len().max(1);
        let Some(shard) = self.shards.get(idx) else {
            return;
        };
        let mut shard = lock(shard);
        shard.dialogs.retain(|d| {
            if d.expired(now) {
                self.record_end(d, DialogEnd::Expired, now);
                actions.push(InspectAction::CloseCall { call: d.call() });
                counters.calls_closed += 1;
                counters.dialogs_expired += 1;
                false
            } else {
                true
            }
        });
    }
}

/// A poisoned shard still holds consistent dialogs (updates are plain field writes with
/// no invariant spanning a panic point), so keep using it rather than propagate a panic.
fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sip::config::SipConfig;
    use crate::inspect::sip::dialog::DialogKind;

    fn key<'a>(call_id: &'a [u8], caller_tag: &'a [u8]) -> DialogKeyRef<'a> {
        DialogKeyRef {
            zone_link: crate::ids::ZoneLink::between("inside", "outside"),
            call_id,
            caller_tag,
        }
    }

    fn insert(table: &DialogTable, key: &DialogKeyRef<'_>, call: CallRef) -> Option<CallRef> {
        let config = SipConfig::default();
        let hash = table.hash(key);
        let mut shard = table.shard(hash)?;
        let make = || {
            Dialog::new(
                key,
                DialogKind::Call,
                call,
                1,
                Timestamp::from_secs(1),
                &config,
                None,
            )
        };
        match shard.insert(hash, key, make, table.hasher()) {
            Ok(Inserted::Created(d)) => Some(d.call()),
            Ok(Inserted::Existing(d)) => Some(CallRef(d.call().0 + 1000)),
            Err(TableFull) => None,
        }
    }

    #[test]
    fn a_second_insert_under_one_key_returns_the_stored_dialog() {
        let table = DialogTable::new(1, 2);
        let k = key(b"c1@h", b"a1");
        assert_eq!(insert(&table, &k, CallRef(1)), Some(CallRef(1)));
        assert_eq!(insert(&table, &k, CallRef(2)), Some(CallRef(1001)));
        assert_eq!(table.len(), 1);
        // Another caller tag is another dialog.
        assert_eq!(
            insert(&table, &key(b"c1@h", b"a2"), CallRef(3)),
            Some(CallRef(3))
        );
        // Full: a new key is refused, a stored one is still found.
        assert_eq!(insert(&table, &key(b"c2@h", b"a1"), CallRef(4)), None);
        assert_eq!(insert(&table, &k, CallRef(5)), Some(CallRef(1001)));
        assert_eq!(table.len(), 2);
    }
}
