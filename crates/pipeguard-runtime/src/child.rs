//! Starting the command with its secrets, masking what it prints, passing
//! on the signals meant for it, and cleaning up after it.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::{Context, bail};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

use crate::mask::{MaskSet, Masker};
use crate::source::Secret;
use crate::stream;

/// What to start and what to give it.
pub struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Variables set to the value itself.
    pub env: Vec<(String, Secret)>,
    /// Variables set to the path of a 0600 file holding the value.
    pub files: Vec<(String, Secret)>,
}

/// Exit status of a command that could not be started (as shells use).
pub const NOT_FOUND: i32 = 127;
pub const NOT_EXECUTABLE: i32 = 126;

/// Runs the command to completion and returns its exit code (128 + the
/// signal when a signal ended it). Errors are about starting it; the
/// messages never hold a value.
pub fn run(launch: Launch, set: Arc<MaskSet>) -> anyhow::Result<i32> {
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in &launch.env {
        if value.contains(&0) {
            bail!(
                "secret {name}: the value contains a NUL byte, which an environment variable cannot hold; hand it over as a file (file = true)"
            );
        }
        cmd.env(name, OsString::from_vec(value.to_vec()));
    }
    // Dropped (and removed) only after the command and its output are done,
    // whatever ended it.
    let dir = if launch.files.is_empty() {
        None
    } else {
        Some(secret_dir(&launch.files, &mut cmd)?)
    };

    // Registered before the child exists, so that a signal arriving in
    // between is not lost: it is queued and passed on once the child runs.
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP])
        .context("cannot install signal handlers")?;
    let handle = signals.handle();

    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            handle.close();
            let code = match e.kind() {
                io::ErrorKind::NotFound => NOT_FOUND,
                _ => NOT_EXECUTABLE,
            };
            eprintln!(
                "pipeguard: error: cannot run `{}`: {e}",
                launch.program.to_string_lossy()
            );
            return Ok(code);
        }
    };
    let pid = rustix::process::Pid::from_child(&child);
    let forwarder = std::thread::Builder::new()
        .name("pipeguard-signals".into())
        .spawn(move || {
            for origin in signals.forever() {
                // Ctrl-C at a terminal reaches the whole foreground process
                // group, the command included; sending it again would make
                // it a double interrupt.
                if origin.cause == Cause::Kernel && origin.signal == SIGINT {
                    continue;
                }
                if let Some(sig) = rustix::process::Signal::from_named_raw(origin.signal) {
                    let _ = rustix::process::kill_process(pid, sig);
                }
            }
        })?;

    let out = child.stdout.take().map(|s| {
        let set = Arc::clone(&set);
        std::thread::spawn(move || masked(s, set, "<stdout>", &mut io::stdout()))
    });
    let err = child.stderr.take().map(|s| {
        let set = Arc::clone(&set);
        std::thread::spawn(move || masked(s, set, "<stderr>", &mut io::stderr()))
    });
    let status = child.wait().context("waiting for the command")?;
    for t in [out, err].into_iter().flatten() {
        let _ = t.join();
    }
    handle.close();
    let _ = forwarder.join();
    drop(dir);
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        (None, None) => 1,
    })
}

fn masked<R: io::Read + Send + 'static>(
    input: R,
    set: Arc<MaskSet>,
    name: &str,
    out: &mut dyn Write,
) {
    let mut m = Masker::new(set, name);
    // Drain even when our own output is gone, or the command would block.
    let _ = stream::pump(input, out, &mut m, true);
}

/// Writes each file secret into a fresh private directory (0700) as a 0600
/// file and points its variable at it.
fn secret_dir(files: &[(String, Secret)], cmd: &mut Command) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("pipeguard-run-")
        .tempdir()
        .context("cannot create a private directory for file secrets")?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .context("cannot make the secrets directory private")?;
    for (name, value) in files {
        let path = dir.path().join(name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("secret {name}: cannot create its file"))?;
        f.write_all(value)
            .with_context(|| format!("secret {name}: cannot write its file"))?;
        cmd.env(name, &path);
    }
    Ok(dir)
}
