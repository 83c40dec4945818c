//! No PostgreSQL run passes unrun in CI: with `CI` set and no `TEST_DATABASE_URL`, a
//! backend test's PostgreSQL half, the ledger-model property test and the crash test fail,
//! saying why; without `CI` they say they skipped and pass, as on a developer's machine.
//! Each is run in a child process of this same test binary, with the environment changed.

use std::process::Command;

/// Runs one test of this binary by its exact name; answers (passed, everything it printed).
fn run_alone(test: &str, ci: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--nocapture", "--test-threads", "1"]).env_remove("TEST_DATABASE_URL");
    cmd.env("RUST_BACKTRACE", "0");
    match ci {
        Some(value) => cmd.env("CI", value),
        None => cmd.env_remove("CI"),
    };
    let out = cmd.output().expect("running the test binary");
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("running 1 test"), "{test} is not a test of this binary: {printed}");
    (out.status.success(), printed)
}

const POSTGRES_RUNS: [&str; 3] = [
    "roles::reversal_needs_the_role_that_records_the_kind::postgres",
    "invariants::model_agrees_postgres",
    "crash::sigkill_during_writes_postgres",
];

#[test]
fn in_ci_a_postgres_run_without_a_database_fails() {
    for test in POSTGRES_RUNS {
        let (passed, printed) = run_alone(test, Some("true"));
        assert!(!passed, "{test} passed in CI without PostgreSQL: {printed}");
        assert!(printed.contains("TEST_DATABASE_URL is not set, and CI is"), "{test} must say why: {printed}");
    }
}

#[test]
fn outside_ci_a_postgres_run_without_a_database_says_it_skipped() {
    for (test, ci) in POSTGRES_RUNS.into_iter().zip([None, Some("false"), Some("")]) {
        let (passed, printed) = run_alone(test, ci);
        assert!(passed, "{test} with CI={ci:?}: {printed}");
        assert!(printed.contains("skipping the PostgreSQL run"), "{test} must say it skipped: {printed}");
    }
}

/// In CI the journal cross-check fails without bean-check rather than skipping it: the test
/// runs with a PATH that holds hledger (which it checks first) and nothing else.
#[test]
fn in_ci_the_journal_check_fails_without_bean_check() {
    let Ok(hledger) = which("hledger") else {
        assert!(!crate::support::in_ci(), "hledger is needed in CI");
        eprintln!("hledger is not installed: the bean-check half cannot be reached; not checked");
        return;
    };
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let dir = std::env::temp_dir().join(format!("gl_path_{}_{}", std::process::id(), hex::encode(bytes)));
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(&hledger, dir.join("hledger")).unwrap();
    let test = "interchange::journal_balances_equal_ours_in_hledger_and_beancount::sqlite";
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env("PATH", &dir)
        .env("CI", "true")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("running 1 test"), "{printed}");
    assert!(!out.status.success(), "the journal test passed in CI without bean-check: {printed}");
    assert!(printed.contains("bean-check is needed in CI"), "{printed}");
}

/// Where a program is on PATH.
fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file()).ok_or(())
}
