//! A private CUPS server for tests and the demo: `cupsd` in the foreground on a free loopback
//! port, its own spool/state/log folders in a temporary directory, and one cups-pdf queue, so
//! printing goes through the real scheduler, filters and backend and ends as a PDF file.
//!
//! The queue's device is a small backend wrapper (`kioskfault:/QUEUE`) that hands the job to
//! cups-pdf, or — when told to by [`PrivateCups::set_fault`] — reports a printer fault the way a
//! real backend does (`STATE: +media-empty-error` on stderr, exit status 4 "stop the queue").
//! CUPS then holds the job, stops the queue and publishes the reason over IPP.
//!
//! Needs Debian's `cups`, `cups-filters`, `printer-driver-cups-pdf` (package `cups-pdf`) and
//! `ghostscript`, and root: cups-pdf runs only as root, and its per-queue configuration lives
//! in `/etc/cups/cups-pdf-QUEUE.conf` (written here, removed on drop).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CUPSD: &str = "/usr/sbin/cupsd";
const LPADMIN: &str = "/usr/sbin/lpadmin";
const SYSTEM_SERVER_BIN: &str = "/usr/lib/cups";
const CUPS_PDF_BACKEND: &str = "/usr/lib/cups/backend/cups-pdf";
const CUPS_PDF_PPD: &str = "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd";
const CUPS_PDF_CONF_DIR: &str = "/etc/cups";

/// A fault the queue's backend reports instead of printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueFault {
    /// `media-empty-error`: out of paper.
    PaperOut,
    /// `media-jam-error`.
    Jam,
    /// `door-open-error`.
    CoverOpen,
}

impl QueueFault {
    fn keyword(self) -> &'static str {
        match self {
            QueueFault::PaperOut => "media-empty-error",
            QueueFault::Jam => "media-jam-error",
            QueueFault::CoverOpen => "door-open-error",
        }
    }
}

/// A running private CUPS server with one PDF queue. Stops and cleans up on drop.
#[derive(Debug)]
pub struct PrivateCups {
    dir: PathBuf,
    port: u16,
    queue: String,
    cupsd: Child,
    cups_pdf_conf: PathBuf,
}

impl PrivateCups {
    /// Starts `cupsd` and creates the queue. The error says what is missing.
    pub fn start() -> Result<PrivateCups, String> {
        for needed in [
            CUPSD,
            LPADMIN,
            CUPS_PDF_BACKEND,
            CUPS_PDF_PPD,
            "/usr/bin/gs",
        ] {
            if !Path::new(needed).exists() {
                return Err(format!(
                    "{needed} is missing: install cups, cups-filters, cups-pdf and ghostscript \
                     (scripts/setup-system.sh does)"
                ));
            }
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc_geteuid() } != 0 {
            return Err(
                "a private CUPS with a cups-pdf queue needs root (cups-pdf runs as root)".into(),
            );
        }
        let queue = format!("kiosk{}x{}", std::process::id(), unique());
        let dir = std::env::temp_dir().join(format!("kiosk-cups-{queue}"));
        let port = free_port()?;
        let io = |e: std::io::Error| format!("private CUPS in {}: {e}", dir.display());
        for sub in ["spool", "cache", "state", "log", "out", "bin/backend"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(io)?;
        }
        set_mode(&dir, 0o755).map_err(io)?;
        for sub in [
            "spool",
            "cache",
            "state",
            "log",
            "out",
            "bin",
            "bin/backend",
        ] {
            set_mode(&dir.join(sub), 0o755).map_err(io)?;
        }
        // cups-pdf writes as the job's user, or as `nobody` for users this machine lacks.
        set_mode(&dir.join("out"), 0o1777).map_err(io)?;
        link_server_bin(&dir.join("bin")).map_err(io)?;
        write_backend(&dir).map_err(io)?;
        std::fs::write(dir.join("cupsd.conf"), cupsd_conf(port)).map_err(io)?;
        std::fs::write(dir.join("cups-files.conf"), cups_files_conf(&dir)).map_err(io)?;
        let cups_pdf_conf = Path::new(CUPS_PDF_CONF_DIR).join(format!("cups-pdf-{queue}.conf"));
        std::fs::write(
            &cups_pdf_conf,
            format!(
                "Out {out}\nAnonDirName {out}\nLabel 0\nLog {log}\n",
                out = dir.join("out").display(),
                log = dir.join("log").display()
            ),
        )
        .map_err(|e| format!("{}: {e}", cups_pdf_conf.display()))?;

        let mut command = Command::new(CUPSD);
        // cupsd must not inherit the caller's descriptors: a simulator's pty master held open
        // by cupsd would hide that the device was unplugged.
        // SAFETY: the closure only calls close(2), which is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                for fd in 3..4096 {
                    libc_close(fd);
                }
                Ok(())
            });
        }
        let cupsd = command
            .arg("-f")
            .arg("-c")
            .arg(dir.join("cupsd.conf"))
            .arg("-s")
            .arg(dir.join("cups-files.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start cupsd: {e}"))?;
        let mut cups = PrivateCups {
            dir,
            port,
            queue,
            cupsd,
            cups_pdf_conf,
        };
        cups.wait_until_listening()?;
        cups.add_queue()?;
        Ok(cups)
    }

    /// The queue's IPP address.
    pub fn uri(&self) -> String {
        format!("ipp://127.0.0.1:{}/printers/{}", self.port, self.queue)
    }

    /// The queue's name.
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// Where cups-pdf writes printed jobs.
    pub fn output_dir(&self) -> PathBuf {
        self.dir.join("out")
    }

    /// Makes the backend report `fault` for the next jobs (`None`: print normally again).
    pub fn set_fault(&self, fault: Option<QueueFault>) -> Result<(), String> {
        let file = self.dir.join("fault");
        match fault {
            Some(f) => std::fs::write(&file, f.keyword()),
            None => match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
        .map_err(|e| format!("{}: {e}", file.display()))
    }

    /// Waits for the PDF of job `job_id` to arrive in [`output_dir`](Self::output_dir).
    pub fn wait_for_output(&self, job_id: u32, limit: Duration) -> Result<PathBuf, String> {
        let suffix = format!("-job_{job_id}.pdf");
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(entries) = std::fs::read_dir(self.output_dir()) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    if name.ends_with(&suffix) || name == format!("job_{job_id}.pdf") {
                        return Ok(path);
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "job {job_id} did not arrive in {} within {limit:?}",
                    self.output_dir().display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.cupsd.try_wait() {
                return Err(format!(
                    "cupsd exited ({status}); see {}",
                    self.dir.join("log/error_log").display()
                ));
            }
            if Instant::now() >= deadline {
                return Err("cupsd did not start listening within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn add_queue(&self) -> Result<(), String> {
        let out = Command::new(LPADMIN)
            .args(["-h", &format!("127.0.0.1:{}", self.port)])
            .args(["-p", &self.queue])
            .args(["-v", &format!("kioskfault:/{}", self.queue)])
            .args(["-P", CUPS_PDF_PPD])
            .args(["-o", "printer-error-policy=stop-printer"])
            .arg("-E")
            .output()
            .map_err(|e| format!("cannot run lpadmin: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "lpadmin could not create the queue: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(())
    }
}

impl Drop for PrivateCups {
    fn drop(&mut self) {
        let _ = self.cupsd.kill();
        let _ = self.cupsd.wait();
        let _ = std::fs::remove_file(&self.cups_pdf_conf);
        // KIOSK_KEEP_PRIVATE_CUPS=1 keeps the folder (logs, spool, output) for a post-mortem.
        if std::env::var_os("KIOSK_KEEP_PRIVATE_CUPS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
    #[link_name = "close"]
    fn libc_close(fd: i32) -> i32;
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// The system's filters and backends, by symbolic link, beside our own backend.
fn link_server_bin(bin: &Path) -> std::io::Result<()> {
    for sub in [
        "cgi-bin", "daemon", "driver", "filter", "monitor", "notifier",
    ] {
        let target = Path::new(SYSTEM_SERVER_BIN).join(sub);
        if target.exists() {
            std::os::unix::fs::symlink(&target, bin.join(sub))?;
        }
    }
    for entry in std::fs::read_dir(Path::new(SYSTEM_SERVER_BIN).join("backend"))?.flatten() {
        std::os::unix::fs::symlink(entry.path(), bin.join("backend").join(entry.file_name()))?;
    }
    Ok(())
}

fn write_backend(dir: &Path) -> std::io::Result<()> {
    let fault = dir.join("fault");
    let script = format!(
        r#"#!/bin/bash
# Device discovery (no arguments): nothing to list.
if [ $# -eq 0 ]; then exit 0; fi
if [ -f "{fault}" ]; then
  reason=$(cat "{fault}")
  echo "STATE: +$reason" >&2
  echo "ERROR: printer reports $reason" >&2
  exit 4
fi
echo "STATE: -media-empty-error,media-jam-error,door-open-error" >&2
queue="${{DEVICE_URI#kioskfault:/}}"
export DEVICE_URI="cups-pdf:/$queue"
exec -a "cups-pdf:/$queue" {cups_pdf} "$@"
"#,
        fault = fault.display(),
        cups_pdf = CUPS_PDF_BACKEND,
    );
    let path = dir.join("bin/backend/kioskfault");
    std::fs::write(&path, script)?;
    // 0700 and owned by root: CUPS runs such a backend as root, as cups-pdf needs.
    set_mode(&path, 0o700)
}

fn cupsd_conf(port: u16) -> String {
    format!(
        "Listen 127.0.0.1:{port}\nLogLevel warn\nWebInterface No\nBrowsing No\n\
         DefaultAuthType None\nPreserveJobFiles No\nPreserveJobHistory Yes\nMaxJobs 500\n\
         <Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
         <Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
    )
}

fn cups_files_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "ServerRoot {d}\nRequestRoot {d}/spool\nCacheDir {d}/cache\nStateDir {d}/state\n\
         TempDir {d}/spool\nAccessLog {d}/log/access_log\nErrorLog {d}/log/error_log\n\
         PageLog {d}/log/page_log\nServerBin {d}/bin\nDataDir /usr/share/cups\nUser lp\n\
         Group lp\nSystemGroup root\n"
    )
}
