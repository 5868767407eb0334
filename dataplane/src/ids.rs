//! Newtypes for the small integer identities the fast path passes around.

use serde::Serialize;

/// Index of an interface in the compiled policy's interface table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct IfaceId(pub u16);

/// Index of a zone in the compiled policy's zone table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ZoneId(pub u16);

/// The unordered pair of zones a control flow runs between, by zone *name*: both
/// directions of a zone pair (caller to callee and callee to caller, on any flow) share
/// it, and it survives policy pushes that renumber zones. Signalling state (SIP
/// dialogs) is scoped by it, so a message between two other zones never touches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ZoneLink(pub u64);

impl ZoneLink {
    /// Flows between unzoned interfaces.
    pub const UNZONED: ZoneLink = ZoneLink(0);

    /// The link between zones named `a` and `b`, in either order (FNV-1a over the
    /// sorted names: fixed, so every worker and every policy version agrees).
    pub fn between(a: &str, b: &str) -> ZoneLink {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in lo.bytes().chain(std::iter::once(0)).chain(hi.bytes()) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // 0 is reserved for unzoned flows.
        ZoneLink(h.max(1))
    }
}

/// A worker's index (0-based, dense), not its core number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WorkerId(pub u16);

impl IfaceId {
    /// The index as a `usize`, for table lookups.
    #[inline]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl ZoneId {
    /// The index as a `usize`, for table lookups.
    #[inline]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl WorkerId {
    /// The index as a `usize`, for table lookups.
    #[inline]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}
