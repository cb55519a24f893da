//! Integration tests of the REST dialect (one binary, one module per area).

mod common;
mod filters;
mod fuzz;
mod logic;
mod paging;
mod responses;
mod routing;
mod select;
mod writes;
