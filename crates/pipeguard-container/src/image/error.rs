use std::fmt;

/// Why an image, or one of its layers, could not be read.
#[derive(Debug)]
pub enum ImageError {
    /// Reading a file of the image source failed.
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The layout or archive is not what the specs describe.
    Malformed(String),
    /// No manifest matches the requested tag or platform.
    NotFound(String),
    /// A blob's bytes do not hash to its name.
    DigestMismatch { what: String, actual: String },
    /// A layer unpacks to more bytes than the cap: likely a decompression bomb.
    LayerTooLarge { layer: String, limit: u64 },
    /// A layer has more entries than the cap.
    TooManyEntries { layer: String, limit: u64 },
    /// A layer uses a compression this build cannot read.
    UnsupportedCompression { layer: String, compression: String },
    /// A layer is truncated or corrupt (gzip or tar).
    Layer { layer: String, message: String },
}

impl ImageError {
    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    /// The layer the error is about, when it is about one.
    pub fn layer(&self) -> Option<&str> {
        match self {
            ImageError::LayerTooLarge { layer, .. }
            | ImageError::TooManyEntries { layer, .. }
            | ImageError::UnsupportedCompression { layer, .. }
            | ImageError::Layer { layer, .. } => Some(layer),
            _ => None,
        }
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::Io { path, source } => write!(f, "cannot read {path}: {source}"),
            ImageError::Malformed(m) => write!(f, "malformed image: {m}"),
            ImageError::NotFound(m) => write!(f, "{m}"),
            ImageError::DigestMismatch { what, actual } => {
                write!(
                    f,
                    "{what} does not match its digest (content is sha256:{actual})"
                )
            }
            ImageError::LayerTooLarge { layer, limit } => write!(
                f,
                "layer {layer} unpacks to more than {limit} bytes (possible decompression bomb)"
            ),
            ImageError::TooManyEntries { layer, limit } => {
                write!(f, "layer {layer} has more than {limit} entries")
            }
            ImageError::UnsupportedCompression { layer, compression } => {
                write!(
                    f,
                    "layer {layer} is {compression}-compressed, which is not supported yet"
                )
            }
            ImageError::Layer { layer, message } => {
                write!(f, "layer {layer} is corrupt or truncated: {message}")
            }
        }
    }
}

impl std::error::Error for ImageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImageError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
