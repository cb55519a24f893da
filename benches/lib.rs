//! criterion benches live in lowering.rs
