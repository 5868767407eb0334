//! Lcores: which are enabled, and launching work on one so it runs with a valid DPDK
//! lcore identity (per-lcore mempool caches, `rte_lcore_id`).

use std::ffi::{c_int, c_void};

use crate::error::{check, Error};
use crate::raw;

/// A DPDK lcore id (with `-l`, equal to the CPU number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lcore(pub u32);

impl Lcore {
    /// The main lcore (the thread that initialised the EAL).
    pub fn main() -> Lcore {
        // SAFETY: reads EAL configuration; valid after init.
        Lcore(unsafe { raw::rte_get_main_lcore() })
    }

    /// Whether the EAL arguments enabled this lcore.
    pub fn is_enabled(self) -> bool {
        // SAFETY: pure constant accessor.
        if self.0 >= unsafe { raw::pinhole_max_lcore() } {
            return false;
        }
        // SAFETY: the id is in range; reads EAL configuration.
        unsafe { raw::rte_lcore_is_enabled(self.0) != 0 }
    }
}

type Job = Box<dyn FnOnce() -> i32 + Send + 'static>;

extern "C" fn trampoline(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the Box<Job> leaked by `launch`, handed to exactly one trampoline.
    let job: Box<Job> = unsafe { Box::from_raw(arg.cast::<Job>()) };
    // A panic must not unwind into C.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).unwrap_or(-1)
}

/// Work running on an lcore; [`LaunchedWorker::wait`] joins it (dropping also waits).
#[derive(Debug)]
pub struct LaunchedWorker {
    lcore: Lcore,
    joined: bool,
}

/// Run `job` on `lcore` (enabled, not the main lcore, idle). Must be called from the main lcore.
pub fn launch<F>(lcore: Lcore, job: F) -> Result<LaunchedWorker, Error>
where
    F: FnOnce() -> i32 + Send + 'static,
{
    if !lcore.is_enabled() {
        return Err(Error::LcoreNotEnabled(lcore.0));
    }
    if lcore == Lcore::main() {
        return Err(Error::LcoreIsMain(lcore.0));
    }
    let job: Box<Job> = Box::new(Box::new(job));
    let arg = Box::into_raw(job).cast::<c_void>();
    // SAFETY: trampoline matches lcore_function_t; arg is a leaked Box reclaimed exactly
    // once, by the trampoline on success or below on failure.
    let ret = unsafe { raw::rte_eal_remote_launch(Some(trampoline), arg, lcore.0) };
    if ret < 0 {
        // SAFETY: the launch failed, so the trampoline never ran and we still own arg.
        drop(unsafe { Box::from_raw(arg.cast::<Job>()) });
        check("rte_eal_remote_launch", ret)?;
    }
    Ok(LaunchedWorker {
        lcore,
        joined: false,
    })
}

impl LaunchedWorker {
    /// Wait for the work to return; its return value.
    pub fn wait(mut self) -> i32 {
        self.joined = true;
        // SAFETY: called from the main lcore for an lcore we launched on.
        unsafe { raw::rte_eal_wait_lcore(self.lcore.0) }
    }
}

impl Drop for LaunchedWorker {
    fn drop(&mut self) {
        if !self.joined {
            // SAFETY: as in `wait`; joining keeps the job from outliving its owner.
            let _ = unsafe { raw::rte_eal_wait_lcore(self.lcore.0) };
        }
    }
}
