//! One integration test binary: every test runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod support;

mod controls;
mod crash;
mod flow;
mod interchange;
mod invariants;
mod pages;
mod race;
mod reports;
mod roles;
mod tamper;
