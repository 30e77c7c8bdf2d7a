//! Enrollments: one contact's way through one campaign, and the ledger (`step_sends`) of
//! the steps the scheduler took for it.
//!
//! How a step goes out exactly once, on any number of nodes:
//! 1. `claim_due` leases due enrollments to one node (`FOR UPDATE SKIP LOCKED` on
//!    PostgreSQL; SQLite's single writer serialises) and, in the same transaction, writes
//!    a `step_sends` row keyed `(enrollment_id, step_index)`. Only the node whose insert
//!    made that row hands the step to the send path.
//! 2. `finish_step` records the outcome and advances the enrollment in one transaction.
//!
//! A node that dies between the two leaves a `pending` row. Once its lease runs out another
//! node claims the enrollment, finds the row, marks it `interrupted` and advances without
//! sending: a step is sent at most once, and the rare step cut off mid-send is counted, not
//! repeated. A step a node never started (a crash between steps) is simply claimed later.

use super::{Error, OwnerScope, Result, Store, begin, now_ms, with_reader, with_writer};

/// An enrollment as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Enrollment {
    pub id: i64,
    pub campaign_id: i64,
    pub contact_id: i64,
    pub email: String,
    /// `active`, `finished` or `stopped`.
    pub status: String,
    pub stop_reason: Option<String>,
    /// The index of the next step to send; equals the step count once finished.
    pub next_step: i64,
    pub next_due_at: Option<i64>,
    pub enrolled_at: i64,
}

/// What an enroll call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EnrollReport {
    pub enrolled: u64,
    /// Contacts that were enrolled already (in any state) and were left as they are.
    pub already: u64,
}

/// A due step leased to this node, whose `step_sends` row this node wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimedStep {
    pub enrollment_id: i64,
    pub campaign_id: i64,
    pub contact_id: i64,
    pub step_index: i64,
}

/// What became of a claimed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// Handed to the transport.
    Sent,
    /// The send path or the transport refused it; the enrollment still advances.
    Failed,
    /// The contact is blocked or unsubscribed; the enrollment stops.
    Suppressed,
    /// The enrollment was stopped after the claim; nothing was sent.
    Cancelled,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Sent => "sent",
            StepOutcome::Failed => "failed",
            StepOutcome::Suppressed => "suppressed",
            StepOutcome::Cancelled => "cancelled",
        }
    }
}

/// Stops every active enrollment of a contact; binds $1 contact, $2 reason, $3 now.
pub(super) const STOP_CONTACT: &str = "UPDATE enrollments SET status = 'stopped',
        stop_reason = $2, next_due_at = NULL, claimed_by = NULL, claimed_until = NULL,
        updated_at = $3
    WHERE contact_id = $1 AND status = 'active'";

/// Stops one active enrollment; binds $1 enrollment, $2 reason, $3 now.
const STOP_ONE: &str = "UPDATE enrollments SET status = 'stopped', stop_reason = $2,
        next_due_at = NULL, claimed_by = NULL, claimed_until = NULL, updated_at = $3
    WHERE id = $1 AND status = 'active'";

/// Moves an enrollment past step $2 (only if it is still there and active), due after the
/// next step's delay from $3, or finished when there is no next step; releases the lease.
const ADVANCE: &str = "UPDATE enrollments SET
        next_step = $2 + 1,
        next_due_at = (SELECT $3 + s.delay_ms FROM campaign_steps s
            WHERE s.campaign_id = enrollments.campaign_id AND s.position = $2 + 1),
        status = CASE WHEN EXISTS (SELECT 1 FROM campaign_steps s
            WHERE s.campaign_id = enrollments.campaign_id AND s.position = $2 + 1)
            THEN 'active' ELSE 'finished' END,
        claimed_by = NULL, claimed_until = NULL, updated_at = $3
    WHERE id = $1 AND next_step = $2 AND status = 'active'";

/// Enrolls the contacts of `FROM contacts c ...` that follows; binds $1 campaign, $2 now.
const ENROLL_SELECT: &str = "INSERT INTO enrollments (campaign_id, contact_id, next_step,
        next_due_at, enrolled_at, updated_at)
    SELECT k.id, c.id, 0, $2 + s.delay_ms, $2, $2
    FROM campaigns k
    JOIN campaign_steps s ON s.campaign_id = k.id AND s.position = 0
    JOIN contacts c ON c.org_id = k.org_id";

impl Store {
    /// Enrolls contacts by id; ids outside the campaign's organisation are not enrolled
    /// and count as neither. Callers check the contacts are in the caller's scope.
    pub async fn enroll(&self, campaign_id: i64, contact_ids: &[i64]) -> Result<EnrollReport> {
        let sql = format!(
            "{ENROLL_SELECT} WHERE k.id = $1 AND c.id = $3
            ON CONFLICT (campaign_id, contact_id) DO NOTHING"
        );
        const EXISTS: &str =
            "SELECT COUNT(*) FROM enrollments WHERE campaign_id = $1 AND contact_id = $2";
        let now = now_ms();
        let mut report = EnrollReport::default();
        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            for contact_id in contact_ids {
                let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(campaign_id)
                    .bind(now)
                    .bind(contact_id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 1 {
                    report.enrolled += 1;
                    continue;
                }
                let existing: i64 = sqlx::query_scalar(EXISTS)
                    .bind(campaign_id)
                    .bind(contact_id)
                    .fetch_one(&mut *tx)
                    .await?;
                report.already += existing as u64;
            }
            tx.commit().await?;
        });
        Ok(report)
    }

    /// Enrolls every contact in scope with `tag`, whatever its status: a suppressed
    /// contact's steps are skipped and counted when they fall due.
    pub async fn enroll_tag(
        &self,
        campaign_id: i64,
        scope: OwnerScope,
        tag: &str,
    ) -> Result<EnrollReport> {
        let sql = format!(
            "{ENROLL_SELECT}
            JOIN contact_tags t ON t.contact_id = c.id AND t.tag = $3
            WHERE k.id = $1 AND k.org_id = $4 AND ($5 IS NULL OR c.owner_id = $5)
            ON CONFLICT (campaign_id, contact_id) DO NOTHING"
        );
        const TAGGED: &str = "SELECT COUNT(*) FROM contacts c
            JOIN contact_tags t ON t.contact_id = c.id AND t.tag = $1
            WHERE c.org_id = $2 AND ($3 IS NULL OR c.owner_id = $3)";
        let now = now_ms();
        let (enrolled, tagged) = with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(campaign_id)
                .bind(now)
                .bind(tag)
                .bind(scope.org_id)
                .bind(scope.owner_id)
                .execute(&mut *tx)
                .await?;
            let tagged: i64 = sqlx::query_scalar(TAGGED)
                .bind(tag)
                .bind(scope.org_id)
                .bind(scope.owner_id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            (done.rows_affected(), tagged as u64)
        });
        Ok(EnrollReport {
            enrolled,
            already: tagged.saturating_sub(enrolled),
        })
    }

    /// A campaign's enrollments, by id, `limit` after the id `after`.
    pub async fn enrollments(
        &self,
        campaign_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Enrollment>> {
        const SQL: &str = "SELECT e.id, e.campaign_id, e.contact_id, c.email, e.status,
                e.stop_reason, e.next_step, e.next_due_at, e.enrolled_at
            FROM enrollments e JOIN contacts c ON c.id = e.contact_id
            WHERE e.campaign_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3";
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(SQL)
                .bind(campaign_id)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Stops one contact's enrollment in one campaign; `NotFound` if it has none active.
    pub async fn unenroll(&self, campaign_id: i64, contact_id: i64) -> Result<()> {
        const SQL: &str = "UPDATE enrollments SET status = 'stopped', stop_reason = $3,
                next_due_at = NULL, claimed_by = NULL, claimed_until = NULL, updated_at = $4
            WHERE campaign_id = $1 AND contact_id = $2 AND status = 'active'";
        let done = with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(campaign_id)
                .bind(contact_id)
                .bind("unenrolled")
                .bind(now_ms())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// Whether an enrollment is still active; checked right before a step is sent.
    pub async fn enrollment_active(&self, enrollment_id: i64) -> Result<bool> {
        const SQL: &str = "SELECT status FROM enrollments WHERE id = $1";
        let status: String = with_writer!(self, |pool| {
            sqlx::query_scalar(SQL)
                .bind(enrollment_id)
                .fetch_one(pool)
                .await?
        });
        Ok(status == "active")
    }

    /// Leases up to `limit` due enrollments to `node` until `now + lease_ms` and writes
    /// their `step_sends` rows. Returns the steps this node must send; enrollments whose
    /// row existed already (a node died mid-send) are marked interrupted and advanced.
    pub async fn claim_due(
        &self,
        node: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedStep>> {
        const DUE: &str = "SELECT id FROM enrollments
            WHERE status = 'active' AND next_due_at <= $3
                AND (claimed_until IS NULL OR claimed_until < $3)
            ORDER BY next_due_at, id LIMIT $4";
        const LEASE: &str = "UPDATE enrollments
            SET claimed_by = $1, claimed_until = $2, updated_at = $3
            WHERE id IN (";
        const RETURNING: &str = ") RETURNING id, campaign_id, contact_id, next_step";
        const RECORD: &str = "INSERT INTO step_sends (enrollment_id, step_index, campaign_id,
                contact_id, node, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $6)
            ON CONFLICT (enrollment_id, step_index) DO NOTHING";
        const INTERRUPTED: &str = "UPDATE step_sends SET outcome = 'interrupted',
                updated_at = $3
            WHERE enrollment_id = $1 AND step_index = $2 AND outcome = 'pending'";

        let lease_sql = |lock: &str| format!("{LEASE}{DUE}{lock}{RETURNING}");
        let claimed: Vec<(i64, i64, i64, i64)>;
        let mut fresh = Vec::new();
        with_writer!(self, |pool| {
            let sql = if self.is_postgres() {
                lease_sql(" FOR UPDATE SKIP LOCKED")
            } else {
                lease_sql("")
            };
            let mut tx = begin!(pool).await?;
            claimed = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(node)
                .bind(now + lease_ms)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            for &(enrollment_id, campaign_id, contact_id, step_index) in &claimed {
                let recorded = sqlx::query(RECORD)
                    .bind(enrollment_id)
                    .bind(step_index)
                    .bind(campaign_id)
                    .bind(contact_id)
                    .bind(node)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if recorded.rows_affected() == 1 {
                    fresh.push(ClaimedStep {
                        enrollment_id,
                        campaign_id,
                        contact_id,
                        step_index,
                    });
                    continue;
                }
                tracing::warn!(
                    enrollment.id = enrollment_id,
                    step = step_index,
                    "step was cut off mid-send by a stopped node; not sending it again"
                );
                sqlx::query(INTERRUPTED)
                    .bind(enrollment_id)
                    .bind(step_index)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(ADVANCE)
                    .bind(enrollment_id)
                    .bind(step_index)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(fresh)
    }

    /// Puts a claimed step back, for a step that never reached the send path: its ledger
    /// row goes and the lease ends, so the next run claims it again.
    pub async fn release_step(&self, step: &ClaimedStep) -> Result<()> {
        const FORGET: &str = "DELETE FROM step_sends
            WHERE enrollment_id = $1 AND step_index = $2 AND outcome = 'pending'";
        const RELEASE: &str = "UPDATE enrollments SET claimed_by = NULL, claimed_until = NULL
            WHERE id = $1 AND next_step = $2";
        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            for sql in [FORGET, RELEASE] {
                sqlx::query(sql)
                    .bind(step.enrollment_id)
                    .bind(step.step_index)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records what became of a claimed step and moves its enrollment on: to the next
    /// step, or stopped when the contact is suppressed. One transaction, so a step is
    /// never recorded without its enrollment moving past it.
    pub async fn finish_step(
        &self,
        step: &ClaimedStep,
        outcome: StepOutcome,
        send_id: Option<i64>,
        error: Option<&str>,
    ) -> Result<()> {
        const RECORD: &str = "UPDATE step_sends SET outcome = $3, send_id = $4, error = $5,
                updated_at = $6
            WHERE enrollment_id = $1 AND step_index = $2";
        let now = now_ms();
        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            sqlx::query(RECORD)
                .bind(step.enrollment_id)
                .bind(step.step_index)
                .bind(outcome.as_str())
                .bind(send_id)
                .bind(error)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            match outcome {
                StepOutcome::Suppressed => {
                    sqlx::query(STOP_ONE)
                        .bind(step.enrollment_id)
                        .bind("suppressed")
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                StepOutcome::Cancelled => {}
                StepOutcome::Sent | StepOutcome::Failed => {
                    sqlx::query(ADVANCE)
                        .bind(step.enrollment_id)
                        .bind(step.step_index)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
