//! A TCP listener for the printer simulator: a network printer on port 9100 takes one
//! connection at a time and answers on the same socket.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// What the protocol handler is told.
pub(crate) enum TcpEvent<'a> {
    /// A new client connected (a fresh byte stream starts).
    Connected,
    /// Bytes arrived.
    Data(&'a [u8]),
}

/// A listening socket served by a handler on its own thread.
pub(crate) struct TcpHost {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TcpHost {
    pub(crate) fn spawn<H>(
        thread_name: &str,
        address: impl ToSocketAddrs,
        mut handler: H,
    ) -> io::Result<Self>
    where
        H: FnMut(TcpEvent<'_>, &mut dyn Write) + Send + 'static,
    {
        let listener = TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_seen = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(thread_name.to_owned())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop_seen.load(Ordering::SeqCst) {
                    let mut stream = match listener.accept() {
                        Ok((stream, _)) => stream,
                        Err(_) => {
                            std::thread::sleep(POLL_INTERVAL);
                            continue;
                        }
                    };
                    if stream.set_nonblocking(false).is_err()
                        || stream.set_read_timeout(Some(POLL_INTERVAL)).is_err()
                    {
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    handler(TcpEvent::Connected, &mut stream);
                    while !stop_seen.load(Ordering::SeqCst) {
                        match stream.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => handler(TcpEvent::Data(&buf[..n]), &mut stream),
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    ErrorKind::WouldBlock
                                        | ErrorKind::TimedOut
                                        | ErrorKind::Interrupted
                                ) => {}
                            Err(_) => break,
                        }
                    }
                    // The stream is dropped (closed) here; the listener waits for the next.
                }
            })?;
        Ok(TcpHost {
            address,
            stop,
            thread: Some(thread),
        })
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stop listening and close any connection; returns once closed.
    pub(crate) fn close(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TcpHost {
    fn drop(&mut self) {
        self.close();
    }
}
