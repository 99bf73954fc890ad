//! A TCP proxy on loopback that injects the faults the sync guarantees must survive:
//!
//! * no upstream (or an upstream that refuses): client connections are closed at once;
//! * lost acknowledgement: for the next N responses, the request is forwarded, the proxy waits
//!   for the first bytes of the upstream's response (so the centre has committed) and then closes
//!   both connections without passing the response on.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Default)]
struct ProxyState {
    upstream: Mutex<Option<SocketAddr>>,
    responses_to_drop: AtomicU32,
    responses_dropped: AtomicU32,
    connections: AtomicU32,
    stop: AtomicBool,
}

pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultProxy {
    pub fn start(upstream: Option<SocketAddr>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(ProxyState::default());
        *state.upstream.lock().unwrap() = upstream;
        let acceptor = {
            let state = Arc::clone(&state);
            std::thread::spawn(move || accept_loop(listener, state))
        };
        Self {
            addr,
            state,
            acceptor: Some(acceptor),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_upstream(&self, upstream: Option<SocketAddr>) {
        *self.state.upstream.lock().unwrap() = upstream;
    }

    /// Swallows the next `n` responses, closing their connections.
    pub fn drop_next_responses(&self, n: u32) {
        self.state.responses_to_drop.store(n, Ordering::SeqCst);
    }

    pub fn responses_dropped(&self) -> u32 {
        self.state.responses_dropped.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> u32 {
        self.state.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<ProxyState>) {
    while !state.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                state.connections.fetch_add(1, Ordering::SeqCst);
                let state = Arc::clone(&state);
                std::thread::spawn(move || relay(client, state));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return,
        }
    }
}

fn relay(client: TcpStream, state: Arc<ProxyState>) {
    let _ = client.set_nonblocking(false);
    let upstream_addr = *state.upstream.lock().unwrap();
    let Some(upstream) = upstream_addr.and_then(|addr| TcpStream::connect(addr).ok()) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    // Set when request bytes went up since the last response started: the next upstream bytes
    // begin a new response.
    let request_pending = Arc::new(AtomicBool::new(false));
    let (Ok(client_reader), Ok(upstream_writer)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let upward = {
        let request_pending = Arc::clone(&request_pending);
        std::thread::spawn(move || copy_up(client_reader, upstream_writer, &request_pending))
    };
    copy_down(upstream, client, &request_pending, &state);
    let _ = upward.join();
}

fn copy_up(mut from: TcpStream, mut to: TcpStream, request_pending: &AtomicBool) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                request_pending.store(true, Ordering::SeqCst);
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn copy_down(
    mut from: TcpStream,
    mut to: TcpStream,
    request_pending: &AtomicBool,
    state: &ProxyState,
) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let starts_response = request_pending.swap(false, Ordering::SeqCst);
                let drop_it = starts_response
                    && state
                        .responses_to_drop
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                            left.checked_sub(1)
                        })
                        .is_ok();
                if drop_it {
                    state.responses_dropped.fetch_add(1, Ordering::SeqCst);
                    let _ = to.shutdown(Shutdown::Both);
                    let _ = from.shutdown(Shutdown::Both);
                    return;
                }
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
