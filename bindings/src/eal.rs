//! EAL initialisation (once per process) and cleanup.

use std::ffi::{c_char, c_int, CString};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;
use crate::raw;

static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Proof that the EAL is initialised; dropping it runs `rte_eal_cleanup`.
///
/// Drop every port, mempool and launched worker before this value: DPDK objects do not
/// survive the cleanup.
#[derive(Debug)]
pub struct Eal {
    /// Private: an `Eal` only comes from [`Eal::init`].
    _initialised: (),
}

impl Eal {
    /// Initialise the EAL with `args` (without the program name, which is added).
    ///
    /// EAL can be initialised once per process; a second call fails without touching DPDK.
    pub fn init<S: AsRef<str>>(program: &str, args: &[S]) -> Result<Eal, Error> {
        let mut owned = Vec::with_capacity(args.len() + 1);
        for arg in std::iter::once(program).chain(args.iter().map(AsRef::as_ref)) {
            owned.push(CString::new(arg).map_err(|_| Error::NulInArgument(arg.to_owned()))?);
        }
        if INITIALISED.swap(true, Ordering::SeqCst) {
            return Err(Error::EalAlreadyInitialised);
        }
        // DPDK may keep pointers into argv (program name, some option values) for the
        // whole process lifetime, so the strings are leaked on purpose: once per process.
        let leaked: &'static mut [CString] = Box::leak(owned.into_boxed_slice());
        let mut argv: Vec<*mut c_char> = leaked.iter().map(|s| s.as_ptr().cast_mut()).collect();
        let argc =
            c_int::try_from(argv.len()).map_err(|_| Error::dpdk("rte_eal_init", -libc::E2BIG))?;
        // SAFETY: argv holds argc valid NUL-terminated strings that live forever; the EAL
        // may permute the pointer array, which we own and do not read afterwards.
        let ret = unsafe { raw::rte_eal_init(argc, argv.as_mut_ptr()) };
        if ret < 0 {
            return Err(Error::from_rte_errno("rte_eal_init"));
        }
        Ok(Eal { _initialised: () })
    }
}

impl Drop for Eal {
    fn drop(&mut self) {
        // SAFETY: the EAL was initialised by `init`; the type's contract asks callers to
        // release DPDK objects first. A failure here only leaks hugepage state.
        let ret = unsafe { raw::rte_eal_cleanup() };
        if ret < 0 {
            tracing::warn!(error = %Error::dpdk("rte_eal_cleanup", ret), "EAL cleanup failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_with_nul_are_refused_before_dpdk_is_touched() {
        let err = Eal::init("pinhole", &["-l", "0\0"]).err();
        assert!(matches!(err, Some(Error::NulInArgument(a)) if a == "0\0"));
        assert!(!INITIALISED.load(Ordering::SeqCst));
    }
}
