//! The JSON report (docs/json-report.md): the `Report` serialized as is.

use std::io::{self, Write};

use pipeguard_core::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
