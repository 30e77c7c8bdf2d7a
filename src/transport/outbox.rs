//! The outbox transport: one `.eml` file per send, for development, demos and tests.

use std::path::PathBuf;

use super::{
    DeliverFuture, Delivered, ForgetFuture, Outgoing, Transport, TransportError, build_message,
};

/// Writes each message to `DIR/{send_id}.eml`.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Outbox {
        Outbox { dir }
    }
}

impl Transport for Outbox {
    fn deliver<'a>(&'a self, message: &'a Outgoing) -> DeliverFuture<'a> {
        Box::pin(async move {
            let bytes = build_message(message)?;
            let failed = |e: std::io::Error| TransportError::Failed(format!("outbox: {e}"));
            tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
            // Written under a temporary name first, so a reader never sees half a message.
            let path = self.dir.join(format!("{}.eml", message.send_id));
            let partial = self.dir.join(format!(".{}.eml.partial", message.send_id));
            tokio::fs::write(&partial, &bytes).await.map_err(failed)?;
            tokio::fs::rename(&partial, &path).await.map_err(failed)?;
            // A file has no provider id; the send id names it already.
            Ok(Delivered::default())
        })
    }

    fn forget<'a>(&'a self, send_ids: &'a [i64]) -> ForgetFuture<'a> {
        Box::pin(async move {
            let mut deleted = 0;
            for send_id in send_ids {
                let path = self.dir.join(format!("{send_id}.eml"));
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => deleted += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(deleted)
        })
    }
}
