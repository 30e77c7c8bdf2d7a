//! mailtally: logs every outbound email of a CRM as a send, instruments it for opens and
//! clicks, and reports engagement numbers people can trust. See ARCHITECTURE.md.

pub mod cli;
pub mod config;
pub mod crm;
pub mod http;
pub mod mailgun;
pub mod privacy;
pub mod sending;
pub mod server;
pub mod stats;
pub mod store;
pub mod track;
pub mod transport;
pub mod web;
