//! How the driver reaches the printer: a serial port (RS-232, USB-serial, USB-CDC) or a raw
//! TCP socket, usually port 9100 ("JetDirect"), where ESC/POS bytes and DLE EOT replies flow
//! exactly as on the serial line.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::serial_link::{LinkError, SerialLink};

/// The usual raw-printing port of network printers.
pub const DEFAULT_TCP_PORT: u16 = 9100;
/// Prefix that marks a printer address as TCP in [`super::ReceiptPrinter::open_any`].
pub const TCP_PREFIX: &str = "tcp://";

/// Which kind of link a printer is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// A serial device path.
    Serial,
    /// A TCP address.
    Tcp,
}

/// `host`, `host:port`, or either with `tcp://` in front → `host:port` (port 9100 when none).
pub fn tcp_address(spec: &str) -> String {
    let bare = spec.strip_prefix(TCP_PREFIX).unwrap_or(spec);
    let has_port = match bare.rsplit_once(':') {
        // "[::1]:9100" or "host:9100"; a bare IPv6 address has more colons and no brackets.
        Some((host, port)) => {
            port.parse::<u16>().is_ok() && (!host.contains(':') || host.ends_with(']'))
        }
        None => false,
    };
    if has_port {
        bare.to_owned()
    } else if bare.contains(':') && !bare.starts_with('[') {
        format!("[{bare}]:{DEFAULT_TCP_PORT}")
    } else {
        format!("{bare}:{DEFAULT_TCP_PORT}")
    }
}

/// A TCP connection with deadline-based reads, errors sorted like the serial link's.
pub(crate) struct TcpLink {
    stream: Option<TcpStream>,
    address: String,
    connect_timeout: Duration,
}

impl TcpLink {
    pub(crate) fn open(spec: &str, connect_timeout: Duration) -> Result<Self, LinkError> {
        let address = tcp_address(spec);
        let stream = connect(&address, connect_timeout)?;
        Ok(TcpLink {
            stream: Some(stream),
            address,
            connect_timeout,
        })
    }

    fn stream(&mut self) -> Result<&mut TcpStream, LinkError> {
        self.stream
            .as_mut()
            .ok_or_else(|| LinkError::Disconnected("connection is closed".to_owned()))
    }

    pub(crate) fn close(&mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    pub(crate) fn drain_input(&mut self) -> Result<(), LinkError> {
        let stream = self.stream()?;
        stream
            .set_nonblocking(true)
            .map_err(|e| LinkError::Disconnected(e.to_string()))?;
        let mut scratch = [0u8; 512];
        let result = loop {
            match stream.read(&mut scratch) {
                Ok(0) => break Err(LinkError::Disconnected("connection closed".to_owned())),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break Err(LinkError::Disconnected(e.to_string())),
            }
        };
        let _ = stream.set_nonblocking(false);
        result
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), LinkError> {
        let deadline = Instant::now() + timeout;
        let stream = self.stream()?;
        let mut rest = bytes;
        while !rest.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LinkError::Timeout);
            }
            let _ = stream.set_write_timeout(Some(left));
            match stream.write(rest) {
                Ok(0) => return Err(LinkError::Disconnected("write returned 0".to_owned())),
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(classify(&e)),
            }
        }
        stream.flush().map_err(|e| classify(&e))
    }

    pub(crate) fn read_some(
        &mut self,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, LinkError> {
        let stream = self.stream()?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LinkError::Timeout);
            }
            let _ = stream.set_read_timeout(Some(left));
            match stream.read(buf) {
                Ok(0) => return Err(LinkError::Disconnected("connection closed".to_owned())),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return Err(classify(&e)),
            }
        }
    }
}

fn connect(address: &str, timeout: Duration) -> Result<TcpStream, LinkError> {
    let open_error = |reason: String| LinkError::Open {
        path: format!("{TCP_PREFIX}{address}"),
        reason,
    };
    let candidates = address
        .to_socket_addrs()
        .map_err(|e| open_error(e.to_string()))?;
    let mut last = "no address".to_owned();
    for candidate in candidates {
        match TcpStream::connect_timeout(&candidate, timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(open_error(last))
}

fn classify(error: &std::io::Error) -> LinkError {
    match error.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => LinkError::Timeout,
        _ => LinkError::Disconnected(error.to_string()),
    }
}

/// The printer's link, whichever kind.
pub(crate) enum Link {
    Serial(SerialLink),
    Tcp(TcpLink),
}

impl Link {
    /// `tcp://…` opens a TCP connection, anything else a serial port.
    pub(crate) fn open(spec: &str, baud: u32, timeout: Duration) -> Result<Self, LinkError> {
        if spec.starts_with(TCP_PREFIX) {
            Ok(Link::Tcp(TcpLink::open(spec, timeout)?))
        } else {
            Ok(Link::Serial(SerialLink::open(spec, baud)?))
        }
    }

    pub(crate) fn kind(&self) -> TransportKind {
        match self {
            Link::Serial(_) => TransportKind::Serial,
            Link::Tcp(_) => TransportKind::Tcp,
        }
    }

    /// The device path, or `tcp://host:port`.
    pub(crate) fn path(&self) -> String {
        match self {
            Link::Serial(link) => link.path().to_owned(),
            Link::Tcp(link) => format!("{TCP_PREFIX}{}", link.address),
        }
    }

    /// Close and open `spec` (of either kind) instead.
    pub(crate) fn reopen(&mut self, spec: &str, baud: u32) -> Result<(), LinkError> {
        match self {
            Link::Serial(link) if !spec.starts_with(TCP_PREFIX) => link.reopen(spec),
            Link::Tcp(link) if spec.starts_with(TCP_PREFIX) => {
                link.close();
                let address = tcp_address(spec);
                link.stream = Some(connect(&address, link.connect_timeout)?);
                link.address = address;
                Ok(())
            }
            _ => {
                self.close();
                let timeout = match self {
                    Link::Tcp(link) => link.connect_timeout,
                    Link::Serial(_) => Duration::from_secs(2),
                };
                *self = Link::open(spec, baud, timeout)?;
                Ok(())
            }
        }
    }

    pub(crate) fn close(&mut self) {
        match self {
            Link::Serial(link) => link.close(),
            Link::Tcp(link) => link.close(),
        }
    }

    pub(crate) fn drain_input(&mut self) -> Result<(), LinkError> {
        match self {
            Link::Serial(link) => link.drain_input(),
            Link::Tcp(link) => link.drain_input(),
        }
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), LinkError> {
        match self {
            Link::Serial(link) => link.write_all(bytes, timeout),
            Link::Tcp(link) => link.write_all(bytes, timeout),
        }
    }

    pub(crate) fn read_some(
        &mut self,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, LinkError> {
        match self {
            Link::Serial(link) => link.read_some(buf, deadline),
            Link::Tcp(link) => link.read_some(buf, deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_addresses_get_port_9100_by_default() {
        assert_eq!(tcp_address("tcp://192.0.2.7"), "192.0.2.7:9100");
        assert_eq!(tcp_address("192.0.2.7:9101"), "192.0.2.7:9101");
        assert_eq!(tcp_address("tcp://printer.local"), "printer.local:9100");
        assert_eq!(tcp_address("tcp://[::1]:9100"), "[::1]:9100");
        assert_eq!(tcp_address("::1"), "[::1]:9100");
    }
}
