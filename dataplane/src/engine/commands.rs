//! Requests from the control side to one worker, answered between bursts.
//!
//! A worker's session shard has one writer, the worker; the control side never touches
//! it. Instead it sends a [`WorkerCommand`] over a small bounded channel; the worker
//! looks at the channel when a loop iteration received nothing, or every
//! [`POLL_EVERY`] iterations under load, runs at most [`COMMANDS_PER_POLL`] commands,
//! each bounded ([`SCAN_SLOTS`] slots), and answers on the command's own reply
//! channel with `try_send` (never blocking). The control side waits for the answer
//! with a timeout, so a stopped or stuck worker yields an error, not a hang.

use std::time::Duration;

use crossbeam::channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use crate::inspect::sip::SipCounters;
use crate::pipeline::{AlgCounters, Pipeline, SessionFilter, SessionPage};
use crate::session::SessionCursor;
use crate::time::Timestamp;

/// Commands waiting per worker at most; more are refused (busy).
pub const QUEUE: usize = 16;
/// Loop iterations between looks at the channel while traffic flows.
pub const POLL_EVERY: u32 = 64;
/// Commands run per look at most.
pub const COMMANDS_PER_POLL: usize = 2;
/// Session-table slots one dump or clear step examines at most.
pub const SCAN_SLOTS: usize = 16_384;

/// The inspectors' counters of one worker.
#[derive(Clone, Debug, Default)]
pub struct InspectorSnapshot {
    /// One entry per SIP inspector the worker has had (one per parameter map in use).
    pub sip: Vec<SipCounters>,
    /// The Skinny inspector and the pipeline's inspector glue.
    pub glue: AlgCounters,
}

/// One request to a worker, with where to send the answer.
#[derive(Debug)]
pub enum WorkerCommand {
    /// One dump step: matching sessions from `cursor`, at most `max`.
    Sessions {
        /// Which sessions.
        filter: SessionFilter,
        /// Where to start.
        cursor: SessionCursor,
        /// Sessions to return at most.
        max: usize,
        /// The answer.
        reply: Sender<SessionPage>,
    },
    /// One clear step: remove matching sessions from `cursor`.
    Clear {
        /// Which sessions.
        filter: SessionFilter,
        /// Where to start.
        cursor: SessionCursor,
        /// Sessions removed, and where to continue (`None`: done).
        reply: Sender<(usize, Option<SessionCursor>)>,
    },
    /// The inspectors' counters.
    Inspectors {
        /// The answer.
        reply: Sender<InspectorSnapshot>,
    },
}

/// The worker's end: polled from the worker loop.
pub(crate) struct CommandInbox {
    rx: Receiver<WorkerCommand>,
    /// Busy iterations left before the next look.
    until_poll: u32,
}

impl CommandInbox {
    /// Look at the channel if the loop was idle or every [`POLL_EVERY`] iterations;
    /// run what is there (bounded). `now` is only read when a command arrives.
    #[inline]
    pub(crate) fn poll(
        &mut self,
        pipeline: &mut Pipeline,
        idle: bool,
        now: impl Fn() -> Timestamp,
    ) {
        self.until_poll = self.until_poll.saturating_sub(1);
        if !idle && self.until_poll != 0 {
            return;
        }
        self.until_poll = POLL_EVERY;
        for _ in 0..COMMANDS_PER_POLL {
            match self.rx.try_recv() {
                Ok(command) => run(command, pipeline, now()),
                Err(_) => return,
            }
        }
    }
}

fn run(command: WorkerCommand, pipeline: &mut Pipeline, now: Timestamp) {
    // A requester that gave up has dropped its receiver: the answer is discarded.
    match command {
        WorkerCommand::Sessions {
            filter,
            cursor,
            max,
            reply,
        } => {
            let page = pipeline.session_page(&filter, cursor, SCAN_SLOTS, max, now);
            let _ = reply.try_send(page);
        }
        WorkerCommand::Clear {
            filter,
            cursor,
            reply,
        } => {
            let step = pipeline.clear_sessions(&filter, cursor, SCAN_SLOTS, now);
            let _ = reply.try_send(step);
        }
        WorkerCommand::Inspectors { reply } => {
            let _ = reply.try_send(InspectorSnapshot {
                sip: pipeline.sip_counters(),
                glue: *pipeline.alg_counters(),
            });
        }
    }
}

/// Why a command got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No worker with that index.
    #[error("no worker {0}")]
    NoSuchWorker(usize),
    /// The worker's queue is full.
    #[error("worker {0} is busy with other commands")]
    Busy(usize),
    /// The worker did not answer in time (stopping, or overloaded).
    #[error("worker {0} did not answer in time")]
    Timeout(usize),
    /// The worker is gone.
    #[error("worker {0} has stopped")]
    Stopped(usize),
}

/// The control side's end: one sender per worker. Cheap to clone, usable from any
/// thread; every call blocks the caller (never a worker) for at most its timeout.
#[derive(Clone, Debug)]
pub struct WorkerCommands {
    senders: Vec<Sender<WorkerCommand>>,
}

/// A channel pair for `workers` workers: the control side's handle and each worker's
/// inbox.
pub(crate) fn channels(workers: usize) -> (WorkerCommands, Vec<CommandInbox>) {
    let (senders, inboxes) = (0..workers)
        .map(|_| {
            let (tx, rx) = crossbeam::channel::bounded(QUEUE);
            (tx, CommandInbox { rx, until_poll: 0 })
        })
        .unzip();
    (WorkerCommands { senders }, inboxes)
}

impl WorkerCommands {
    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.senders.len()
    }

    fn ask<T>(
        &self,
        worker: usize,
        timeout: Duration,
        make: impl FnOnce(Sender<T>) -> WorkerCommand,
    ) -> Result<T, CommandError> {
        let sender = self
            .senders
            .get(worker)
            .ok_or(CommandError::NoSuchWorker(worker))?;
        let (tx, rx) = crossbeam::channel::bounded(1);
        match sender.try_send(make(tx)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(CommandError::Busy(worker)),
            Err(TrySendError::Disconnected(_)) => return Err(CommandError::Stopped(worker)),
        }
        rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => CommandError::Timeout(worker),
            RecvTimeoutError::Disconnected => CommandError::Stopped(worker),
        })
    }

    /// One dump step on `worker`.
    pub fn sessions(
        &self,
        worker: usize,
        filter: &SessionFilter,
        cursor: SessionCursor,
        max: usize,
        timeout: Duration,
    ) -> Result<SessionPage, CommandError> {
        self.ask(worker, timeout, |reply| WorkerCommand::Sessions {
            filter: filter.clone(),
            cursor,
            max,
            reply,
        })
    }

    /// One clear step on `worker`.
    pub fn clear(
        &self,
        worker: usize,
        filter: &SessionFilter,
        cursor: SessionCursor,
        timeout: Duration,
    ) -> Result<(usize, Option<SessionCursor>), CommandError> {
        self.ask(worker, timeout, |reply| WorkerCommand::Clear {
            filter: filter.clone(),
            cursor,
            reply,
        })
    }

    /// Clear every matching session of every worker (step by step); sessions removed.
    pub fn clear_all(
        &self,
        filter: &SessionFilter,
        timeout: Duration,
    ) -> Result<usize, CommandError> {
        let mut total = 0;
        for worker in 0..self.workers() {
            let mut cursor = Some(SessionCursor::START);
            while let Some(at) = cursor {
                let (n, next) = self.clear(worker, filter, at, timeout)?;
                total += n;
                cursor = next;
            }
        }
        Ok(total)
    }

    /// The inspectors' counters of `worker`.
    pub fn inspectors(
        &self,
        worker: usize,
        timeout: Duration,
    ) -> Result<InspectorSnapshot, CommandError> {
        self.ask(worker, timeout, |reply| WorkerCommand::Inspectors { reply })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_is_busy_and_an_unanswered_command_times_out() {
        let (commands, inboxes) = channels(1);
        for _ in 0..QUEUE {
            let (tx, _rx) = crossbeam::channel::bounded(1);
            let queued = commands
                .senders
                .first()
                .map(|s| s.try_send(WorkerCommand::Inspectors { reply: tx }).is_ok());
            assert_eq!(queued, Some(true));
        }
        assert_eq!(
            commands.inspectors(0, Duration::from_millis(1)).err(),
            Some(CommandError::Busy(0))
        );
        assert_eq!(
            commands.inspectors(3, Duration::from_millis(1)).err(),
            Some(CommandError::NoSuchWorker(3))
        );
        drop(inboxes);
        assert_eq!(
            commands.inspectors(0, Duration::from_millis(1)).err(),
            Some(CommandError::Stopped(0))
        );
    }
}
