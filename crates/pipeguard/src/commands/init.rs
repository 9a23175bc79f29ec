//! `pipeguard init`: writes a commented `pipeguard.toml` suited to the tree
//! it finds (lockfiles, workflows, Dockerfiles, source languages, fixture
//! directories), so a new user starts from a policy that already passes
//! `pipeguard policy check` and says what each setting does.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use pipeguard_core::exit;

use crate::common::{require_path, usage};

#[derive(Args)]
pub struct InitArgs {
    /// Repository root to describe.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Overwrite an existing pipeguard.toml.
    #[arg(long)]
    force: bool,
    /// Print the policy instead of writing it.
    #[arg(long)]
    stdout: bool,
}

/// What the tree holds, as far as the policy is concerned.
#[derive(Default)]
struct Survey {
    git: bool,
    lockfiles: BTreeMap<String, usize>,
    workflows: usize,
    gitlab: bool,
    dockerfiles: Vec<String>,
    languages: BTreeMap<&'static str, usize>,
    fixture_dirs: Vec<String>,
}

fn survey(root: &Path) -> Survey {
    let mut s = Survey {
        git: crate::diff::is_repo(root),
        ..Survey::default()
    };
    let walker = pipeguard_core::walk::builder(root, false, &["node_modules"]).build();
    for e in walker.flatten() {
        let rel = pipeguard_core::relative_path(root, e.path());
        let name = e.file_name().to_string_lossy();
        if e.file_type().is_some_and(|t| t.is_dir()) {
            if matches!(
                name.as_ref(),
                "fixtures" | "testdata" | "test-data" | "__fixtures__"
            ) {
                s.fixture_dirs.push(format!("{rel}/**"));
            }
            continue;
        }
        if let Some(eco) = pipeguard_deps::lockfile::Kind::detect(&name).and_then(|k| k.ecosystem())
        {
            *s.lockfiles.entry(eco.to_string()).or_default() += 1;
        }
        if pipeguard_ci::classify(&rel).is_some() {
            if rel.ends_with(".gitlab-ci.yml") {
                s.gitlab = true;
            } else {
                s.workflows += 1;
            }
        }
        if pipeguard_container::is_dockerfile(&name) {
            s.dockerfiles.push(rel.clone());
        }
        let lang = match name.rsplit_once('.').map(|(_, x)| x) {
            Some("py") => "Python",
            Some("js" | "mjs" | "cjs" | "jsx") => "JavaScript",
            Some("ts" | "tsx") => "TypeScript",
            Some("java") => "Java",
            Some("go") => "Go",
            Some("rs") => "Rust",
            _ => continue,
        };
        *s.languages.entry(lang).or_default() += 1;
    }
    s.fixture_dirs.sort();
    s.fixture_dirs.truncate(8);
    s
}

fn render(s: &Survey) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# pipeguard policy, written by `pipeguard init`. Check it with `pipeguard policy check`.\n# Schema: docs/pipeguard.schema.json in the pipeguard repository.\n#\n# What pipeguard found here:"
    );
    let _ = writeln!(
        o,
        "#   git repository: {}",
        if s.git { "yes" } else { "no" }
    );
    if s.lockfiles.is_empty() {
        let _ = writeln!(o, "#   lockfiles: none");
    } else {
        let l: Vec<String> = s
            .lockfiles
            .iter()
            .map(|(e, n)| format!("{e} ({n})"))
            .collect();
        let _ = writeln!(o, "#   lockfiles: {}", l.join(", "));
    }
    let _ = writeln!(
        o,
        "#   CI: {} GitHub workflow/action files{}",
        s.workflows,
        if s.gitlab { ", GitLab CI" } else { "" }
    );
    let _ = writeln!(o, "#   Dockerfiles: {}", s.dockerfiles.len());
    if !s.languages.is_empty() {
        let l: Vec<String> = s
            .languages
            .iter()
            .map(|(e, n)| format!("{e} ({n} files)"))
            .collect();
        let _ = writeln!(o, "#   source: {}", l.join(", "));
    }
    o.push_str(
        "\n# Findings at or above this severity fail the scan (exit 1).\nfail-on = \"medium\"\n\n[scan]\n# Files that scanned clean are remembered (size, times, inode) and skipped next time.\ncache = true\n",
    );
    // Test data, as an active entry: findings under these directories are
    // reported, tagged `test`, and not counted by the profiles (unless they
    // are real-looking credentials), which is what most findings on real
    // repositories turn out to be.
    let mut dirs = pipeguard_core::testpath::default_dirs();
    for d in &s.fixture_dirs {
        let name = d
            .trim_end_matches("/**")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        if !name.is_empty() && !dirs.iter().any(|x| x.eq_ignore_ascii_case(&name)) {
            dirs.push(name);
        }
    }
    let found = if s.fixture_dirs.is_empty() {
        String::new()
    } else {
        format!(" Found here: {}.", s.fixture_dirs.join(", "))
    };
    let _ = write!(
        o,
        "# Directories whose findings are test data: reported and tagged `test`, but\n# not counted by the profiles unless they are real-looking credentials\n# (`test-findings = \"count\"` in a profile counts them).{found}\ntest-dirs = [{}]\n",
        dirs.iter()
            .map(|x| format!("\"{x}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Profiles: the analyzers worth running here.
    let mut analyzers = vec!["secrets"];
    if !s.lockfiles.is_empty() {
        analyzers.push("deps");
    }
    if s.workflows > 0 || s.gitlab {
        analyzers.push("ci");
    }
    if !s.dockerfiles.is_empty() {
        analyzers.push("dockerfile");
    }
    if s.languages
        .keys()
        .any(|l| matches!(*l, "Python" | "JavaScript" | "TypeScript" | "Java" | "Go"))
    {
        analyzers.push("code");
    }
    let list = |a: &[&str]| {
        a.iter()
            .map(|x| format!("\"{x}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = write!(
        o,
        "\n# Pull requests: only what the change introduces (the diff base comes from\n# --diff-base or the CI), light and fast.\n[profile.pr]\nanalyzers = [{}]\nhistory = \"{}\"\n\n# Pushes to the default branch: the whole tree{}.\n[profile.main]\nanalyzers = [{}]\nhistory = \"{}\"\n",
        list(&analyzers),
        if s.git { "diff" } else { "none" },
        if s.git { " and its git history" } else { "" },
        list(&analyzers),
        if s.git { "full" } else { "none" },
    );
    let mut release = analyzers.clone();
    release.push("image");
    let _ = write!(
        o,
        "\n# Before a release: everything, images included, and a lower threshold.\n[profile.release]\nanalyzers = [{}]\nfail-on = \"low\"\n# The images your build produces (oci:DIR[:TAG], docker-archive:FILE, or a registry reference).\nimages = []\n",
        list(&release)
    );
    o.push_str("\n[secrets]\n# Path globs never scanned for secrets.\n");
    if s.fixture_dirs.is_empty() {
        o.push_str("exclude = []\n");
    } else {
        o.push_str("# Test fixtures often hold fake credentials; exclude them only once you have\n# checked that they are fake:\n# exclude = [\n");
        for d in &s.fixture_dirs {
            let _ = writeln!(o, "#   \"{d}\",");
        }
        o.push_str("# ]\n");
    }
    if !s.lockfiles.is_empty() {
        o.push_str("\n[deps]\n# Advisory database (default: $PIPEGUARD_DB or ~/.cache/pipeguard/osv);\n# fill it with `pipeguard db update`.\n# db = \".pipeguard/osv\"\n# Warn when the advisories are older than this.\nmax-db-age-days = 7\n# A manifest without its lockfile is a finding.\nrequire-lockfile = true\n");
        if s.lockfiles.contains_key("PyPI") {
            o.push_str("# Require --hash on every pinned requirement.\nrequire-hashes = false\n");
        }
        o.push_str("# Registries besides the ecosystems' defaults that packages may come from.\nallowed-registries = []\n");
    }
    o.push_str(
        "\n# Accepted findings: each needs a reason, and should expire.\n# [[ignore]]\n# rule = \"CVE-2024-0000\"\n# path = \"requirements.txt\"\n# reason = \"not reachable: we never call the affected function\"\n# expires = \"2027-06-30\"\n",
    );
    o
}

pub fn run(a: InitArgs) -> anyhow::Result<i32> {
    require_path(&a.path)?;
    if !a.path.is_dir() {
        return Err(usage(format!("{}: not a directory", a.path.display())));
    }
    let text = render(&survey(&a.path));
    // What we write must be what we accept.
    pipeguard_core::Policy::parse(&text, "pipeguard.toml")
        .map_err(|e| anyhow::anyhow!("generated policy does not parse: {e}"))?;
    if a.stdout {
        crate::output::write_stdout(text.as_bytes())?;
        return Ok(exit::CLEAN);
    }
    let target = a.path.join(pipeguard_core::policy::FILE_NAME);
    if target.exists() && !a.force {
        return Err(usage(format!(
            "{} exists; use --force to overwrite it or --stdout to print the suggestion",
            target.display()
        )));
    }
    std::fs::write(&target, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", target.display()))?;
    eprintln!(
        "pipeguard: wrote {}; run `pipeguard scan` to try it",
        target.display()
    );
    Ok(exit::CLEAN)
}
