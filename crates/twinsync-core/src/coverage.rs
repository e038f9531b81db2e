//! Coverage of component variants by stories and tests.
//!
//! PLACEHOLDER: lands with the coverage work.
