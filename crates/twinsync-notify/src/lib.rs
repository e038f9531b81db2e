//! # twinsync-notify
//!
//! Takes the events of a project's outbox to the people who follow it: each configured
//! webhook gets the events of the types it opted in to, POSTed as the Standard Webhooks
//! spec says (`{"type", "timestamp", "data"}` signed with HMAC-SHA256 under a `whsec_`
//! secret), or as a Slack incoming-webhook body with the same headers.
//!
//! The [`Worker`] reads the outbox from where it left off, records a delivery per
//! (endpoint, event) in the store, sends what is due in event order, and retries
//! failures on the Standard Webhooks schedule. The message id is derived from the
//! event, so a resend after a crash carries the same `webhook-id` and a receiver that
//! dedupes on it processes each event once. Types an endpoint takes in the daily digest
//! wait for the digest time and go out together as one `digest` event.
#![warn(missing_docs)]

mod body;
mod digest;
mod signing;
mod worker;

pub use body::{body, Format};
pub use digest::{digest_event, DigestSchedule, TOP_ITEMS};
pub use signing::{new_secret, sign, SigningError, SigningKey};
pub use worker::{message_id, Endpoint, RunReport, Worker};
