//! A serial port opened by path, with deadline-based reads and I/O errors sorted into
//! "timed out" and "device gone". Shared by the drivers.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use serialport::{ClearBuffer, SerialPort, TTYPort};

/// Why a serial operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkError {
    /// Nothing (more) arrived before the deadline.
    Timeout,
    /// The port is gone or no longer works (EIO, hang-up, closed).
    Disconnected(String),
    /// The port could not be opened.
    Open { path: String, reason: String },
}

/// An open serial port.
pub(crate) struct SerialLink {
    port: Option<TTYPort>,
    path: String,
    baud: u32,
}

impl SerialLink {
    /// Open `path` at `baud`, 8N1, no flow control, exclusive.
    pub(crate) fn open(path: &str, baud: u32) -> Result<Self, LinkError> {
        let port = open_port(path, baud)?;
        Ok(SerialLink {
            port: Some(port),
            path: path.to_owned(),
            baud,
        })
    }

    /// Whether the port is open.
    pub(crate) fn is_open(&self) -> bool {
        self.port.is_some()
    }

    /// The baud rate in use.
    pub(crate) fn baud(&self) -> u32 {
        self.baud
    }

    /// Change the baud rate of the open port (and of later reopens).
    pub(crate) fn set_baud(&mut self, baud: u32) -> Result<(), LinkError> {
        self.baud = baud;
        let port = self.port()?;
        port.set_baud_rate(baud)
            .map_err(|e| LinkError::Disconnected(e.to_string()))
    }

    /// The path the port was opened from.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Close the port and open `path` (the same or another) again.
    pub(crate) fn reopen(&mut self, path: &str) -> Result<(), LinkError> {
        self.close();
        self.path = path.to_owned();
        self.port = Some(open_port(path, self.baud)?);
        Ok(())
    }

    /// Close the port; later operations report `Disconnected` until [`Self::reopen`].
    pub(crate) fn close(&mut self) {
        if let Some(mut port) = self.port.take() {
            // Let the next opener in; the port is dropped (closed) right after.
            let _ = port.set_exclusive(false);
        }
    }

    fn port(&mut self) -> Result<&mut TTYPort, LinkError> {
        self.port
            .as_mut()
            .ok_or_else(|| LinkError::Disconnected("port is closed".to_owned()))
    }

    /// Throw away whatever the device sent that nobody asked for (late or partial replies).
    pub(crate) fn drain_input(&mut self) -> Result<(), LinkError> {
        let port = self.port()?;
        let _ = port.clear(ClearBuffer::Input);
        let mut scratch = [0u8; 512];
        for _ in 0..64 {
            match port.bytes_to_read() {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(LinkError::Disconnected(e.to_string())),
            }
            let _ = port.set_timeout(Duration::from_millis(5));
            match port.read(&mut scratch) {
                Ok(0) => return Err(LinkError::Disconnected("end of file".to_owned())),
                Ok(_) => {}
                Err(e) => return Err(classify(&e)),
            }
        }
        Ok(())
    }

    /// Write all of `bytes` within `timeout`.
    pub(crate) fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), LinkError> {
        let deadline = Instant::now() + timeout;
        let port = self.port()?;
        let mut rest = bytes;
        while !rest.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LinkError::Timeout);
            }
            let _ = port.set_timeout(left);
            match port.write(rest) {
                Ok(0) => return Err(LinkError::Disconnected("write returned 0".to_owned())),
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(classify(&e)),
            }
        }
        port.flush().map_err(|e| classify(&e))
    }

    /// Read at least one byte into `buf`, waiting until `deadline` at most.
    pub(crate) fn read_some(
        &mut self,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, LinkError> {
        let port = self.port()?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LinkError::Timeout);
            }
            let _ = port.set_timeout(left);
            match port.read(buf) {
                Ok(0) => return Err(LinkError::Disconnected("end of file".to_owned())),
                Ok(n) => return Ok(n),
                Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock) => {}
                Err(e) => return Err(classify(&e)),
            }
        }
    }
}

impl Drop for SerialLink {
    fn drop(&mut self) {
        self.close();
    }
}

fn open_port(path: &str, baud: u32) -> Result<TTYPort, LinkError> {
    serialport::new(path, baud)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::None)
        .stop_bits(serialport::StopBits::One)
        .flow_control(serialport::FlowControl::None)
        .timeout(Duration::from_millis(100))
        .open_native()
        .map_err(|e| LinkError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })
}

/// Sort an I/O error from an open port: a timeout, or the device is gone. Any other failure
/// of `read`/`write` on a serial port (EIO, ENXIO, hang-up) means the link no longer works.
fn classify(error: &std::io::Error) -> LinkError {
    match error.kind() {
        ErrorKind::TimedOut => LinkError::Timeout,
        _ => LinkError::Disconnected(error.to_string()),
    }
}
