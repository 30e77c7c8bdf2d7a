//! `mailtally campaign list|show|launch`: campaigns from the command line. Launching
//! enrolls every contact with the campaign's tag; the scheduler of `mailtally serve` then
//! sends each step as it falls due.

use anyhow::Context;

use super::contact::Actor;
use crate::config::Config;
use crate::store::{Campaign, OwnerScope, Store, User};

#[derive(Debug, clap::Subcommand)]
pub enum CampaignCommand {
    /// List the campaigns the user manages.
    List {
        #[command(flatten)]
        actor: Actor,
        #[command(flatten)]
        config: Config,
    },
    /// Show a campaign's steps and how far its contacts got.
    Show {
        id: i64,
        #[command(flatten)]
        actor: Actor,
        #[command(flatten)]
        config: Config,
    },
    /// Enroll every contact with the campaign's tag (a broadcast goes out at once).
    Launch {
        id: i64,
        #[command(flatten)]
        actor: Actor,
        #[command(flatten)]
        config: Config,
    },
}

pub async fn run(command: CampaignCommand) -> anyhow::Result<()> {
    let (actor, config) = match &command {
        CampaignCommand::List { actor, config }
        | CampaignCommand::Show { actor, config, .. }
        | CampaignCommand::Launch { actor, config, .. } => (actor, config),
    };
    let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
    let done = act(&store, actor, &command).await;
    store.close().await;
    done
}

async fn act(store: &Store, actor: &Actor, command: &CampaignCommand) -> anyhow::Result<()> {
    let user = actor.resolve(store).await?;
    match command {
        CampaignCommand::List { .. } => {
            for campaign in store.campaigns(OwnerScope::of(&user)).await? {
                let tag = campaign.tag.as_deref().unwrap_or("-");
                let kind = campaign.kind.as_str();
                println!(
                    "{:>6}  {kind:<9}  tag {tag:<16}  {}",
                    campaign.id, campaign.name
                );
            }
        }
        CampaignCommand::Show { id, .. } => {
            let campaign = campaign_of(store, &user, *id).await?;
            let counts = store.campaign_counts(&campaign).await?;
            let tag = campaign.tag.as_deref().unwrap_or("none");
            println!("{} ({}), tag {tag}", campaign.name, campaign.kind.as_str());
            println!(
                "enrolled {}: active {}, finished {}, stopped {}",
                counts.enrolled, counts.active, counts.finished, counts.stopped
            );
            for (step, count) in campaign.steps.iter().zip(&counts.steps) {
                println!(
                    "step {}: template {} after {} ms: sent {}, failed {}, suppressed {}, \
                     interrupted {}, pending {}",
                    step.position + 1,
                    step.template_id,
                    step.delay_ms,
                    count.sent,
                    count.failed,
                    count.suppressed,
                    count.interrupted,
                    count.pending
                );
            }
        }
        CampaignCommand::Launch { id, .. } => {
            let campaign = campaign_of(store, &user, *id).await?;
            let tag = campaign
                .tag
                .as_deref()
                .context("the campaign has no tag to launch to")?;
            let report = store
                .enroll_tag(campaign.id, OwnerScope::of(&user), tag)
                .await?;
            println!(
                "launched {}: {} contacts enrolled, {} already were; `mailtally serve` sends \
                 the steps as they fall due",
                campaign.name, report.enrolled, report.already
            );
        }
    }
    Ok(())
}

async fn campaign_of(store: &Store, user: &User, id: i64) -> anyhow::Result<Campaign> {
    let campaign = store
        .campaign(id)
        .await
        .with_context(|| format!("no campaign {id}"))?;
    anyhow::ensure!(
        OwnerScope::of(user).covers(campaign.org_id, campaign.owner_id),
        "no campaign {id} among those {} manages",
        user.email
    );
    Ok(campaign)
}
