//! Campaigns: a broadcast (one step, sent to every contact with a tag) or a drip (ordered
//! steps, each a template and a delay after the step before). A campaign's steps are fixed
//! when it is made, so an enrollment's step index always means the same email.
//!
//! Campaign rows share the `campaigns` table with the bare names the sends API records, so
//! every send of a campaign is grouped under it in the stats; those have no `kind`.

use super::{Error, OwnerScope, Result, Store, begin, now_ms, with_reader, with_writer};

/// What kind of campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignKind {
    Broadcast,
    Drip,
}

impl CampaignKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignKind::Broadcast => "broadcast",
            CampaignKind::Drip => "drip",
        }
    }
}

/// One step of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Step {
    /// 0 for the first step.
    pub position: i64,
    pub template_id: i64,
    /// Wait after the step before (after enrolling, for the first step).
    pub delay_ms: i64,
    /// `false` when this step's emails go out untracked.
    pub track: bool,
}

/// A campaign with its steps.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Campaign {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub kind: CampaignKind,
    pub owner_id: Option<i64>,
    /// The user its emails are sent as.
    pub sender_id: i64,
    /// Contacts with this tag are enrolled on launch.
    pub tag: Option<String>,
    /// `false` when every email of the campaign goes out untracked.
    pub track: bool,
    pub created_at: i64,
    pub steps: Vec<Step>,
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    org_id: i64,
    name: String,
    kind: String,
    owner_id: Option<i64>,
    sender_id: i64,
    tag: Option<String>,
    track: bool,
    created_at: i64,
}

impl CampaignRow {
    fn with_steps(self, steps: Vec<Step>) -> Campaign {
        let kind = match self.kind.as_str() {
            "broadcast" => CampaignKind::Broadcast,
            _ => CampaignKind::Drip,
        };
        Campaign {
            id: self.id,
            org_id: self.org_id,
            name: self.name,
            kind,
            owner_id: self.owner_id,
            sender_id: self.sender_id,
            tag: self.tag,
            track: self.track,
            created_at: self.created_at,
            steps,
        }
    }
}

/// A campaign to create. Steps must already be validated (a broadcast has exactly one).
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub kind: CampaignKind,
    pub owner_id: i64,
    pub sender_id: i64,
    pub tag: Option<String>,
    /// `false` sends every email of the campaign untracked.
    pub track: bool,
    /// In order.
    pub steps: Vec<NewStep>,
}

/// One step of a campaign to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewStep {
    pub template_id: i64,
    pub delay_ms: i64,
    /// `false` sends this step's emails untracked.
    pub track: bool,
}

/// How far a campaign's contacts got.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CampaignCounts {
    pub enrolled: i64,
    pub active: i64,
    pub finished: i64,
    pub stopped: i64,
    pub steps: Vec<StepCounts>,
}

/// What became of one step, per contact that reached it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StepCounts {
    pub position: i64,
    pub sent: i64,
    pub failed: i64,
    /// Skipped because the contact was blocked or unsubscribed.
    pub suppressed: i64,
    /// Claimed by a node that stopped mid-send: not sent again, so maybe never sent.
    pub interrupted: i64,
    /// Unenrolled after the step was claimed, before it was sent.
    pub cancelled: i64,
    pub pending: i64,
}

const CAMPAIGN_COLUMNS: &str =
    "id, org_id, name, kind, owner_id, sender_id, tag, track = 1 AS track, created_at";

impl Store {
    /// Creates a campaign and its steps; `Conflict` when the name is taken, `NotFound`
    /// when a step's template is not one of the organisation's.
    pub async fn create_campaign(&self, org_id: i64, new: &NewCampaign) -> Result<Campaign> {
        const TEMPLATE_OK: &str = "SELECT COUNT(*) FROM templates
            WHERE id = $1 AND org_id = $2 AND subject IS NOT NULL";
        const INSERT: &str = "INSERT INTO campaigns (org_id, name, kind, owner_id, sender_id,
                tag, created_at, track)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        const STEP: &str = "INSERT INTO campaign_steps (campaign_id, position, template_id,
                delay_ms, track) VALUES ($1, $2, $3, $4, $5)";

        let created: Result<i64> = with_writer!(self, |pool| async {
            let mut tx = begin!(pool).await?;
            for step in &new.steps {
                let found: i64 = sqlx::query_scalar(TEMPLATE_OK)
                    .bind(step.template_id)
                    .bind(org_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if found == 0 {
                    return Err(Error::NotFound);
                }
            }
            let id: i64 = sqlx::query_scalar(INSERT)
                .bind(org_id)
                .bind(&new.name)
                .bind(new.kind.as_str())
                .bind(new.owner_id)
                .bind(new.sender_id)
                .bind(&new.tag)
                .bind(now_ms())
                .bind(i64::from(new.track))
                .fetch_one(&mut *tx)
                .await?;
            for (position, step) in new.steps.iter().enumerate() {
                sqlx::query(STEP)
                    .bind(id)
                    .bind(position as i64)
                    .bind(step.template_id)
                    .bind(step.delay_ms)
                    .bind(i64::from(step.track))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(id)
        }
        .await);
        match created {
            Ok(id) => self.campaign(id).await,
            Err(Error::Conflict(_)) => Err(Error::Conflict(format!(
                "the name {:?} is taken by another campaign or a send",
                new.name
            ))),
            Err(e) => Err(e),
        }
    }

    /// One campaign by id, whatever its organisation: callers check scope.
    pub async fn campaign(&self, id: i64) -> Result<Campaign> {
        let sql =
            format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1 AND kind IS NOT NULL");
        const STEPS: &str = "SELECT position, template_id, delay_ms, track = 1 AS track
            FROM campaign_steps WHERE campaign_id = $1 ORDER BY position";
        let (row, steps) = with_writer!(self, |pool| {
            let row: CampaignRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(pool)
                .await?;
            let steps: Vec<Step> = sqlx::query_as(STEPS).bind(id).fetch_all(pool).await?;
            (row, steps)
        });
        Ok(row.with_steps(steps))
    }

    /// The campaigns in scope, newest first, without their steps.
    pub async fn campaigns(&self, scope: OwnerScope) -> Result<Vec<Campaign>> {
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns
            WHERE org_id = $1 AND ($2 IS NULL OR owner_id = $2) AND kind IS NOT NULL
            ORDER BY id DESC"
        );
        let rows: Vec<CampaignRow> = with_reader!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.org_id)
                .bind(scope.owner_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|row| row.with_steps(Vec::new()))
            .collect())
    }

    /// How many contacts a campaign enrolled, where they are, and what each step did.
    pub async fn campaign_counts(&self, campaign: &Campaign) -> Result<CampaignCounts> {
        const ENROLLED: &str = "SELECT status, COUNT(*) FROM enrollments
            WHERE campaign_id = $1 GROUP BY status";
        const STEPS: &str = "SELECT step_index, outcome, COUNT(*) FROM step_sends
            WHERE campaign_id = $1 GROUP BY step_index, outcome";
        let (by_status, by_step) = with_reader!(self, |pool| {
            let by_status: Vec<(String, i64)> = sqlx::query_as(ENROLLED)
                .bind(campaign.id)
                .fetch_all(pool)
                .await?;
            let by_step: Vec<(i64, String, i64)> = sqlx::query_as(STEPS)
                .bind(campaign.id)
                .fetch_all(pool)
                .await?;
            (by_status, by_step)
        });

        let mut counts = CampaignCounts {
            steps: (0..campaign.steps.len() as i64)
                .map(|position| StepCounts {
                    position,
                    ..StepCounts::default()
                })
                .collect(),
            ..CampaignCounts::default()
        };
        for (status, n) in by_status {
            counts.enrolled += n;
            match status.as_str() {
                "active" => counts.active += n,
                "finished" => counts.finished += n,
                _ => counts.stopped += n,
            }
        }
        for (position, outcome, n) in by_step {
            let Some(step) = counts.steps.get_mut(position as usize) else {
                continue;
            };
            match outcome.as_str() {
                "sent" => step.sent += n,
                "failed" => step.failed += n,
                "suppressed" => step.suppressed += n,
                "interrupted" => step.interrupted += n,
                "cancelled" => step.cancelled += n,
                _ => step.pending += n,
            }
        }
        Ok(counts)
    }
}
