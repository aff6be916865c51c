//! Client tests against a wiremock fake of Apple's service (plain HTTP; the base URL is
//! configuration). One test binary keeps link time down on small CI machines.

mod batching;
mod endpoints;
mod pagination;
mod retries;
mod support;
