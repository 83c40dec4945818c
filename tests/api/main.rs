//! One integration test binary: every test runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod support;

mod flow;
mod interchange;
