//! The three PATCH body formats the API server accepts besides server-side apply.

pub mod json_patch;
pub mod merge;
pub mod strategic;
