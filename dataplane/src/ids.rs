//! Newtypes for the small integer identities the fast path passes around.

use serde::Serialize;

/// Index of an interface in the compiled policy's interface table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct IfaceId(pub u16);

/// Index of a zone in the compiled policy's zone table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ZoneId(pub u16);

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
