//! `mailtally demo`: the main job on real emails, end to end.

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub async fn run(_args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("the demo is being written")
}
