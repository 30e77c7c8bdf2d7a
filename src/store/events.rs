//! Tracking events and the counters they feed.
//!
//! `record_batch` is the one place where events are written: it stores a batch of hits in
//! one transaction (group commit) and folds each into its send's counters through the
//! counting rules of `mailtally_classify::tally`, as the difference the new hits make.

use std::collections::{BTreeMap, HashMap};

use mailtally_classify::{self as classify, Class, Kind, Source, Tally, Verdict};

use super::{Result, Store, begin, with_reader, with_writer};
use crate::privacy::truncate_ip;

/// How far back the counting rules look when a new hit arrives. Scanner bursts, repeats
/// and honeypot hits play out within minutes; an hour leaves a wide margin.
const CONTEXT_WINDOW_MS: i64 = 60 * 60 * 1000;

/// At most this many earlier events of one send are reconsidered per batch.
const CONTEXT_LIMIT: i64 = 500;

/// A hit to store, classified on its own already.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub send_id: i64,
    pub request: classify::Request,
    pub base: Verdict,
}

/// An event as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub send_id: i64,
    pub kind: String,
    pub position: Option<i64>,
    pub source: String,
    pub method: String,
    pub user_agent: String,
    pub ip: Option<String>,
    pub prefetch: i64,
    pub at: i64,
    pub base_class: String,
    pub base_agent: Option<String>,
    pub base_reason: String,
    pub class: String,
    pub agent: Option<String>,
    pub reason: String,
    pub counted: i64,
}

/// The counters a send keeps for good.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCounters {
    pub created_at: i64,
    pub opens: i64,
    pub clicks: i64,
    pub mpp_opens: i64,
    pub filtered: i64,
    pub first_opened_at: Option<i64>,
    pub first_clicked_at: Option<i64>,
}

const EVENT_COLUMNS: &str = "id, send_id, kind, position, source, method, user_agent, ip,
    prefetch, at, base_class, base_agent, base_reason, class, agent, reason, counted";

/// Columns of a stored event, in the order `insert_events` binds them.
const INSERT_COLUMNS: &str = "id, send_id, kind, position, source, method, user_agent, ip,
    prefetch, at, base_class, base_agent, base_reason, class, agent, reason, counted, ip_full";
const INSERT_COLUMN_COUNT: usize = 18;
/// Rows per INSERT statement: well inside both backends' limits on bound parameters.
const INSERT_CHUNK: usize = 200;

/// The recent events of the sends the recorder touched lately, so that a batch need not
/// read them back. Each entry carries the send's `events_version`: when another node (or
/// an erasure) changed the send's events since, the entry is stale and is read again.
#[derive(Debug, Default)]
pub struct RecentEvents {
    sends: HashMap<i64, Recent>,
}

/// Beyond this many sends the cache starts again from empty; one read per send refills it.
const RECENT_SENDS: usize = 50_000;

#[derive(Debug, Clone)]
struct Recent {
    version: i64,
    events: Vec<Known>,
}

/// An event whose row id is known, as the counting rules last saw it.
#[derive(Debug, Clone)]
struct Known {
    id: i64,
    event: classify::Event,
}

/// A send's counters and version, read under lock at the start of a batch.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
struct SendState {
    id: i64,
    events_version: i64,
    #[sqlx(flatten)]
    counters: StoredCounters,
}

/// One event row to insert.
struct Insert<'a> {
    id: i64,
    send_id: i64,
    event: &'a classify::Event,
    ip: Option<String>,
    ip_full: bool,
}

impl Store {
    /// Stores a batch of hits in one transaction and updates their sends' counters.
    /// Hits of sends that do not exist, or whose contact was erased, are dropped. Client
    /// addresses are stored cut to their network unless `keep_full_ip`, in which case the
    /// retention job cuts them later. `recent` is the caller's cache of recent events; it
    /// is updated only when the transaction commits.
    pub async fn record_batch(
        &self,
        batch: &[NewEvent],
        keep_full_ip: bool,
        recent: &mut RecentEvents,
    ) -> Result<()> {
        let mut by_send: BTreeMap<i64, Vec<&NewEvent>> = BTreeMap::new();
        for event in batch {
            by_send.entry(event.send_id).or_default().push(event);
        }
        let send_ids: Vec<i64> = by_send.keys().copied().collect();
        let postgres = self.is_postgres();
        // Hits on the sends of an erased contact are dropped like hits on no send: nothing
        // about the person is stored again, and the figures stay as they were. Rows are
        // locked in id order, so nodes committing batches at once never deadlock.
        let lock_sql = format!(
            "SELECT id, created_at, opens, clicks, mpp_opens, filtered, first_opened_at,
                first_clicked_at, events_version FROM sends
            WHERE id IN ({}) AND NOT EXISTS (SELECT 1 FROM contacts c
                WHERE c.id = sends.contact_id AND c.erased_at IS NOT NULL)
            ORDER BY id{}",
            placeholders(1, send_ids.len()),
            if postgres { " FOR UPDATE" } else { "" }
        );
        let context_sql = format!(
            "SELECT {EVENT_COLUMNS} FROM (SELECT {EVENT_COLUMNS} FROM events
                WHERE send_id = $1 AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3) recent
            ORDER BY at, id"
        );

        let refreshed = with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            let mut lock = sqlx::query_as::<_, SendState>(sqlx::AssertSqlSafe(lock_sql));
            for id in &send_ids {
                lock = lock.bind(*id);
            }
            let states = lock.fetch_all(&mut *tx).await?;

            let mut folds = Vec::with_capacity(states.len());
            for state in &states {
                let hits = &by_send[&state.id];
                // Taken out, not copied: the batch gives back a fresh entry when it commits.
                let cached = match recent.sends.remove(&state.id) {
                    Some(r) if r.version == state.events_version => Some(r.events),
                    _ => None,
                };
                let context = match cached {
                    Some(events) => events,
                    None => {
                        let earliest = hits.iter().map(|h| h.request.at).min().unwrap_or_default();
                        let rows: Vec<EventRow> =
                            sqlx::query_as(sqlx::AssertSqlSafe(context_sql.clone()))
                                .bind(state.id)
                                .bind(earliest - CONTEXT_WINDOW_MS)
                                .bind(CONTEXT_LIMIT)
                                .fetch_all(&mut *tx)
                                .await?;
                        rows.iter()
                            .map(|row| Known {
                                id: row.id,
                                event: event_from_row(row),
                            })
                            .collect()
                    }
                };
                folds.push((*state, fold(&state.counters, context, hits)));
            }

            // Row ids for the new events, so the cache can name them in later batches.
            let added: usize = folds.iter().map(|(_, f)| f.added.len()).sum();
            let mut ids: Vec<i64> = if added == 0 {
                Vec::new()
            } else if postgres {
                sqlx::query_scalar(
                    "SELECT nextval(pg_get_serial_sequence('events', 'id'))
                    FROM generate_series(1, $1)",
                )
                .bind(added as i64)
                .fetch_all(&mut *tx)
                .await?
            } else {
                let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
                    .fetch_one(&mut *tx)
                    .await?;
                (max + 1..=max + added as i64).collect()
            };
            ids.reverse();

            let mut plans = Vec::with_capacity(folds.len());
            for (state, folded) in folds {
                let known = folded.ids.len();
                let changed = folded
                    .before
                    .iter()
                    .zip(&folded.events[..known])
                    .zip(&folded.ids);
                for (((old_verdict, old_counted), new), id) in changed {
                    if *old_verdict == new.verdict && *old_counted == new.counted {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE events SET class = $1, agent = $2, reason = $3, counted = $4
                        WHERE id = $5",
                    )
                    .bind(new.verdict.class.as_str())
                    .bind(new.verdict.agent.as_deref())
                    .bind(&new.verdict.reason)
                    .bind(i64::from(new.counted))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                let new_ids: Vec<i64> = folded
                    .added
                    .iter()
                    .map(|_| ids.pop().expect("an id"))
                    .collect();

                let c = folded.counters;
                sqlx::query(
                    "UPDATE sends SET opens = $1, clicks = $2, mpp_opens = $3, filtered = $4,
                        first_opened_at = $5, first_clicked_at = $6,
                        events_version = events_version + 1
                    WHERE id = $7",
                )
                .bind(c.opens)
                .bind(c.clicks)
                .bind(c.mpp_opens)
                .bind(c.filtered)
                .bind(c.first_opened_at)
                .bind(c.first_clicked_at)
                .bind(state.id)
                .execute(&mut *tx)
                .await?;
                for (position, delta) in &folded.link_clicks {
                    sqlx::query(
                        "UPDATE send_links SET clicks = clicks + $1
                        WHERE send_id = $2 AND position = $3",
                    )
                    .bind(delta)
                    .bind(state.id)
                    .bind(i64::from(*position))
                    .execute(&mut *tx)
                    .await?;
                }
                plans.push((state, folded, new_ids));
            }

            let mut inserts = Vec::with_capacity(added);
            for (state, folded, new_ids) in &plans {
                let known = folded.ids.len();
                for ((event, hit), id) in folded.events[known..]
                    .iter()
                    .zip(&folded.added)
                    .zip(new_ids)
                {
                    // The rules saw the network only; the full address is kept when asked.
                    let ip = if keep_full_ip {
                        hit.request.ip
                    } else {
                        event.request.ip
                    };
                    inserts.push(Insert {
                        id: *id,
                        send_id: state.id,
                        event,
                        ip: ip.map(|ip| ip.to_string()),
                        ip_full: keep_full_ip && hit.request.ip.is_some(),
                    });
                }
            }
            for chunk in inserts.chunks(INSERT_CHUNK) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|row| {
                        format!(
                            "({})",
                            placeholders(row * INSERT_COLUMN_COUNT + 1, INSERT_COLUMN_COUNT)
                        )
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO events ({INSERT_COLUMNS}) VALUES {}",
                    rows.join(", ")
                );
                let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    let e = row.event;
                    let (kind, position) = kind_columns(e.request.kind);
                    insert = insert
                        .bind(row.id)
                        .bind(row.send_id)
                        .bind(kind)
                        .bind(position)
                        .bind(source_column(e.request.source))
                        .bind(e.request.method.as_str())
                        .bind(e.request.user_agent.as_str())
                        .bind(row.ip.as_deref())
                        .bind(i64::from(e.request.prefetch))
                        .bind(e.request.at)
                        .bind(e.base.class.as_str())
                        .bind(e.base.agent.as_deref())
                        .bind(e.base.reason.as_str())
                        .bind(e.verdict.class.as_str())
                        .bind(e.verdict.agent.as_deref())
                        .bind(e.verdict.reason.as_str())
                        .bind(i64::from(e.counted))
                        .bind(i64::from(row.ip_full));
                }
                insert.execute(&mut *tx).await?;
            }
            drop(inserts);
            tx.commit().await?;
            plans
                .into_iter()
                .map(|(state, folded, new_ids)| {
                    let ids = folded.ids.into_iter().chain(new_ids);
                    let events = ids
                        .zip(folded.events)
                        .map(|(id, event)| Known { id, event });
                    (
                        state.id,
                        Recent {
                            version: state.events_version + 1,
                            events: events.collect(),
                        },
                    )
                })
                .collect::<Vec<_>>()
        });

        if recent.sends.len() > RECENT_SENDS {
            recent.sends.clear();
        }
        for (send_id, mut fresh) in refreshed {
            trim(&mut fresh.events);
            recent.sends.insert(send_id, fresh);
        }
        Ok(())
    }

    /// The events of a send, oldest first.
    pub async fn events(&self, send_id: i64) -> Result<Vec<EventRow>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE send_id = $1 ORDER BY at, id");
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(send_id)
                .fetch_all(pool)
                .await?)
        })
    }

    /// How many events are stored in all; for tests and benchmarks.
    pub async fn event_count(&self) -> Result<i64> {
        with_writer!(self, |pool| {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM events")
                .fetch_one(pool)
                .await?)
        })
    }
}

/// The outcome of folding new hits into a send.
struct Folded<'a> {
    /// The row ids of the context events, which come first in `events`.
    ids: Vec<i64>,
    /// The context events' verdicts and counted flags before this batch.
    before: Vec<(Verdict, bool)>,
    /// The context events, then the new ones, with their final verdicts.
    events: Vec<classify::Event>,
    /// The new hits, in the order their events follow the context.
    added: Vec<&'a NewEvent>,
    counters: StoredCounters,
    /// Change of counted clicks per link position.
    link_clicks: HashMap<u32, i64>,
}

/// Applies the counting rules to a send's recent events with and without the new hits,
/// and adds the difference to the stored counters.
fn fold<'a>(stored: &StoredCounters, context: Vec<Known>, hits: &[&'a NewEvent]) -> Folded<'a> {
    let mut ids = Vec::with_capacity(context.len());
    let mut before_verdicts = Vec::with_capacity(context.len());
    let mut events = Vec::with_capacity(context.len() + hits.len());
    for Known { id, mut event } in context {
        // `tally` overwrites every verdict; keep the old ones to see what changed.
        let placeholder = Verdict {
            class: event.base.class,
            agent: None,
            reason: String::new(),
        };
        before_verdicts.push((
            std::mem::replace(&mut event.verdict, placeholder),
            event.counted,
        ));
        ids.push(id);
        events.push(event);
    }
    let before = classify::tally(stored.created_at, &mut events);
    let links_before = counted_clicks(&events);

    // New hits go after the context, in time order; the context is already in time order,
    // and a hit that arrives late is still the latest thing the rules have seen.
    let mut added = hits.to_vec();
    added.sort_by_key(|hit| hit.request.at);
    events.extend(added.iter().map(|hit| {
        let mut request = hit.request.clone();
        // The rules compare networks, never full addresses, so that stored events (whose
        // addresses are cut) and new hits are judged alike.
        request.ip = request.ip.map(truncate_ip);
        classify::Event {
            request,
            base: hit.base.clone(),
            verdict: hit.base.clone(),
            counted: false,
        }
    }));
    let after = classify::tally(stored.created_at, &mut events);
    let mut link_clicks = counted_clicks(&events);
    for (position, count) in links_before {
        *link_clicks.entry(position).or_default() -= count;
    }
    link_clicks.retain(|_, delta| *delta != 0);

    Folded {
        counters: apply(stored, &before, &after),
        ids,
        before: before_verdicts,
        events,
        added,
        link_clicks,
    }
}

/// Keeps what the next batch's rules may look at: the last hour before the newest event,
/// at most `CONTEXT_LIMIT` events.
fn trim(events: &mut Vec<Known>) {
    let newest = events
        .iter()
        .map(|k| k.event.request.at)
        .max()
        .unwrap_or_default();
    events.retain(|k| k.event.request.at >= newest - CONTEXT_WINDOW_MS);
    let excess = events.len().saturating_sub(CONTEXT_LIMIT as usize);
    events.drain(..excess);
}

/// `$first, $first+1, ...`: `count` numbered placeholders.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn apply(stored: &StoredCounters, before: &Tally, after: &Tally) -> StoredCounters {
    StoredCounters {
        created_at: stored.created_at,
        opens: stored.opens + after.opens - before.opens,
        clicks: stored.clicks + after.clicks - before.clicks,
        mpp_opens: stored.mpp_opens + after.mpp_opens - before.mpp_opens,
        filtered: stored.filtered + after.filtered - before.filtered,
        first_opened_at: first_time(
            stored.first_opened_at,
            before.first_opened_at,
            after.first_opened_at,
        ),
        first_clicked_at: first_time(
            stored.first_clicked_at,
            before.first_clicked_at,
            after.first_clicked_at,
        ),
    }
}

/// The new "first at" time: the stored one unless the rules moved the one they can see.
fn first_time(stored: Option<i64>, before: Option<i64>, after: Option<i64>) -> Option<i64> {
    if before == after {
        return stored;
    }
    match (stored, after) {
        // The stored time came from the window the rules just revised.
        (Some(s), _) if Some(s) == before => after,
        (Some(s), Some(a)) => Some(s.min(a)),
        (s, None) => s,
        (None, a) => a,
    }
}

fn counted_clicks(events: &[classify::Event]) -> HashMap<u32, i64> {
    let mut clicks = HashMap::new();
    for e in events.iter().filter(|e| e.counted) {
        if let Kind::Click { position } = e.request.kind {
            *clicks.entry(position).or_default() += 1;
        }
    }
    clicks
}

fn kind_columns(kind: Kind) -> (&'static str, Option<i64>) {
    match kind {
        Kind::Open => ("open", None),
        Kind::Click { position } => ("click", Some(i64::from(position))),
        Kind::Honeypot => ("honeypot", None),
    }
}

fn source_column(source: Source) -> &'static str {
    match source {
        Source::Direct => "direct",
        Source::Mailgun { flagged_bot: false } => "mailgun",
        Source::Mailgun { flagged_bot: true } => "mailgun_bot",
    }
}

fn event_from_row(row: &EventRow) -> classify::Event {
    let kind = match (row.kind.as_str(), row.position) {
        ("click", Some(p)) => Kind::Click { position: p as u32 },
        ("honeypot", _) => Kind::Honeypot,
        _ => Kind::Open,
    };
    let source = match row.source.as_str() {
        "mailgun" => Source::Mailgun { flagged_bot: false },
        "mailgun_bot" => Source::Mailgun { flagged_bot: true },
        _ => Source::Direct,
    };
    let verdict = |class: &str, agent: &Option<String>, reason: &str| Verdict {
        class: Class::parse(class).unwrap_or(Class::OtherBot),
        agent: agent.clone(),
        reason: reason.to_string(),
    };
    classify::Event {
        request: classify::Request {
            kind,
            source,
            method: row.method.clone(),
            user_agent: row.user_agent.clone(),
            ip: row
                .ip
                .as_deref()
                .and_then(|ip| ip.parse().ok())
                .map(truncate_ip),
            prefetch: row.prefetch != 0,
            at: row.at,
        },
        base: verdict(&row.base_class, &row.base_agent, &row.base_reason),
        verdict: verdict(&row.class, &row.agent, &row.reason),
        counted: row.counted != 0,
    }
}
