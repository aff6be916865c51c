//! Integration tests of the Apple simulator, in one binary to keep linking cheap.

mod apns;
mod commands;
mod enrollment;
mod fleet;
mod support;
