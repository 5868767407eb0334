//! A [`SipProfile`] applied: its rules in order (sizes, conformance, block list, rate
//! limits) on each message before the inspector changes anything, and the state the
//! stateful rules keep across messages and workers ([`ProfileState`]).

use std::net::IpAddr;
use std::sync::Arc;

use super::block_list::is_rejection;
use super::conformance::{check_message, check_raw, Judge};
use super::counters::ProfileCounters;
use super::message::SipMessage;
use super::profile::{ProfileRule, ProfileVerdict, SipProfile};
use super::quota::{DialogQuota, QuotaTicket};
use super::sources::SourceTable;
use super::startline::StatusCode;
use crate::inspect::action::FlowContext;
use crate::time::Timestamp;

/// What a profile remembers, shared by every worker's inspector under that profile and
/// kept across policy pushes.
#[derive(Debug, Default)]
pub struct ProfileState {
    /// Per-source rate limits and block list.
    pub sources: SourceTable,
    /// Live dialogs, against `max_dialogs`.
    pub dialogs: Arc<DialogQuota>,
}

/// A profile with its state, as one inspector applies it.
#[derive(Clone, Debug)]
pub struct ProfileGuard {
    profile: Arc<SipProfile>,
    state: Arc<ProfileState>,
}

impl ProfileGuard {
    /// Apply `profile`, keeping its state in `state`.
    pub fn new(profile: Arc<SipProfile>, state: Arc<ProfileState>) -> Self {
        ProfileGuard { profile, state }
    }

    /// The profile.
    pub fn profile(&self) -> &SipProfile {
        &self.profile
    }

    /// Its state.
    pub fn state(&self) -> &Arc<ProfileState> {
        &self.state
    }

    fn judge<'a>(&'a self, counters: &'a mut ProfileCounters) -> Judge<'a> {
        Judge {
            profile: &self.profile,
            counters,
        }
    }

    /// Rules on the bytes as received.
    pub(crate) fn admit_raw(
        &self,
        payload: &[u8],
        counters: &mut ProfileCounters,
    ) -> Result<(), ProfileVerdict> {
        check_raw(payload, &mut self.judge(counters))
    }

    /// Rules on the parsed message: conformance, then (requests) the block list and
    /// the rate limits of `ctx`'s source.
    pub(crate) fn admit_message(
        &self,
        msg: &SipMessage<'_>,
        ctx: &FlowContext,
        now: Timestamp,
        counters: &mut ProfileCounters,
    ) -> Result<(), ProfileVerdict> {
        let mut judge = self.judge(counters);
        check_message(msg, &mut judge)?;
        let Some(method) = msg.method() else {
            return Ok(());
        };
        let src = ctx.src.ip();
        let profile = &self.profile;
        let sources = &self.state.sources;
        // In-dialog requests (To tag) still pass a blocked source: its calls can end.
        let out_of_dialog = msg.to().ok().and_then(|to| to.tag()).is_none();
        if profile.block.is_some()
            && out_of_dialog
            && sources.get(src, |s| s.rejections.is_blocked(now)) == Some(true)
        {
            judge.hit(ProfileRule::SourceBlocked)?;
        }
        if let Some((idx, limit)) = profile.rate_limit_for(method.token()) {
            let taken = sources.upsert(src, profile.max_sources, |s| {
                s.buckets
                    .get_mut(idx)
                    .is_some_and(|b| b.try_take(now, limit.per_second, limit.burst))
            });
            match taken {
                Ok(true) => {}
                Ok(false) => judge.hit(ProfileRule::RateLimited)?,
                Err(_) => judge.hit(ProfileRule::SourceTableFull)?,
            }
        }
        Ok(())
    }

    /// A ticket for a new dialog: `Ok(None)` when the profile caps nothing, `Err` when
    /// `max_dialogs` are live.
    pub(crate) fn dialog_ticket(&self) -> Result<Option<QuotaTicket>, ProfileVerdict> {
        match self.profile.max_dialogs {
            None => Ok(None),
            Some(max) => self
                .state
                .dialogs
                .acquire(max)
                .map(Some)
                .ok_or(self.profile.verdict(ProfileRule::DialogLimit)),
        }
    }

    /// Whether an SDP making its call hold `pinholes` breaks `max_pinholes_per_call`.
    pub(crate) fn pinholes_exceed(&self, pinholes: u32) -> bool {
        self.profile
            .max_pinholes_per_call
            .is_some_and(|max| pinholes > max)
    }

    /// `source`'s initial INVITE got the final response `status`: count it toward the
    /// block list.
    pub(crate) fn record_rejection(
        &self,
        source: IpAddr,
        status: StatusCode,
        now: Timestamp,
        counters: &mut ProfileCounters,
    ) {
        let Some(policy) = &self.profile.block else {
            return;
        };
        if !is_rejection(status, policy) {
            return;
        }
        match self
            .state
            .sources
            .upsert(source, self.profile.max_sources, |s| {
                s.rejections.record(now, policy)
            }) {
            Ok(true) => counters.sources_blocked += 1,
            Ok(false) => {}
            Err(_) => counters.source_table_full += 1,
        }
    }

    /// Forget idle sources of one shard of the source table.
    pub fn sweep(&self, now: Timestamp) {
        if self.profile.tracks_sources() {
            self.state.sources.sweep(now, &self.profile);
        }
    }
}
