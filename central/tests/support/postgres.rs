//! A throwaway PostgreSQL server for the tests: one per test binary, started on first use, with a
//! fresh database per test.
//!
//! The server binaries come from the Debian `postgresql` package (`/usr/lib/postgresql/*/bin`,
//! the newest version; `KIOSK_TEST_PG_BIN` overrides the folder). A watchdog shell runs `initdb`
//! in a temporary folder and `pg_ctl start` on a free loopback port (its unix socket in the same
//! folder), then waits on a pipe from this process: when the test binary exits, however it
//! exits, the pipe closes and the watchdog stops the server and removes the folder. PostgreSQL
//! refuses to run as root, so as root the server runs as the `postgres` system user (created by
//! the Debian package) through `runuser`. The test server trusts loopback connections and runs
//! with `fsync=off`: it holds nothing worth keeping.
//!
//! Missing binaries make every PostgreSQL test fail with a message saying what to install.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// What to do when the server cannot be started.
const INSTALL_HINT: &str = "the PostgreSQL tests need the PostgreSQL server binaries \
     (initdb, pg_ctl, postgres): install them with \
     `apt-get install -y --no-install-recommends postgresql` \
     (or point KIOSK_TEST_PG_BIN at their folder)";

/// The running test server.
pub struct TestPostgres {
    port: u16,
    root: PathBuf,
    bin: PathBuf,
    /// Held open for the life of the test binary: closing it stops the server.
    _watchdog_stdin: Mutex<ChildStdin>,
    _watchdog: Mutex<Child>,
}

static SERVER: OnceLock<Result<TestPostgres, String>> = OnceLock::new();

/// The test binary's PostgreSQL server, started on first use. Panics with an explanation when
/// it cannot be started.
pub fn server() -> &'static TestPostgres {
    match SERVER.get_or_init(start) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

impl TestPostgres {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's data folder (owned by the server's user).
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// A program of the server's installation (`pg_dump`, `psql`, …).
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// Connection string of a database on the server.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{}/{database}?connect_timeout=10",
            self.port
        )
    }

    /// Creates an empty database for one test; returns its connection string.
    pub fn create_database(&self, hint: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let suffix: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let name = format!("t{}_{suffix}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.admin(&format!("CREATE DATABASE \"{name}\""));
        self.url(&name)
    }

    /// Runs SQL as the superuser on the `postgres` database.
    pub fn admin(&self, sql: &str) {
        self.run_sql("postgres", sql);
    }

    /// Runs SQL on a database. Works from any thread, async tests included: the blocking client
    /// runs on a thread of its own.
    pub fn run_sql(&self, database: &str, sql: &str) {
        let url = self.url(database);
        let sql = sql.to_string();
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect to the test PostgreSQL: {e}"));
            client
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
        .join()
        .expect("SQL thread");
    }

    /// Everything in a database as `pg_dump` writes it (schema and data).
    pub fn dump(&self, url: &str) -> Vec<u8> {
        let output = Command::new(self.program("pg_dump"))
            .arg("--dbname")
            .arg(url)
            .output()
            .expect("pg_dump runs");
        assert!(
            output.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that holds `initdb` and `pg_ctl`.
fn find_binaries() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("KIOSK_TEST_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
            Ok(dir)
        } else {
            Err(format!(
                "KIOSK_TEST_PG_BIN={} holds no initdb and pg_ctl; {INSTALL_HINT}",
                dir.display()
            ))
        };
    }
    let base = Path::new("/usr/lib/postgresql");
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(base)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let version: u32 = entry.file_name().to_str()?.parse().ok()?;
                    let bin = entry.path().join("bin");
                    (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
                        .then_some((version, bin))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        format!(
            "no PostgreSQL server under {}: {INSTALL_HINT}",
            base.display()
        )
    })
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// The watchdog: set up and start the server, say `ready`, wait for stdin to close, stop the
/// server and remove its folder. It ignores the terminal's signals so that Ctrl-C on the tests
/// still ends in the clean-up (the test binary dies, the pipe closes).
const WATCHDOG: &str = r#"
trap '' INT TERM HUP QUIT
cleanup() { rm -rf "$ROOT"; }
fail() {
    echo "$1"
    for log in "$ROOT/initdb.log" "$ROOT/server.log"; do [ -f "$log" ] && tail -n 20 "$log"; done
    cleanup
    exit 1
}
mkdir -p "$ROOT/sock" || fail "cannot create $ROOT"
if [ -n "$RUN_AS" ]; then
    chown -R "$RUN_AS:" "$ROOT" || fail "cannot give $ROOT to the $RUN_AS user"
    AS="runuser -u $RUN_AS --"
else
    AS=""
fi
$AS "$PG_BIN/initdb" -D "$ROOT/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
    </dev/null >"$ROOT/initdb.log" 2>&1 || fail "initdb failed"
# The server's user creates its own log file.
$AS "$PG_BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w -t 60 \
    -o "-p $PORT -k $ROOT/sock -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
    start </dev/null >>"$ROOT/initdb.log" 2>&1 || fail "pg_ctl start failed"
echo ready
cat >/dev/null
$AS "$PG_BIN/pg_ctl" -D "$ROOT/data" -m immediate -w stop </dev/null >/dev/null 2>&1
cleanup
"#;

fn start() -> Result<TestPostgres, String> {
    let bin = find_binaries()?;
    let run_as = if running_as_root() {
        let user_exists = Command::new("id")
            .arg("postgres")
            .output()
            .is_ok_and(|out| out.status.success());
        if !user_exists {
            return Err(format!(
                "running as root and there is no `postgres` user to run the server as; \
                 {INSTALL_HINT}"
            ));
        }
        "postgres"
    } else {
        ""
    };
    let mut last_error = String::new();
    // A free port may be taken by someone else before the server binds it: try a few.
    for attempt in 0..3 {
        let root =
            std::env::temp_dir().join(format!("kiosk-central-pg-{}-{attempt}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let port = free_loopback_port();
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .env("PG_BIN", &bin)
            .env("ROOT", &root)
            .env("PORT", port.to_string())
            .env("RUN_AS", run_as)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh for the test PostgreSQL: {e}"))?;
        let stdin = watchdog.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(watchdog.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        let _ = stdout.read_line(&mut first);
        if first.trim() == "ready" {
            return Ok(TestPostgres {
                port,
                root,
                bin,
                _watchdog_stdin: Mutex::new(stdin),
                _watchdog: Mutex::new(watchdog),
            });
        }
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        let _ = watchdog.wait();
        last_error = format!("{}\n{rest}", first.trim());
    }
    Err(format!(
        "the test PostgreSQL did not start ({}): {last_error}\n{INSTALL_HINT}",
        bin.display()
    ))
}
