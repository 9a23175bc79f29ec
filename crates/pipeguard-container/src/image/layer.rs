//! Streaming one layer: raw bytes (hashed when the digest is known), gzip
//! or plain tar picked by magic bytes, a byte cap under the tar reader, and
//! an entry cap over it.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};

use flate2::read::MultiGzDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use sha2::{Digest, Sha256};

use super::view::FileKind;
use super::{ImageError, LayerRef, LayerSource, Limits};

/// A tar entry, its path made safe.
#[derive(Debug)]
pub(crate) struct RawEntry {
    /// Normalized (no leading `/`, no `.`), or `None` when the path climbs
    /// out of the root with `..` or is empty.
    pub path: Option<String>,
    pub raw_path: String,
    pub kind: FileKind,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

/// Normalizes a path inside the image: `None` for `..` components, which
/// are never resolved so nothing can point outside the root.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let mut parts = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => return None,
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// An I/O error from reading a tar stream, without the bytes it may quote:
/// the tar reader's messages include the header fields it could not parse
/// (`… was not a number: "<field>" when getting cksum for <path>`), and for
/// a file that is not a tar at all those are the file's first bytes, which
/// may be a secret (`pipeguard image .env`).
pub(crate) fn tar_error(e: &io::Error) -> String {
    let msg = e.to_string();
    let head = msg.split([':', '\n']).next().unwrap_or("");
    let head = head.split(" when ").next().unwrap_or(head).trim();
    if head.is_empty() {
        "unreadable tar data".into()
    } else {
        head.chars().take(120).collect()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Opens a layer's raw bytes where they are.
pub(crate) fn open_raw(layer: &LayerRef) -> Result<Box<dyn Read>, ImageError> {
    match &layer.source {
        LayerSource::Blob(p) => {
            let f = File::open(p).map_err(|e| ImageError::io(p.display().to_string(), e))?;
            Ok(Box::new(f))
        }
        LayerSource::ArchiveRange {
            archive,
            offset,
            size,
        } => {
            let mut f = File::open(archive)
                .map_err(|e| ImageError::io(archive.display().to_string(), e))?;
            f.seek(SeekFrom::Start(*offset))
                .map_err(|e| ImageError::io(archive.display().to_string(), e))?;
            Ok(Box::new(f.take(*size)))
        }
    }
}

struct Hashing {
    inner: Box<dyn Read>,
    hasher: Option<Sha256>,
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

type Raw = std::io::Chain<Cursor<Vec<u8>>, Hashing>;

enum Decoded {
    Plain(Raw),
    Gzip(Box<MultiGzDecoder<Raw>>),
    Zstd(Box<Zstd>),
}

impl Read for Decoded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoded::Plain(r) => r.read(buf),
            Decoded::Gzip(r) => r.read(buf),
            Decoded::Zstd(r) => r.read(buf),
        }
    }
}

/// A zstd stream of any number of frames, skippable ones (zstd:chunked
/// metadata) passed over, as `zstd -d` reads it.
struct Zstd {
    src: Raw,
    dec: FrameDecoder,
    in_frame: bool,
}

impl Zstd {
    /// Starts the next frame; false at the clean end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            let mut magic = Vec::with_capacity(4);
            (&mut self.src).take(4).read_to_end(&mut magic)?;
            if magic.is_empty() {
                return Ok(false);
            }
            match self.dec.reset(Cursor::new(magic).chain(&mut self.src)) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.src).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "truncated zstd skippable frame",
                        ));
                    }
                }
                Err(e) => return Err(io::Error::other(e.to_string())),
            }
        }
    }
}

impl Read for Zstd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            if self.dec.can_collect() > 0 {
                return self.dec.read(buf);
            }
            if self.dec.is_finished() {
                self.in_frame = false;
                continue;
            }
            self.dec
                .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBlocks(1))
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
    }
}

/// The uncompressed stream with its byte cap.
pub(crate) struct LayerStream {
    inner: Decoded,
    read: u64,
    limit: u64,
    /// Set when the cap was hit, so that the error can be told from
    /// corruption whatever the tar reader wrapped it in.
    hit: bool,
}

impl Read for LayerStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read >= self.limit {
            // One byte past the cap would have to exist for it to be hit.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.hit = true;
            return Err(io::Error::other("layer size cap exceeded"));
        }
        let room = usize::try_from(self.limit - self.read).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        let n = self.inner.read(&mut buf[..len])?;
        self.read += n as u64;
        Ok(n)
    }
}

fn open_stream(layer: &LayerRef, limits: &Limits) -> Result<LayerStream, ImageError> {
    let mut raw = open_raw(layer)?;
    let mut head = Vec::with_capacity(4);
    (&mut raw)
        .take(4)
        .read_to_end(&mut head)
        .map_err(|e| layer_err(layer, e.to_string()))?;
    let hasher = layer.verify_sha256.as_ref().map(|_| {
        let mut h = Sha256::new();
        h.update(&head);
        h
    });
    let compression = if head.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if head == [0x28, 0xb5, 0x2f, 0xfd] {
        "zstd"
    } else if head.starts_with(b"BZh") {
        "bzip2"
    } else if head == [0xfd, b'7', b'z', b'X'] {
        "xz"
    } else {
        "none"
    };
    let raw = Cursor::new(head).chain(Hashing { inner: raw, hasher });
    let inner = match compression {
        "gzip" => Decoded::Gzip(Box::new(MultiGzDecoder::new(raw))),
        "zstd" => Decoded::Zstd(Box::new(Zstd {
            src: raw,
            dec: FrameDecoder::new(),
            in_frame: false,
        })),
        "none" => Decoded::Plain(raw),
        other => {
            return Err(ImageError::UnsupportedCompression {
                layer: layer.digest.clone(),
                compression: other.to_string(),
            });
        }
    };
    Ok(LayerStream {
        inner,
        read: 0,
        limit: limits.max_layer_bytes,
        hit: false,
    })
}

fn layer_err(layer: &LayerRef, message: String) -> ImageError {
    ImageError::Layer {
        layer: layer.digest.clone(),
        message,
    }
}

enum Stop {
    Io(io::Error),
    Image(ImageError),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

/// Streams one layer's tar entries into `each`, then reads the rest of the
/// stream so that a truncated gzip or a blob that does not match its digest
/// is still caught. `each` may read the entry's content.
pub(crate) fn for_each_entry<F>(
    layer: &LayerRef,
    limits: &Limits,
    mut each: F,
) -> Result<(), ImageError>
where
    F: FnMut(RawEntry, &mut dyn Read) -> io::Result<()>,
{
    let mut stream = open_stream(layer, limits)?;
    let walked = (|| -> Result<(), Stop> {
        let mut archive = tar::Archive::new(&mut stream);
        let mut count = 0u64;
        for entry in archive.entries()? {
            let mut entry = entry?;
            count += 1;
            if count > limits.max_entries {
                return Err(Stop::Image(ImageError::TooManyEntries {
                    layer: layer.digest.clone(),
                    limit: limits.max_entries,
                }));
            }
            let raw = describe(&entry);
            each(raw, &mut entry)?;
        }
        Ok(())
    })();
    let drained = walked.and_then(|()| {
        io::copy(&mut stream, &mut io::sink())?;
        Ok(())
    });
    match drained {
        Ok(()) => {}
        Err(Stop::Image(e)) => return Err(e),
        Err(Stop::Io(_)) if stream.hit => {
            return Err(ImageError::LayerTooLarge {
                layer: layer.digest.clone(),
                limit: limits.max_layer_bytes,
            });
        }
        Err(Stop::Io(e)) => return Err(layer_err(layer, tar_error(&e))),
    }
    if let Some(want) = &layer.verify_sha256 {
        let raw = match stream.inner {
            Decoded::Plain(r) => r,
            Decoded::Gzip(r) => r.into_inner(),
            Decoded::Zstd(r) => r.src,
        };
        let (_, mut hashing) = raw.into_inner();
        // A gzip stream can end before its blob does; what follows still
        // belongs to the blob's digest.
        io::copy(&mut hashing, &mut io::sink()).map_err(|e| layer_err(layer, e.to_string()))?;
        if let Some(h) = hashing.hasher.take() {
            let actual = hex(&h.finalize());
            if &actual != want {
                return Err(ImageError::DigestMismatch {
                    what: format!("layer {}", layer.digest),
                    actual,
                });
            }
        }
    }
    Ok(())
}

fn describe<R: Read>(entry: &tar::Entry<'_, R>) -> RawEntry {
    let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let header = entry.header();
    let link = || {
        entry
            .link_name_bytes()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let kind = match header.entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous => FileKind::File,
        tar::EntryType::Directory => FileKind::Dir,
        tar::EntryType::Symlink => FileKind::Symlink(link()),
        tar::EntryType::Link => FileKind::Hardlink(link()),
        _ => FileKind::Other,
    };
    RawEntry {
        path: normalize(&raw_path),
        raw_path,
        kind,
        size: entry.size(),
        mode: header.mode().unwrap_or(0),
        uid: header.uid().unwrap_or(0),
        gid: header.gid().unwrap_or(0),
    }
}
