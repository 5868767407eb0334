//! The safe layer's error type. DPDK failures carry `rte_strerror` text, not just a code.

use std::ffi::CStr;

use crate::raw;

/// Everything the safe layer can report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A DPDK call failed; `message` is DPDK's own text for `code`.
    #[error("{call} failed: {message} (error {code})")]
    Dpdk {
        /// The DPDK function that failed.
        call: &'static str,
        /// The positive errno-style code.
        code: i32,
        /// `rte_strerror(code)`.
        message: String,
    },
    /// `rte_eal_init` may run once per process.
    #[error("the DPDK EAL is already initialised in this process")]
    EalAlreadyInitialised,
    /// An argument cannot be passed to C (it contains a NUL byte).
    #[error("argument {0:?} contains a NUL byte")]
    NulInArgument(String),
    /// No ethdev port has this device name.
    #[error("no DPDK port named {0:?}")]
    NoSuchPort(String),
    /// The device cannot have as many queues as requested.
    #[error("port {port:?} offers at most {max} {direction} queues, {requested} needed")]
    TooManyQueues {
        /// Device name.
        port: String,
        /// "RX" or "TX".
        direction: &'static str,
        /// Queues asked for.
        requested: u16,
        /// The device's limit.
        max: u16,
    },
    /// The lcore is not enabled by the EAL arguments.
    #[error("lcore {0} is not enabled by the EAL arguments")]
    LcoreNotEnabled(u32),
    /// Work cannot be launched on the main lcore (it runs the control thread).
    #[error("lcore {0} is the main lcore")]
    LcoreIsMain(u32),
}

impl Error {
    /// An error for `call` from a negative return value or a positive `rte_errno`.
    pub fn dpdk(call: &'static str, code: i32) -> Self {
        let code = code.saturating_abs();
        Error::Dpdk {
            call,
            code,
            message: strerror(code),
        }
    }

    /// An error for `call` from the current `rte_errno`.
    pub fn from_rte_errno(call: &'static str) -> Self {
        Error::dpdk(call, rte_errno())
    }
}

/// The calling thread's `rte_errno`.
pub fn rte_errno() -> i32 {
    // SAFETY: reads a thread-local integer; no preconditions.
    unsafe { raw::pinhole_rte_errno() }
}

/// DPDK's text for an errno-style code (DPDK's own codes included).
pub fn strerror(code: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local NUL-terminated
    // string for any input; we copy it out before the next call can reuse the buffer.
    let text = unsafe { CStr::from_ptr(raw::rte_strerror(code)) };
    text.to_string_lossy().into_owned()
}

/// Turn a DPDK `int` return (negative errno on failure) into a result.
pub(crate) fn check(call: &'static str, ret: i32) -> Result<i32, Error> {
    if ret < 0 {
        Err(Error::dpdk(call, ret))
    } else {
        Ok(ret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpdk_errors_carry_the_strerror_text() {
        let e = Error::dpdk("rte_eth_dev_start", -libc::ENODEV);
        assert_eq!(
            e.to_string(),
            "rte_eth_dev_start failed: No such device (error 19)"
        );
    }

    #[test]
    fn check_passes_non_negative_returns_through() {
        assert_eq!(check("x", 3).ok(), Some(3));
        assert!(matches!(check("x", -22), Err(Error::Dpdk { code: 22, .. })));
    }
}
