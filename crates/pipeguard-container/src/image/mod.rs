//! Reading built container images: OCI image layouts and `docker save`
//! archives, their layers applied into an in-memory filesystem view (never
//! written to disk), the OS package databases in that view, and helpers for
//! the findings an image deserves (root user, shells and tools, setuid files,
//! secrets in the environment).

mod checks;
mod error;
pub mod inventory;
mod layer;
mod packages;
#[cfg(feature = "registry")]
pub mod registry;
mod source;
mod view;

#[cfg(test)]
mod tests;

pub use checks::{ToolKind, present_tools, runs_as_root, sensitive_env, setuid_files};
pub use error::ImageError;
pub use packages::{
    OsPackage, OsRelease, parse_apk_installed, parse_dpkg_status, parse_os_release,
};
pub use source::{open_docker_archive, open_oci_layout, split_layout_ref};
pub use view::{DeletedFile, FileEntry, FileKind, FsView, Removal};

use std::path::PathBuf;

/// One image, ready to have its layers streamed.
#[derive(Debug, Clone)]
pub struct Image {
    pub config: ImageConfig,
    /// Bottom layer first.
    pub layers: Vec<LayerRef>,
    /// The manifest digest when the source names one (OCI layout, or a
    /// docker archive that carries an OCI index with a single manifest).
    pub digest: Option<String>,
    /// `sha256:…` of the config blob: Docker's image ID.
    pub config_digest: Option<String>,
    /// Tags recorded in a docker archive's `manifest.json`.
    pub repo_tags: Vec<String>,
}

/// The parts of the image config that matter for findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    pub user: Option<String>,
    pub env: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub exposed_ports: Vec<String>,
    /// `created_by` of each history entry, in order.
    pub history: Vec<String>,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

/// Where one layer's bytes are.
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// The descriptor digest, or in an old docker archive the diff ID (or
    /// the entry path when the config has none): how errors name the layer.
    pub digest: String,
    pub media_type: Option<String>,
    pub source: LayerSource,
    /// Hex sha256 that the raw (possibly compressed) bytes must have, when
    /// known: a layout whose blob does not match its name has been tampered
    /// with or corrupted.
    pub verify_sha256: Option<String>,
}

#[derive(Debug, Clone)]
pub enum LayerSource {
    /// A blob file in an OCI layout.
    Blob(PathBuf),
    /// A byte range of an uncompressed outer tar (a docker archive), so
    /// the layer is read in place rather than extracted.
    ArchiveRange {
        archive: PathBuf,
        offset: u64,
        size: u64,
    },
}

/// Caps that keep a hostile image from exhausting memory or time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Uncompressed bytes read from one layer.
    pub max_layer_bytes: u64,
    /// Tar entries in one layer.
    pub max_entries: u64,
    /// Largest regular file whose content is handed to a visitor or read.
    pub max_file_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 4 << 30,
            max_entries: 1_000_000,
            max_file_size: 8 << 20,
        }
    }
}

impl Image {
    /// Applies every layer, in order, into the final filesystem view.
    ///
    /// A layer that fails (corrupt, too large, unsupported compression) is
    /// recorded in `FsView::errors`; the entries read before the failure are
    /// kept and the following layers are still applied.
    pub fn filesystem(&self, limits: &Limits) -> FsView {
        view::build(self, limits)
    }

    /// Builds the final view and hands every regular file of every layer
    /// (up to `limits.max_file_size`) to `f(path, layer, content)` in the
    /// same pass over the layers. Ask the returned view whether a version
    /// was deleted later (`FsView::is_deleted_later`).
    pub fn filesystem_visiting<F>(&self, limits: &Limits, f: F) -> FsView
    where
        F: FnMut(&str, usize, &[u8]),
    {
        view::build_visiting(self, limits, f)
    }

    /// Hands the content of every regular file of every layer, up to
    /// `limits.max_file_size`, to `f(path, layer, deleted_later, content)`,
    /// deleted and overwritten versions included: a secret removed in a
    /// later layer is still in the image. `deleted_later` is true when that
    /// version is not the one in the final view (see `FsView::deleted`).
    /// Returns the layers' errors; the other layers are still visited.
    pub fn visit_files<F>(&self, view: &FsView, limits: &Limits, f: F) -> Vec<ImageError>
    where
        F: FnMut(&str, usize, bool, &[u8]),
    {
        view::visit(self, view, limits, f)
    }

    /// Content of one file of the final view (symlinks followed inside the
    /// view), or `None` when absent, not a regular file or over the size cap.
    pub fn read_file(
        &self,
        view: &FsView,
        path: &str,
        limits: &Limits,
    ) -> Result<Option<Vec<u8>>, ImageError> {
        view::read_file(self, view, path, limits)
    }

    /// The distro release and the OS packages installed in the final view.
    pub fn os_packages(
        &self,
        view: &FsView,
        limits: &Limits,
    ) -> (Option<OsRelease>, Vec<OsPackage>, Vec<ImageError>) {
        packages::collect(self, view, limits)
    }
}
