//! Integration tests of core-testing: real tools on the fixture projects, in temporary copies.

mod python;
mod rust;
mod safety;
mod support;
