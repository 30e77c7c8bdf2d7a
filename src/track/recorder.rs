//! Group commit for tracking hits.
//!
//! Handlers hand each hit to one writer task and wait for its commit before they answer,
//! so an answered request is always in the database, also when the process is killed right
//! after. The writer takes every hit that queued while the previous transaction ran and
//! commits them together: one transaction per batch, not per request.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::store::{NewEvent, RecentEvents, Store};

/// Hits waiting for the writer; a full queue makes handlers wait (back-pressure).
const QUEUE_DEPTH: usize = 8192;
/// The most hits committed in one transaction.
const MAX_BATCH: usize = 512;
/// Tries of one batch before its hits are reported lost to their handlers.
const ATTEMPTS: u32 = 4;

/// The hit could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("the tracking event could not be stored")]
pub struct NotRecorded;

struct Job {
    event: NewEvent,
    done: oneshot::Sender<Result<(), NotRecorded>>,
}

/// Hands hits to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
}

/// What the recorder keeps of a client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Only the network (IPv4 /24, IPv6 /48): the default.
    NetworkOnly,
    /// The full address, cut to its network later by the retention job.
    FullForAWhile,
}

impl Recorder {
    /// Starts the writer task on the current runtime, keeping only addresses' networks.
    pub fn start(store: Store) -> Recorder {
        Recorder::start_with(store, AddressPolicy::NetworkOnly)
    }

    /// Starts the writer task with an address policy.
    pub fn start_with(store: Store, policy: AddressPolicy) -> Recorder {
        let (queue, jobs) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(write_batches(
            store,
            jobs,
            policy == AddressPolicy::FullForAWhile,
        ));
        Recorder { queue }
    }

    /// Stores one hit; returns once it is committed.
    pub async fn record(&self, event: NewEvent) -> Result<(), NotRecorded> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(Job { event, done })
            .await
            .map_err(|_| NotRecorded)?;
        committed.await.map_err(|_| NotRecorded)?
    }
}

async fn write_batches(store: Store, mut jobs: mpsc::Receiver<Job>, keep_full_ip: bool) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut recent = RecentEvents::default();
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let events: Vec<NewEvent> = batch.iter().map(|job| job.event.clone()).collect();
        let outcome = commit(&store, &events, keep_full_ip, &mut recent).await;
        for job in batch.drain(..) {
            // A handler that gave up waiting has nobody to tell.
            let _ = job
                .done
                .send(outcome.as_ref().map(|_| ()).map_err(|_| NotRecorded));
        }
    }
    tracing::debug!("recorder stopped: every handle is gone");
}

async fn commit(
    store: &Store,
    events: &[NewEvent],
    keep_full_ip: bool,
    recent: &mut RecentEvents,
) -> Result<(), ()> {
    for attempt in 1..=ATTEMPTS {
        match store.record_batch(events, keep_full_ip, recent).await {
            Ok(()) => {
                tracing::trace!(events = events.len(), "committed tracking batch");
                return Ok(());
            }
            Err(error) => {
                tracing::error!(%error, attempt, events = events.len(), "tracking batch failed");
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
            }
        }
    }
    Err(())
}
