//! Encoded queries: parsing (`parser`), script values (`values`) and evaluation against records
//! (`eval`).

pub mod eval;
pub mod parser;
pub mod sort;
pub mod values;

pub use eval::{Bound, bind, candidates, matches};
pub use parser::{Query, parse};
pub use sort::sort_records;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod parser_tests;
