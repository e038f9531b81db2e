//! `Secret`: a string that never prints, serialises or logs its value.
//!
//! PLACEHOLDER: lands with the secret work.
