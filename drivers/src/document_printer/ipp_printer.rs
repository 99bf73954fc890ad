//! The A4 printer driver: IPP/1.1 to a CUPS queue (`ipp://host:port/printers/NAME`).
//!
//! A job is submitted as PDF with Print-Job and followed with Get-Job-Attributes until it is
//! `completed`, or until the queue stops it (`processing-stopped` — paper out, jam, cover) or
//! aborts it. The printer's own state comes from Get-Printer-Attributes and is mapped by
//! [`status_from`]. After staff replace the paper, [`IppDocumentPrinter::resume`] restarts the
//! queue and CUPS prints the held job again.

use std::io::Cursor;
use std::time::{Duration, Instant};

use ipp::prelude::*;

use super::state_reasons::{PrinterState, status_from};
use crate::status::{DeviceClass, DeviceState, DeviceStatus};
use crate::traits::{Device, DeviceError, DocumentJob, DocumentJobState, DocumentPrinterDevice};

/// What the printer says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterReport {
    /// `printer-state`.
    pub state: PrinterState,
    /// `printer-state-reasons`.
    pub reasons: Vec<String>,
    /// `printer-state-message`.
    pub message: String,
    /// `printer-make-and-model`.
    pub make_and_model: String,
    /// `queued-job-count`.
    pub queued_jobs: u32,
}

impl PrinterReport {
    /// The device status this report means.
    pub fn status(&self) -> DeviceStatus {
        status_from(self.state, &self.reasons, &self.message)
    }
}

/// What a job is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// The job.
    pub id: u32,
    /// Where it is.
    pub state: DocumentJobState,
    /// `job-state-reasons`.
    pub reasons: Vec<String>,
    /// `job-impressions-completed` when the printer reports it.
    pub pages_done: Option<u32>,
}

/// An IPP print queue.
pub struct IppDocumentPrinter {
    uri: Uri,
    user: String,
    timeout: Duration,
}

impl std::fmt::Debug for IppDocumentPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IppDocumentPrinter")
            .field("uri", &self.uri.to_string())
            .finish()
    }
}

impl IppDocumentPrinter {
    /// A driver for the queue at `uri` (`ipp://`, or `http://` to the same IPP endpoint).
    pub fn new(uri: &str) -> Result<IppDocumentPrinter, DeviceError> {
        let parsed: Uri = uri
            .parse()
            .map_err(|e| DeviceError::Unsupported(format!("printer address {uri:?}: {e}")))?;
        match parsed.scheme_str() {
            Some("ipp" | "http") => {}
            other => {
                return Err(DeviceError::Unsupported(format!(
                    "printer address {uri:?}: scheme {other:?} (use ipp://host:port/printers/NAME)"
                )));
            }
        }
        if parsed.host().is_none() {
            return Err(DeviceError::Unsupported(format!(
                "printer address {uri:?} has no host"
            )));
        }
        Ok(IppDocumentPrinter {
            uri: parsed,
            user: "kiosk".to_string(),
            timeout: Duration::from_secs(10),
        })
    }

    /// The queue's address.
    pub fn uri(&self) -> String {
        self.uri.to_string()
    }

    fn client(&self) -> IppClient {
        IppClient::builder(self.uri.clone())
            .request_timeout(self.timeout)
            .build()
    }

    fn send(&self, request: IppRequestResponse) -> Result<IppRequestResponse, DeviceError> {
        let response = self.client().send(request).map_err(|e| match e {
            IppError::HttpError(_) | IppError::IoError(_) | IppError::ClientError(_) => {
                DeviceError::Disconnected(format!("print server {}: {e}", self.uri))
            }
            other => DeviceError::Hardware(format!("print server {}: {other}", self.uri)),
        })?;
        let status = response.header().status_code();
        if !status.is_success() {
            return Err(match status {
                StatusCode::ClientErrorNotFound => {
                    DeviceError::Disconnected(format!("no print queue at {}", self.uri))
                }
                StatusCode::ServerErrorNotAcceptingJobs => {
                    DeviceError::User("the print queue is not accepting jobs".into())
                }
                StatusCode::ClientErrorDocumentFormatNotSupported => {
                    DeviceError::Unsupported("the printer does not take PDF".into())
                }
                other => DeviceError::Hardware(format!("print server refused: {other:?}")),
            });
        }
        Ok(response)
    }

    /// Reads the printer's state (Get-Printer-Attributes).
    pub fn report(&self) -> Result<PrinterReport, DeviceError> {
        let op = IppOperationBuilder::get_printer_attributes(self.uri.clone())
            .attributes([
                "printer-state",
                "printer-state-reasons",
                "printer-state-message",
                "printer-make-and-model",
                "queued-job-count",
            ])
            .build()
            .map_err(|e| DeviceError::Hardware(e.to_string()))?;
        let response = self.send(op.into())?;
        let attrs = response.attributes();
        let group = attrs
            .groups_of(DelimiterTag::PrinterAttributes)
            .next()
            .ok_or_else(|| DeviceError::Hardware("printer sent no attributes".into()))?;
        let get = |name: &str| group.get(name).map(|a| a.value().clone());
        let state = get("printer-state")
            .and_then(|v| v.as_enum().copied())
            .and_then(PrinterState::from_ipp)
            .ok_or_else(|| DeviceError::Hardware("printer sent no printer-state".into()))?;
        Ok(PrinterReport {
            state,
            reasons: get("printer-state-reasons")
                .map(keywords)
                .unwrap_or_default(),
            message: get("printer-state-message")
                .map(|v| v.to_string())
                .unwrap_or_default(),
            make_and_model: get("printer-make-and-model")
                .map(|v| v.to_string())
                .unwrap_or_default(),
            queued_jobs: get("queued-job-count")
                .and_then(|v| v.as_integer().copied())
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
        })
    }

    /// Submits a PDF (Print-Job); returns the job id.
    pub fn submit(&self, job: &DocumentJob) -> Result<u32, DeviceError> {
        if !job.pdf.starts_with(b"%PDF-") {
            return Err(DeviceError::Unsupported(
                "the document is not a PDF".to_string(),
            ));
        }
        let copies = IppAttribute::with_name(
            "copies",
            IppValue::new_integer(i32::from(job.copies.max(1))),
        )
        .map_err(|e| DeviceError::Hardware(e.to_string()))?;
        let op = IppOperationBuilder::print_job(
            self.uri.clone(),
            IppPayload::new(Cursor::new(job.pdf.clone())),
        )
        .user_name(self.user.clone())
        .job_title(job.title.clone())
        .document_format("application/pdf")
        .attribute(copies)
        .build()
        .map_err(|e| DeviceError::Hardware(e.to_string()))?;
        let response = self.send(op.into())?;
        job_id(&response).ok_or_else(|| DeviceError::Hardware("print server sent no job id".into()))
    }

    /// Reads a job's state (Get-Job-Attributes).
    pub fn job(&self, id: u32) -> Result<JobReport, DeviceError> {
        let job = i32::try_from(id).map_err(|_| DeviceError::Unsupported("job id".into()))?;
        let op = IppOperationBuilder::get_job_attributes(self.uri.clone(), job)
            .build()
            .map_err(|e| DeviceError::Hardware(e.to_string()))?;
        let response = self.send(op.into())?;
        let group = response
            .attributes()
            .groups_of(DelimiterTag::JobAttributes)
            .next()
            .ok_or_else(|| DeviceError::Hardware("print server sent no job attributes".into()))?;
        let state = group
            .get("job-state")
            .and_then(|a| a.value().as_enum().copied())
            .ok_or_else(|| DeviceError::Hardware("print server sent no job-state".into()))?;
        Ok(JobReport {
            id,
            state: match state {
                3 | 4 => DocumentJobState::Pending,
                5 => DocumentJobState::Printing,
                6 => DocumentJobState::Stopped,
                9 => DocumentJobState::Completed,
                _ => DocumentJobState::Failed,
            },
            reasons: group
                .get("job-state-reasons")
                .map(|a| keywords(a.value().clone()))
                .unwrap_or_default(),
            pages_done: group
                .get("job-impressions-completed")
                .and_then(|a| a.value().as_integer().copied())
                .and_then(|n| u32::try_from(n).ok()),
        })
    }

    /// Follows a job until it completes, fails, or the printer stops it; at most `limit`.
    /// A job still pending because the queue stopped (paper out) is reported `Stopped`.
    pub fn wait(&self, id: u32, limit: Duration) -> Result<JobReport, DeviceError> {
        let deadline = Instant::now() + limit;
        loop {
            let job = self.job(id)?;
            match job.state {
                DocumentJobState::Completed
                | DocumentJobState::Failed
                | DocumentJobState::Stopped => return Ok(job),
                DocumentJobState::Pending | DocumentJobState::Printing => {
                    if let Ok(printer) = self.report()
                        && printer.state == PrinterState::Stopped
                    {
                        return Ok(JobReport {
                            state: DocumentJobState::Stopped,
                            ..job
                        });
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(DeviceError::Timeout);
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Restarts a stopped queue (Resume-Printer), e.g. after the paper was replaced; CUPS then
    /// prints the jobs it held.
    pub fn resume(&self) -> Result<(), DeviceError> {
        let request = IppRequestResponse::new(
            IppVersion::v1_1(),
            Operation::ResumePrinter,
            Some(self.uri.clone()),
        )
        .map_err(|e| DeviceError::Hardware(e.to_string()))?;
        self.send(request).map(|_| ())
    }

    /// Cancels a job (Cancel-Job), e.g. one the citizen no longer waits for.
    pub fn cancel(&self, id: u32) -> Result<(), DeviceError> {
        let job = i32::try_from(id).map_err(|_| DeviceError::Unsupported("job id".into()))?;
        let op = IppOperationBuilder::cancel_job(self.uri.clone(), job)
            .user_name(self.user.clone())
            .build()
            .map_err(|e| DeviceError::Hardware(e.to_string()))?;
        self.send(op.into()).map(|_| ())
    }
}

fn keywords(value: IppValue) -> Vec<String> {
    match value {
        IppValue::Array(values) => values.iter().map(|v| v.to_string()).collect(),
        other => vec![other.to_string()],
    }
}

fn job_id(response: &IppRequestResponse) -> Option<u32> {
    response
        .attributes()
        .groups_of(DelimiterTag::JobAttributes)
        .find_map(|g| g.get("job-id"))
        .and_then(|a| a.value().as_integer().copied())
        .and_then(|n| u32::try_from(n).ok())
}

impl Device for IppDocumentPrinter {
    type Error = DeviceError;

    fn class(&self) -> DeviceClass {
        DeviceClass::DocumentPrinter
    }

    fn status(&mut self) -> DeviceStatus {
        match self.report() {
            Ok(report) => report.status(),
            Err(e) => {
                let state = match e {
                    DeviceError::Disconnected(_) | DeviceError::Timeout => DeviceState::NoDevice,
                    _ => DeviceState::Offline,
                };
                DeviceStatus::new(DeviceClass::DocumentPrinter, state).with_error(e.to_string())
            }
        }
    }

    fn self_test(&mut self) -> Result<DeviceStatus, DeviceError> {
        self.report().map(|r| r.status())
    }

    fn reset(&mut self) -> Result<(), DeviceError> {
        self.resume()
    }
}

impl DocumentPrinterDevice for IppDocumentPrinter {
    fn print_document(&mut self, job: &DocumentJob) -> Result<u32, DeviceError> {
        self.submit(job)
    }

    fn job_state(&mut self, job_id: u32) -> Result<DocumentJobState, DeviceError> {
        self.job(job_id).map(|j| j.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert!(IppDocumentPrinter::new("ipp://127.0.0.1:631/printers/a4").is_ok());
        assert!(IppDocumentPrinter::new("http://127.0.0.1:631/printers/a4").is_ok());
        assert!(matches!(
            IppDocumentPrinter::new("lpd://x/q"),
            Err(DeviceError::Unsupported(_))
        ));
        assert!(IppDocumentPrinter::new("not a uri").is_err());
    }

    #[test]
    fn an_unreachable_server_is_no_device() {
        // A port nothing listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let mut p =
            IppDocumentPrinter::new(&format!("ipp://127.0.0.1:{port}/printers/a4")).expect("uri");
        let status = p.status();
        assert_eq!(status.state, DeviceState::NoDevice);
        assert!(status.last_error.is_some());
        let job = DocumentJob {
            title: "t".into(),
            pdf: b"%PDF-1.7".to_vec(),
            copies: 1,
        };
        assert!(matches!(p.submit(&job), Err(DeviceError::Disconnected(_))));
        let not_pdf = DocumentJob {
            pdf: b"hello".to_vec(),
            ..job
        };
        assert!(matches!(
            p.submit(&not_pdf),
            Err(DeviceError::Unsupported(_))
        ));
    }
}
