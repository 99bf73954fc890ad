//! The thread and command channel every device worker has: spawn a named thread running the
//! worker's loop on a command receiver, send it commands, stop it and wait for it.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

pub(crate) struct WorkerHandle<C> {
    commands: Sender<C>,
    thread: Option<JoinHandle<()>>,
}

impl<C: Send + 'static> WorkerHandle<C> {
    /// Starts `run` on a thread called `name`, fed by the returned handle's commands.
    pub(crate) fn spawn(name: &str, run: impl FnOnce(Receiver<C>) + Send + 'static) -> Self {
        let (tx, rx) = channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(rx))
            .ok();
        if thread.is_none() {
            tracing::error!(worker = name, "device worker thread not started");
        }
        WorkerHandle {
            commands: tx,
            thread,
        }
    }

    /// Queues a command (dropped silently when the worker has ended).
    pub(crate) fn send(&self, command: C) {
        let _ = self.commands.send(command);
    }

    /// Sends `stop` and waits for the thread to end.
    pub(crate) fn shutdown(mut self, stop: C) {
        let _ = self.commands.send(stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
