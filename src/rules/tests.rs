//! Tests of the whole rules engine.
