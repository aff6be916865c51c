//! The client against an in-process fake of APNs.

mod concurrency;
mod config;
mod delivery;
mod logs;
mod retries;
mod support;
mod tls;
mod token;
