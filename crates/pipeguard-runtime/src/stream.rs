//! Moving bytes from a reader through a [`Masker`] to a writer, with the
//! idle flush that keeps a paused, unfinished line (a prompt, a progress
//! bar) from waiting forever.

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use crate::mask::Masker;

/// How long the input may pause mid-line before the safe part of the line
/// is written anyway.
pub const IDLE: Duration = Duration::from_millis(200);

/// Bytes per read. A quarter MiB keeps the channel traffic negligible at
/// hundreds of MB/s while a batch stays small enough for the cache.
const READ: usize = 256 * 1024;

/// What happened to the output while pumping.
#[derive(Debug, Default)]
pub struct Pumped {
    pub bytes_in: u64,
    /// The first write error; after it the rest of the input was drained
    /// (when asked to) or the pump stopped.
    pub write_error: Option<io::Error>,
}

/// Reads `input` to its end, masking into `out`. A second thread reads so
/// that a pause can be noticed while a line is unfinished. With `drain`,
/// a failing writer (a closed pipe) does not stop the reading: a child
/// process must never block on a full pipe because nobody reads it.
pub fn pump<R, W>(input: R, out: &mut W, masker: &mut Masker, drain: bool) -> io::Result<Pumped>
where
    R: Read + Send + 'static,
    W: Write + ?Sized,
{
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
    // Buffers go back to the reader: fresh quarter-MiB allocations would be
    // zeroed and faulted in by the kernel on every read.
    let (back, spare) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::Builder::new()
        .name("pipeguard-read".into())
        .spawn(move || read_loop(input, &tx, &spare))?;
    let mut done = Pumped::default();
    let mut failed = false;
    let result = loop {
        let msg = if masker.pending() > 0 && !failed {
            match rx.recv_timeout(IDLE) {
                Ok(m) => Some(m),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let r = masker.flush_idle(out).and_then(|()| out.flush());
                    note(&mut done, &mut failed, r);
                    if failed && !drain {
                        break Ok(());
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            }
        } else {
            rx.recv().ok()
        };
        match msg {
            Some(Ok(chunk)) => {
                done.bytes_in += chunk.len() as u64;
                if !failed {
                    let r = masker.feed(&chunk, out);
                    note(&mut done, &mut failed, r);
                }
                let _ = back.send(chunk);
                if failed && !drain {
                    break Ok(());
                }
            }
            Some(Err(e)) => break Err(e),
            None => {
                if !failed {
                    let r = masker.finish(out).and_then(|()| out.flush());
                    note(&mut done, &mut failed, r);
                }
                break Ok(());
            }
        }
    };
    drop(rx);
    // The reader ends at end of input; when we stopped early it ends at its
    // next send, which fails now that the receiver is gone.
    if result.is_ok() && (drain || !failed) {
        let _ = reader.join();
    }
    result.map(|()| done)
}

fn note(done: &mut Pumped, failed: &mut bool, r: io::Result<()>) {
    if let Err(e) = r
        && !*failed
    {
        *failed = true;
        done.write_error = Some(e);
    }
}

fn read_loop<R: Read>(
    mut input: R,
    tx: &mpsc::SyncSender<io::Result<Vec<u8>>>,
    spare: &mpsc::Receiver<Vec<u8>>,
) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_default();
        buf.resize(READ, 0);
        match input.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                if tx.send(Ok(buf)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::MaskSetBuilder;
    use std::sync::Arc;

    #[test]
    fn pump_masks_and_counts() {
        let mut b = MaskSetBuilder::new();
        b.add(b"correct-horse-battery").expect("add");
        let set = Arc::new(b.build().expect("build"));
        let mut m = Masker::new(set, "<test>");
        let mut out = Vec::new();
        let input = io::Cursor::new(b"one correct-horse-battery\ntwo".to_vec());
        let done = pump(input, &mut out, &mut m, false).expect("pump");
        assert_eq!(out, b"one ***\ntwo");
        assert_eq!(done.bytes_in, 29);
        assert!(done.write_error.is_none());
    }
}
