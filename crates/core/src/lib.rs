//! Pure domain rules of xinyong (信用): subject codes, the working-day calendar, the
//! catalog of information items, record validation and event encoding. No I/O, no
//! async: everything here is a function of its arguments and the bundled data files.

pub mod calendar;
pub mod case;
pub mod catalog;
pub mod codes;
pub mod commitment;
pub mod derivation;
pub mod documents;
pub mod event;
pub mod evidence;
pub mod exchange;
pub mod grading;
pub mod inspection;
pub mod listing;
pub mod lists;
pub mod publication;
pub mod record;
pub mod reference;
pub mod report;
pub mod roles;

pub use catalog::{Catalog, Item};
pub use codes::{ResidentId, SubjectCode, SubjectKind, Uscc};
