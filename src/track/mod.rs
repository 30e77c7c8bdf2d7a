//! The tracking side: unforgeable tokens, and the recorder that commits hits in groups.

pub mod recorder;
pub mod token;

pub use recorder::{AddressPolicy, Recorder};
pub use token::{TokenKey, Tracked};
