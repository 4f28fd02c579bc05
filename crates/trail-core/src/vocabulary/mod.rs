//! Trail's one vocabulary: the names every crate shares for what events mean.
//!
//! - [`actions`]: every action Trail knows by name (the catalogue's and Trail's own `trail.*`),
//!   the prefixes and patterns of their families.
//! - [`categories`]: the categories Trail builds views on.
//! - [`catalogue`]: the human "report type" label of each catalogue action.
//! - [`views`]: the views an export or a log page is made of: their names, titles, columns
//!   and the actions each holds.
//!
//! Names live here, once, rather than as string literals where they are used, so that renaming
//! or adding an action is one edit and a typo is a compile error. Turning events into rows
//! (the cells of a view, a report's rows) is the business of the crates that do it.

pub mod actions;
pub mod catalogue;
pub mod categories;
pub mod views;
