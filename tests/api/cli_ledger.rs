//! Only `serve` and `init` create a ledger. Every other command, run where there is no
//! ledger, refuses, names the place it looked, exits non-zero and creates nothing: not a
//! SQLite file in the folder it was run from, not a table in an empty PostgreSQL database.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{Backend, TestDb};

/// Runs the real binary in `dir` with `url` as its database (the built-in default when None).
fn grant_ledger(dir: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grant-ledger"));
    cmd.args(args).current_dir(dir).env_remove("DATABASE_URL").env_remove("GRANT_LEDGER_ADMIN_TOKEN");
    cmd.env("RUST_LOG", "warn").env("RUST_BACKTRACE", "0");
    if let Some(url) = url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().expect("running grant-ledger")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A new, empty folder under the system's temporary one.
fn empty_folder(name: &str) -> std::path::PathBuf {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let dir = std::env::temp_dir().join(format!("gl_{name}_{}_{}", std::process::id(), hex::encode(bytes)));
    std::fs::create_dir(&dir).unwrap();
    dir
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Commands that read or record, each of which used to create and seed a ledger where it ran.
fn commands(spend_csv: &str) -> Vec<Vec<String>> {
    let token = "gl_0000000000000000000000000000000000000000000000000000000000000000";
    [
        vec!["report", "variance", "--financial-year", "2023-24"],
        vec!["report", "cash-position", "--financial-year", "2023-24"],
        vec!["import", "spend", spend_csv, "--dry-run"],
        vec!["agreement", "list", "--financial-year", "2023-24", "--token", token],
        vec!["token", "list"],
        vec!["verify"],
        vec!["export", "journal", "--format", "beancount"],
        vec!["audit", "--token", token],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(str::to_owned).collect())
    .collect()
}

#[test]
fn a_command_in_an_empty_folder_names_the_path_and_creates_nothing() {
    let dir = empty_folder("no_ledger");
    let elsewhere = empty_folder("spend_file");
    let csv = elsewhere.join("spend.csv");
    std::fs::write(&csv, "date,grant,project,supplier,description,invoice_ref,amount\n").unwrap();
    let expected = std::path::absolute(dir.join("grant-ledger.db")).unwrap().display().to_string();
    for args in commands(csv.to_str().unwrap()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = grant_ledger(&dir, None, &args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded without a ledger: {}", text(&out.stdout));
        assert!(stderr.contains(&format!("no ledger at {expected}")), "{args:?} must name {expected}: {stderr}");
        assert_eq!(listing(&dir), Vec::<String>::new(), "{args:?} left files behind");
    }
    // An explicit SQLite url naming a file that is not there: the same.
    let out = grant_ledger(&dir, Some("sqlite://elsewhere.db"), &["report", "variance", "--financial-year", "2023-24"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains(&format!("no ledger at {}", dir.join("elsewhere.db").display())));
    // A file that exists but holds no ledger is refused and left as it was.
    std::fs::write(dir.join("other.db"), b"").unwrap();
    let out = grant_ledger(&dir, Some("sqlite://other.db"), &["verify"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no ledger at"), "{}", text(&out.stderr));
    assert_eq!(listing(&dir), ["other.db"]);
    assert_eq!(std::fs::metadata(dir.join("other.db")).unwrap().len(), 0);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&elsewhere).ok();
}

#[test]
fn init_creates_a_ledger_in_the_folder_and_refuses_to_run_twice() {
    let dir = empty_folder("init");
    let out = grant_ledger(&dir, None, &["init"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = std::path::absolute(dir.join("grant-ledger.db")).unwrap();
    assert!(stdout.contains(&format!("Created a ledger at {}", path.display())), "{stdout}");
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Admin token (shown only this once; keep it safe): "))
        .expect("init prints the first admin token")
        .to_owned();
    assert!(path.is_file());
    // The ledger holds the fixtures, and the printed token is its admin's.
    let out = grant_ledger(&dir, None, &["report", "variance", "--financial-year", "2023-24"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Awarded 61394.00"), "{}", text(&out.stdout));
    let out = grant_ledger(&dir, None, &["audit", "--token", &token]);
    assert!(out.status.success(), "the printed token signs in as admin: {}", text(&out.stderr));
    let tokens_before = text(&grant_ledger(&dir, None, &["token", "list"]).stdout);
    assert_eq!(tokens_before.lines().filter(|l| l.contains("admin")).count(), 1, "{tokens_before}");

    let out = grant_ledger(&dir, None, &["init"]);
    assert!(!out.status.success(), "a second init must refuse");
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("{} already holds a ledger", path.display())), "{stderr}");
    assert!(!text(&out.stdout).contains("Admin token"), "no second token: {}", text(&out.stdout));
    assert_eq!(text(&grant_ledger(&dir, None, &["token", "list"]).stdout), tokens_before);
    std::fs::remove_dir_all(&dir).ok();
}

/// The number of tables in the PostgreSQL database's own schema.
async fn table_count(url: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let n = sqlx::query_scalar(
        "select count(*) from information_schema.tables where table_schema = any(current_schemas(false))",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    n
}

/// On PostgreSQL "missing" means an existing database without the ledger's tables: every
/// command but `init` and `serve` refuses it, naming the url (without its password), and
/// writes nothing; `init` then migrates it and loads the fixtures, once.
#[tokio::test]
async fn postgres_without_ledger_tables_is_refused_until_init() {
    let Some(db) = TestDb::create(Backend::Postgres).await else { return };
    let dir = empty_folder("pg_no_ledger");
    let csv = dir.join("spend.csv");
    std::fs::write(&csv, "date,grant,project,supplier,description,invoice_ref,amount\n").unwrap();
    let db_name = db.url.rsplit('/').next().unwrap().to_owned();
    for args in commands(csv.to_str().unwrap()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = grant_ledger(&dir, Some(&db.url), &args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded without a ledger");
        assert!(stderr.contains("no ledger at postgres://") && stderr.contains(&db_name), "{args:?}: {stderr}");
        assert_eq!(table_count(&db.url).await, 0, "{args:?} created tables");
    }
    assert_eq!(listing(&dir), ["spend.csv"], "nothing was written to the folder either");
    let out = grant_ledger(&dir, Some(&db.url), &["init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Admin token"));
    assert!(table_count(&db.url).await > 10);
    let out = grant_ledger(&dir, Some(&db.url), &["report", "variance", "--financial-year", "2023-24"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = grant_ledger(&dir, Some(&db.url), &["init"]);
    assert!(!out.status.success() && text(&out.stderr).contains("already holds a ledger"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).ok();
    db.drop().await;
}
