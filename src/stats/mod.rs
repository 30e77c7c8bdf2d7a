//! Stats: date ranges and the figures people read, computed from stored counters.
//! What each figure means is written down in docs/metrics.md.

mod figures;
mod range;

pub use figures::Figures;
pub use range::{Range, RangeError};
