//! Shared helpers for the criterion benchmarks (input loading).
