# Installs for the interchange tests (issue 4), to merge into .ci/run.
# The journal cross-check (tests/api/interchange.rs, journal_balances_equal_ours_in_hledger_and_beancount)
# runs `hledger` and `bean-check`; with CI set, a missing tool fails the test instead of skipping it.
# The import bench (`cargo bench --bench import`) also times `sqlite3 .import`.
apt-get update
apt-get install -y hledger sqlite3
pip install beancount
export CI=1
