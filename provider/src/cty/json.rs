//! (codec placeholder)
