//! The pseudo-terminal plumbing both simulators share: a `TTYPort::pair()`, a thread that owns
//! the master side and hands every chunk it receives to a protocol handler, and a way to close
//! the master ("unplug") so the slave side sees the device disappear.

use std::io::{self, ErrorKind, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

/// How often the simulator thread looks at its stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// The master side of a pty run by a protocol handler on its own thread.
pub(crate) struct PtyHost {
    slave_path: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PtyHost {
    /// Create a pty pair and start `handler` on the master side. The handler is called with
    /// each received chunk and the master port to answer on.
    pub(crate) fn spawn<H>(thread_name: &str, handler: H) -> io::Result<Self>
    where
        H: FnMut(&[u8], &mut TTYPort) + Send + 'static,
    {
        Self::spawn_inner(thread_name, handler, false)
    }

    /// Like [`Self::spawn`], but the handler is also called with an empty chunk every poll
    /// interval when nothing arrived, so a device can send unasked (continuous scanning).
    pub(crate) fn spawn_with_idle<H>(thread_name: &str, handler: H) -> io::Result<Self>
    where
        H: FnMut(&[u8], &mut TTYPort) + Send + 'static,
    {
        Self::spawn_inner(thread_name, handler, true)
    }

    fn spawn_inner<H>(thread_name: &str, mut handler: H, idle_calls: bool) -> io::Result<Self>
    where
        H: FnMut(&[u8], &mut TTYPort) + Send + 'static,
    {
        let (mut master, slave) = TTYPort::pair().map_err(io::Error::from)?;
        let slave_path = slave
            .name()
            .ok_or_else(|| io::Error::other("pty slave has no name"))?;
        master.set_timeout(POLL_INTERVAL).map_err(io::Error::from)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_seen = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(thread_name.to_owned())
            .spawn(move || {
                // Keeping the pair's own slave handle open means the master never reads EIO
                // while the driver closes and reopens the port.
                let _slave_kept_open = slave;
                let mut buf = [0u8; 4096];
                while !stop_seen.load(Ordering::SeqCst) {
                    match master.read(&mut buf) {
                        Ok(0) => std::thread::sleep(POLL_INTERVAL),
                        Ok(n) => handler(&buf[..n], &mut master),
                        Err(e) if e.kind() == ErrorKind::TimedOut => {
                            if idle_calls {
                                handler(&[], &mut master);
                            }
                        }
                        Err(_) => std::thread::sleep(POLL_INTERVAL),
                    }
                }
                // Dropping the master (and the kept slave) here is the "unplug".
            })?;
        Ok(PtyHost {
            slave_path,
            stop,
            thread: Some(thread),
        })
    }

    /// Path of the slave device for the driver to open.
    pub(crate) fn path(&self) -> &str {
        &self.slave_path
    }

    /// Whether the master side is still open.
    pub(crate) fn is_plugged(&self) -> bool {
        self.thread.is_some()
    }

    /// Stop the thread and close the master; returns once it is closed.
    pub(crate) fn close(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PtyHost {
    fn drop(&mut self) {
        self.close();
    }
}
