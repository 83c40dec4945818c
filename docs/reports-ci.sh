# Installs for the reports work (issue 3), to merge into .ci/run.
# chromium: tests/browser.rs renders the dashboard in headless Chromium (it FAILS when CI is set and chromium is missing).
# hledger: only for `cargo bench --bench reports` (the hledger comparison); not needed by `cargo test`.
apt-get update
apt-get install -y chromium hledger
