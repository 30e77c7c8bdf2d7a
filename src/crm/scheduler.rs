//! The campaign scheduler: a background task that sends every due campaign step through the
//! send path. Safe to run on many nodes against one database, because each step is claimed
//! and recorded before it is sent (see `store::enrollments`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::{Composition, draft_for};
use crate::sending::{Mailer, SendError};
use crate::store::{self, Campaign, ClaimedStep, StepOutcome, Store, Template, User, now_ms};

/// How the scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// How often it looks for due steps.
    pub interval: Duration,
    /// How long a claimed step stays with this node before another may take it over. Must
    /// be longer than sending one batch takes.
    pub lease: Duration,
    /// The most steps claimed at once.
    pub batch: i64,
    /// This node's name in claims; unique per process.
    pub node: String,
}

impl SchedulerSettings {
    /// Settings that look every `interval`, with a five-minute lease and a random node name.
    pub fn every(interval: Duration) -> SchedulerSettings {
        SchedulerSettings {
            interval,
            lease: Duration::from_secs(300),
            batch: 100,
            node: format!("node-{}", hex::encode(rand::random::<[u8; 6]>())),
        }
    }
}

/// What one run over the due steps did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    pub sent: u64,
    pub failed: u64,
    pub suppressed: u64,
    pub cancelled: u64,
    /// Claimed but put back for a later run after a storage error before sending.
    pub retried: u64,
}

impl TickReport {
    pub fn total(&self) -> u64 {
        self.sent + self.failed + self.suppressed + self.cancelled + self.retried
    }
}

/// Sends due campaign steps. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    mailer: Mailer,
    settings: SchedulerSettings,
}

/// Campaigns, templates and senders looked up during one run.
#[derive(Default)]
struct Lookups {
    campaigns: HashMap<i64, Campaign>,
    templates: HashMap<i64, Template>,
    senders: HashMap<i64, User>,
}

/// What became of one step that went as far as the send path.
struct Done {
    outcome: StepOutcome,
    send_id: Option<i64>,
    error: Option<String>,
}

impl Done {
    fn only(outcome: StepOutcome) -> Done {
        Done {
            outcome,
            send_id: None,
            error: None,
        }
    }

    fn failed(send_id: Option<i64>, error: String) -> Done {
        Done {
            outcome: StepOutcome::Failed,
            send_id,
            error: Some(error),
        }
    }
}

impl Scheduler {
    pub fn new(mailer: Mailer, settings: SchedulerSettings) -> Scheduler {
        Scheduler { mailer, settings }
    }

    fn store(&self) -> &Store {
        &self.mailer.store
    }

    /// Runs until `shutdown` turns true, sending due steps every interval. A failed run is
    /// logged and the next one goes ahead; a run in progress finishes before it stops.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(self.settings.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tracing::info!(
            node = %self.settings.node,
            interval_ms = self.settings.interval.as_millis() as u64,
            "campaign scheduler started"
        );
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            // Each run in a task of its own: a bug that panics in one run is logged and
            // the scheduler carries on with the next, instead of stopping for everyone.
            let run = tokio::spawn({
                let scheduler = self.clone();
                async move { scheduler.run_due().await }
            });
            let outcome = match run.await {
                Ok(outcome) => outcome,
                Err(panic) => {
                    let node = &self.settings.node;
                    tracing::error!(%node, error = %panic, "scheduler run panicked");
                    continue;
                }
            };
            match outcome {
                Ok(report) if report.total() > 0 => tracing::info!(
                    node = %self.settings.node,
                    sent = report.sent,
                    failed = report.failed,
                    suppressed = report.suppressed,
                    cancelled = report.cancelled,
                    retried = report.retried,
                    "campaign steps sent"
                ),
                Ok(_) => {}
                Err(error) => tracing::error!(
                    node = %self.settings.node,
                    %error,
                    "campaign scheduler run failed"
                ),
            }
        }
        tracing::info!(node = %self.settings.node, "campaign scheduler stopped");
    }

    /// Sends every step due now, a batch at a time, and returns what happened.
    pub async fn run_due(&self) -> store::Result<TickReport> {
        let mut report = TickReport::default();
        let mut lookups = Lookups::default();
        let lease_ms = self.settings.lease.as_millis() as i64;
        loop {
            let claimed = self
                .store()
                .claim_due(&self.settings.node, now_ms(), lease_ms, self.settings.batch)
                .await?;
            for step in &claimed {
                self.take_step(step, &mut lookups, &mut report).await?;
            }
            // Steps put back for a retry are not due again until their next run.
            if (claimed.len() as i64) < self.settings.batch || report.retried > 0 {
                return Ok(report);
            }
        }
    }

    async fn take_step(
        &self,
        step: &ClaimedStep,
        lookups: &mut Lookups,
        report: &mut TickReport,
    ) -> store::Result<()> {
        let done = match self.send_step(step, lookups).await {
            Ok(done) => done,
            Err(error) => {
                // Nothing reached the send path, so the step may safely go out later.
                tracing::warn!(
                    enrollment.id = step.enrollment_id,
                    step = step.step_index,
                    %error,
                    "campaign step put back after a storage error"
                );
                self.store().release_step(step).await?;
                report.retried += 1;
                return Ok(());
            }
        };
        match done.outcome {
            StepOutcome::Sent => report.sent += 1,
            StepOutcome::Failed => report.failed += 1,
            StepOutcome::Suppressed => report.suppressed += 1,
            StepOutcome::Cancelled => report.cancelled += 1,
        }
        tracing::debug!(
            enrollment.id = step.enrollment_id,
            campaign.id = step.campaign_id,
            contact.id = step.contact_id,
            step = step.step_index,
            send.id = done.send_id,
            outcome = done.outcome.as_str(),
            "campaign step done"
        );
        self.store()
            .finish_step(step, done.outcome, done.send_id, done.error.as_deref())
            .await
    }

    /// Sends one claimed step. An `Err` means nothing was handed to the send path.
    async fn send_step(&self, step: &ClaimedStep, lookups: &mut Lookups) -> store::Result<Done> {
        let store = self.store();

        // Unenrolling stops a step even after it was claimed, up to this point.
        if !store.enrollment_active(step.enrollment_id).await? {
            return Ok(Done::only(StepOutcome::Cancelled));
        }
        let contact = store.contact(step.contact_id).await?;
        if !contact.is_active() {
            return Ok(Done::only(StepOutcome::Suppressed));
        }

        let campaign = lookups.campaign(store, step.campaign_id).await?.clone();
        let Some(campaign_step) = campaign.steps.get(step.step_index as usize) else {
            let error = format!("campaign {} has no step {}", campaign.id, step.step_index);
            return Ok(Done::failed(None, error));
        };
        let template = lookups
            .template(store, campaign_step.template_id)
            .await?
            .clone();
        let sender = lookups.sender(store, campaign.sender_id).await?.clone();

        let composition = Composition::Template(&template);
        // A campaign or one of its steps may opt out of tracking.
        let track = campaign.track && campaign_step.track;
        let draft = match draft_for(composition, &contact, Some(&campaign.name), track) {
            Ok(draft) => draft,
            Err(error) => return Ok(Done::failed(None, error.to_string())),
        };
        // From here on the step counts as taken, whatever happens: never sent twice.
        let done = match self.mailer.send(&sender, &draft).await {
            Ok(sent) if sent.status == "sent" => Done {
                outcome: StepOutcome::Sent,
                send_id: Some(sent.id),
                error: None,
            },
            Ok(sent) => {
                let error = sent.error.unwrap_or_else(|| sent.status.clone());
                Done::failed(Some(sent.id), error)
            }
            Err(SendError::Suppressed(_)) => Done::only(StepOutcome::Suppressed),
            Err(error) => Done::failed(None, error.to_string()),
        };
        Ok(done)
    }
}

impl Lookups {
    async fn campaign(&mut self, store: &Store, id: i64) -> store::Result<&Campaign> {
        Ok(match self.campaigns.entry(id) {
            Entry::Occupied(found) => found.into_mut(),
            Entry::Vacant(slot) => slot.insert(store.campaign(id).await?),
        })
    }

    async fn template(&mut self, store: &Store, id: i64) -> store::Result<&Template> {
        Ok(match self.templates.entry(id) {
            Entry::Occupied(found) => found.into_mut(),
            Entry::Vacant(slot) => slot.insert(store.template(id).await?),
        })
    }

    async fn sender(&mut self, store: &Store, id: i64) -> store::Result<&User> {
        Ok(match self.senders.entry(id) {
            Entry::Occupied(found) => found.into_mut(),
            Entry::Vacant(slot) => slot.insert(store.user_by_id(id).await?),
        })
    }
}
