//! `strata exec` when strata stays the parent (`--redact`, `--files`,
//! `--watch`, leased credentials): it runs the child, forwards INT, TERM,
//! HUP and QUIT to it, filters its output, restarts or signals it when a
//! value changes, and cleans up (files, leases) when it is done, then exits
//! with the child's status (128 + N when a signal N ended it).

use crate::redact::Masks;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_secrets::{Error, ErrorKind};
use tokio::sync::oneshot;

/// How long a held-back tail may wait for the rest of a secret before it is
/// written out as it is.
pub(crate) const QUIET_FLUSH: Duration = Duration::from_secs(1);

/// How long a child told to stop for a restart gets before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The signals strata passes on to the child.
pub(crate) const FORWARDED: [i32; 4] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
];

/// The child being run, for the signal thread.
type Slot = Arc<Mutex<Option<rustix::process::Pid>>>;

/// Sends `signal` to the child in `slot`, if it still runs.
fn send(slot: &Slot, signal: i32) {
    let Ok(guard) = slot.lock() else { return };
    let (Some(pid), Some(sig)) = (*guard, rustix::process::Signal::from_named_raw(signal)) else {
        return;
    };
    if let Err(e) = rustix::process::kill_process(pid, sig) {
        tracing::debug!(target: "strata", "cannot signal the command: {e}");
    }
}

/// Passes the forwarded signals on to the child: a signal another process
/// sent to strata (`kill`, `docker stop`, a CI runner) goes to the child;
/// one the kernel sent (a terminal's Ctrl-C, Ctrl-\, hang-up) already went
/// to the child, which shares strata's process group, and is not sent
/// twice.
fn forward_signals(slot: Slot) -> Result<signal_hook::iterator::Handle, Error> {
    use signal_hook::iterator::SignalsInfo;
    use signal_hook::iterator::exfiltrator::WithOrigin;
    use signal_hook::low_level::siginfo::Cause;
    let mut signals = SignalsInfo::<WithOrigin>::new(FORWARDED).map_err(|e| {
        Error::new(
            ErrorKind::Other,
            format!("cannot take the signals to forward: {e}"),
        )
    })?;
    let handle = signals.handle();
    std::thread::Builder::new()
        .name("strata-signals".to_owned())
        .spawn(move || {
            for origin in signals.forever() {
                if matches!(origin.cause, Cause::Kernel) {
                    continue;
                }
                send(&slot, origin.signal);
            }
        })
        .map_err(|e| Error::new(ErrorKind::Other, format!("cannot start a thread: {e}")))?;
    Ok(handle)
}

/// Where a pump writes.
#[derive(Clone, Copy)]
enum Sink {
    Stdout,
    Stderr,
}

impl Sink {
    fn write(self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Sink::Stderr => {
                let mut out = std::io::stderr().lock();
                out.write_all(bytes)?;
                out.flush()
            }
        }
    }
}

/// Whether `from` has something to read within `wait`.
fn readable(from: &impl std::os::fd::AsFd, wait: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let timeout = Timespec {
        tv_sec: i64::try_from(wait.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(wait.subsec_nanos()),
    };
    let mut fds = [PollFd::new(from, PollFlags::IN)];
    loop {
        match poll(&mut fds, Some(&timeout)) {
            Ok(n) => return n > 0,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return true,
        }
    }
}

/// Copies `from` to `to` through the filter until the child closes it (or
/// strata's own output is closed: then the pipe is dropped, and the child
/// gets a broken pipe as it would writing there itself). A new set of
/// masks is taken up at the next write.
fn pump(mut from: impl Read + std::os::fd::AsFd, to: Sink, masks: Arc<Masks>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(buf.len() + 64);
    // what the last filter held, and the chunk the new one takes first
    let mut carried: Vec<u8> = Vec::new();
    'generations: loop {
        let Some((generation, redactor)) = masks.current() else {
            // nothing can be masked for sure: write nothing more
            return;
        };
        let mut filter = redactor.stream();
        filter.push(&carried, &mut out);
        zeroize::Zeroize::zeroize(&mut carried);
        loop {
            if !out.is_empty() {
                if to.write(&out).is_err() {
                    return;
                }
                out.clear();
            }
            if filter.held() > 0 && !readable(&from, QUIET_FLUSH) {
                filter.flush(&mut out);
                continue;
            }
            match from.read(&mut buf) {
                Ok(0) => break 'generations filter.flush(&mut out),
                Ok(n) if masks.generation() != Some(generation) => {
                    carried = filter.take_held();
                    carried.extend_from_slice(&buf[..n]);
                    continue 'generations;
                }
                Ok(n) => filter.push(&buf[..n], &mut out),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break 'generations filter.flush(&mut out),
            }
        }
    }
    let _ = to.write(&out);
}

/// A running child.
struct Running {
    exited: oneshot::Receiver<std::io::Result<ExitStatus>>,
    pumps: Vec<std::thread::JoinHandle<()>>,
}

/// What to run.
pub(crate) struct Run {
    pub(crate) program: String,
    pub(crate) args: Vec<String>,
    pub(crate) redactor: Option<Arc<Masks>>,
}

fn spawn(run: &Run, env: &[(OsString, OsString)], slot: &Slot) -> Result<Running, SpawnError> {
    let mut cmd = Command::new(&run.program);
    cmd.args(&run.args).env_clear().envs(env.iter().cloned());
    if run.redactor.is_some() {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    // the slot is held while the child starts, so a signal that comes now
    // waits for its pid
    let mut guard = slot
        .lock()
        .map_err(|_| SpawnError::Other("a lock".to_owned()))?;
    let mut child: Child = cmd.spawn().map_err(SpawnError::Io)?;
    let pid = rustix::process::Pid::from_child(&child);
    *guard = Some(pid);
    drop(guard);
    let mut pumps = Vec::new();
    if let Some(redactor) = &run.redactor {
        if let Some(stdout) = child.stdout.take() {
            let r = Arc::clone(redactor);
            pumps.push(std::thread::spawn(move || pump(stdout, Sink::Stdout, r)));
        }
        if let Some(stderr) = child.stderr.take() {
            let r = Arc::clone(redactor);
            pumps.push(std::thread::spawn(move || pump(stderr, Sink::Stderr, r)));
        }
    }
    let (tx, exited) = oneshot::channel();
    let slot = Arc::clone(slot);
    std::thread::spawn(move || {
        // wait without reaping, forget the pid, then reap: a signal never
        // goes to a pid the system gave to another process
        use rustix::process::{WaitId, WaitIdOptions, waitid};
        while let Err(rustix::io::Errno::INTR) = waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {}
        if let Ok(mut guard) = slot.lock() {
            *guard = None;
        }
        let _ = tx.send(child.wait());
    });
    Ok(Running { exited, pumps })
}

enum SpawnError {
    Io(std::io::Error),
    Other(String),
}

/// The exit code for a child's status: its code, or 128 + the signal that
/// ended it, as a shell says.
fn code_of(status: ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(2);
    ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(2))
}

/// What makes the child's environment again when a watched value changes.
#[async_trait::async_trait]
pub(crate) trait Rebuild: Send {
    /// Waits for the next change of a value the child was given; `None`
    /// when nothing is watched.
    async fn changed(&mut self) -> Option<()>;
    /// The child's environment now (files rewritten).
    async fn environment(&mut self) -> Result<Vec<(OsString, OsString)>, Error>;
    /// The signal to send instead of restarting, if any.
    fn on_change_signal(&self) -> Option<i32>;
}

/// Runs the child until it exits on its own (or by a signal), restarting
/// or signalling it when `rebuild` says a value changed; returns its exit
/// code.
pub(crate) async fn supervise(
    run: Run,
    mut env: Vec<(OsString, OsString)>,
    rebuild: &mut dyn Rebuild,
) -> Result<ExitCode, Error> {
    let slot: Slot = Arc::new(Mutex::new(None));
    let signals = forward_signals(Arc::clone(&slot))?;
    let result = loop {
        let mut running = match spawn(&run, &env, &slot) {
            Ok(r) => r,
            Err(SpawnError::Io(e)) => {
                let code = if e.kind() == std::io::ErrorKind::NotFound {
                    127
                } else {
                    126
                };
                super::output::error_line(&format!("error: cannot run `{}`: {e}", run.program));
                break Ok(ExitCode::from(code));
            }
            Err(SpawnError::Other(what)) => {
                break Err(Error::new(
                    ErrorKind::Other,
                    format!("cannot run the command: {what}"),
                ));
            }
        };
        let restart = loop {
            tokio::select! {
                status = &mut running.exited => {
                    finish_pumps(std::mem::take(&mut running.pumps));
                    break match status {
                        Ok(Ok(status)) => Err(Ok(code_of(status))),
                        Ok(Err(e)) => Err(Err(Error::new(ErrorKind::Other, format!("cannot wait for the command: {e}")))),
                        Err(_) => Err(Ok(ExitCode::from(2))),
                    };
                }
                Some(()) = rebuild.changed() => {
                    match rebuild.environment().await {
                        Ok(new_env) if new_env == env => {
                            // files rewritten in place, the variables the same
                            if let Some(sig) = rebuild.on_change_signal() {
                                send(&slot, sig);
                            }
                        }
                        Ok(new_env) => {
                            env = new_env;
                            match rebuild.on_change_signal() {
                                Some(sig) => {
                                    tracing::warn!(target: "strata", "a changed value is a variable: the command gets its signal, and the new value when it starts again");
                                    send(&slot, sig);
                                }
                                None => break Ok(()),
                            }
                        }
                        Err(e) => {
                            super::output::error_line(&format!("warning: a value changed but cannot be read again ({e}); the command keeps the old values"));
                        }
                    }
                }
            }
        };
        match restart {
            Err(done) => break done,
            Ok(()) => stop_for_restart(&slot, &mut running).await,
        }
    };
    signals.close();
    result
}

/// Stops the child for a restart: TERM, then KILL after [`STOP_GRACE`].
async fn stop_for_restart(slot: &Slot, running: &mut Running) {
    super::output::error_line("strata: a value changed, restarting the command");
    send(slot, signal_hook::consts::SIGTERM);
    let status = match tokio::time::timeout(STOP_GRACE, &mut running.exited).await {
        Ok(status) => status,
        Err(_) => {
            send(slot, signal_hook::consts::SIGKILL);
            (&mut running.exited).await
        }
    };
    finish_pumps(std::mem::take(&mut running.pumps));
    if let Ok(Ok(status)) = status {
        tracing::debug!(target: "strata", "the command stopped for a restart: {status}");
    }
}

/// Waits a moment for the output pumps to drain what the child left (a
/// grandchild may keep the pipes open: it is not waited for).
fn finish_pumps(pumps: Vec<std::thread::JoinHandle<()>>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    for p in pumps {
        while !p.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if p.is_finished() {
            let _ = p.join();
        }
    }
}
