//! `pipeguard mask` and `pipeguard run` end to end: real child processes
//! (python3, sh), real pipes and signals, age files made with the real `age`
//! CLI.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::pipeguard;

/// A value with characters every encoder treats differently (space, quotes,
/// `$`, `/`, `+`, `~`, non-ASCII), built at run time so this file does not
/// hold it in one piece.
fn tricky_secret() -> String {
    format!("Vq8{}p@ss w0rd/'\"$x+y~é-{}", "Kd2N-", "Zr4mX7")
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Prints the secret (from $S) in every encoding, one labelled line each,
/// half to stdout and half to stderr, and writes the complete encoded forms
/// (as the tools print them) to the file in $FORMS, outside the masking.
const PRINT_ENCODINGS: &str = r#"
import base64, json, os, shlex, subprocess, sys, urllib.parse
s = os.environ["S"]
b = s.encode()
forms = {
    "raw": s,
    "b64-0": base64.b64encode(b).decode(),
    "b64-1": base64.b64encode(b"A" + b).decode(),
    "b64-2": base64.b64encode(b"AB" + b + b"\n").decode(),
    "b64url": base64.urlsafe_b64encode(b"\xfb" + b).decode(),
    "hex": b.hex(),
    "HEX": b.hex().upper(),
    "url": urllib.parse.quote(s, safe=""),
    "url-path": urllib.parse.quote(s),
    "url-plus": urllib.parse.quote_plus(s),
    "json": json.dumps(s),
    "json-utf8": json.dumps({"password": s}, ensure_ascii=False),
    "shlex": shlex.quote(s),
    "bash-q": subprocess.run(["bash", "-c", 'printf %q "$S"'], capture_output=True, text=True).stdout,
    "b64b64": base64.b64encode(base64.b64encode(b)).decode(),
    "b64b64-shifted": base64.b64encode(b"xy" + base64.b64encode(b"z" + b)).decode(),
}
with open(os.environ["FORMS"], "w") as f:
    json.dump(forms, f)
for i, (k, v) in enumerate(forms.items()):
    stream = sys.stdout if i % 2 == 0 else sys.stderr
    stream.write(f"{k}: <{v}> end\n")
    stream.flush()
"#;

#[test]
fn run_masks_the_secret_in_every_encoding_on_stdout_and_stderr() {
    let t = tempfile::tempdir().expect("tempdir");
    let forms_file = t.path().join("forms.json");
    let secret = tricky_secret();
    let out = pipeguard()
        .current_dir(t.path())
        .env("CI_SECRET", &secret)
        .env("FORMS", &forms_file)
        .args([
            "run",
            "--secret",
            "S=env:CI_SECRET",
            "--",
            "python3",
            "-c",
            PRINT_ENCODINGS,
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let forms: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&forms_file).expect("forms")).expect("json");
    let forms = forms.as_object().expect("object");
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    let all = format!("{stdout}{stderr}");
    for (label, form) in forms {
        let form = form.as_str().expect("string");
        assert!(!all.contains(form), "{label} form survived:\n{all}");
        // The line is still there, its text around the value intact, and
        // the value replaced.
        let line = all
            .lines()
            .find(|l| l.starts_with(&format!("{label}: <")))
            .unwrap_or_else(|| panic!("line {label} missing:\n{all}"));
        assert!(line.ends_with("> end"), "{line}");
        assert!(line.contains("***"), "{label} not masked: {line}");
    }
    assert!(!all.contains(&secret));
    // Each stream was masked on its own: stdout has the even labels.
    assert!(stdout.contains("raw: <***> end"), "{stdout}");
    assert!(stderr.contains("b64-0: <"), "{stderr}");
}

#[test]
fn a_secret_split_across_two_writes_with_a_pause_is_masked() {
    let secret = tricky_secret();
    let script = r#"
import os, sys, time
s = os.environ["S"]
half = len(s) // 2
sys.stdout.write("before " + s[:half]); sys.stdout.flush()
time.sleep(0.8)
sys.stdout.write(s[half:] + " after\n"); sys.stdout.flush()
"#;
    let out = pipeguard()
        .env("CI_SECRET", &secret)
        .args([
            "run",
            "--secret",
            "S=env:CI_SECRET",
            "--",
            "python3",
            "-c",
            script,
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "before *** after\n");
}

#[test]
fn a_paused_prompt_is_shown_before_its_line_ends() {
    // A prompt without a newline must not wait for the rest of its line.
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipeguard"))
        .args([
            "mask",
            "--",
            "sh",
            "-c",
            "printf 'Continue? [y/N] '; sleep 2; echo",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let n = stdout.read(&mut buf).expect("read");
    assert_eq!(&buf[..n], b"Continue? [y/N] ");
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(child.wait().expect("wait").success());
}

#[test]
fn mask_on_stdin_masks_values_straddling_pipe_buffer_boundaries() {
    let t = tempfile::tempdir().expect("tempdir");
    let secret = tricky_secret();
    let values = t.path().join("values.txt");
    std::fs::write(&values, format!("{secret}\n")).expect("write");
    // Secrets placed across 4 KiB, 64 KiB and 256 KiB boundaries, in a
    // very long line and in ordinary ones.
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for boundary in [4096usize, 65536, 131072, 262144, 300000] {
        let start = boundary - secret.len() / 2;
        let filler = vec![b'x'; start - input.len()];
        input.extend_from_slice(&filler);
        expected.extend_from_slice(&filler);
        input.extend_from_slice(secret.as_bytes());
        expected.extend_from_slice(b"***");
        if boundary == 131072 {
            input.push(b'\n');
            expected.push(b'\n');
        }
    }
    input.extend_from_slice(b" tail\n");
    expected.extend_from_slice(b" tail\n");
    let out = pipeguard()
        .args(["mask", "--values-file"])
        .arg(&values)
        .write_stdin(input)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        out.stdout == expected,
        "output differs from the expected masking"
    );
}

#[test]
fn binary_input_passes_through_byte_identical_except_masked_spans() {
    let t = tempfile::tempdir().expect("tempdir");
    let secret = tricky_secret();
    let values = t.path().join("values.txt");
    std::fs::write(&values, format!("{secret}\n")).expect("write");
    let mut input = Vec::new();
    let mut expected = Vec::new();
    let mut x: u32 = 12345;
    for round in 0..3 {
        for _ in 0..200_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = (x >> 16) as u8;
            input.push(b);
            expected.push(b);
        }
        if round < 2 {
            input.extend_from_slice(secret.as_bytes());
            expected.extend_from_slice(b"***");
        }
    }
    let out = pipeguard()
        .args(["mask", "--values-file"])
        .arg(&values)
        .write_stdin(input.clone())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), expected.len());
    assert!(
        out.stdout == expected,
        "binary bytes changed outside the secret"
    );
}

#[test]
fn a_line_matching_a_secret_rule_is_masked_without_being_known() {
    // A GitHub token shape (valid checksum) that `pipeguard secrets` detects.
    let token = format!("ghp_{}", "B5wbWUr7BIMUbTIDmW22O4DgGpQNEg0hCQFY");
    let input = format!("cloning with GITHUB_TOKEN={token} now\nplain line\n");
    let out = pipeguard()
        .args(["mask"])
        .write_stdin(input.clone())
        .output()
        .expect("run");
    assert_eq!(
        stdout_of(&out),
        "cloning with GITHUB_TOKEN=*** now\nplain line\n"
    );
    // The same detector as `pipeguard secrets`.
    let scan = pipeguard()
        .args(["secrets", "-"])
        .write_stdin(input.clone())
        .output()
        .expect("secrets");
    assert_eq!(scan.status.code(), Some(1));
    // With rules off, only known values are masked.
    let out = pipeguard()
        .args(["mask", "--no-rules"])
        .write_stdin(input.clone())
        .output()
        .expect("run");
    assert_eq!(stdout_of(&out), input);
}

#[test]
fn short_values_are_refused_with_a_warning_that_does_not_show_them() {
    let out = pipeguard()
        .env("SHORT_ONE", "abc")
        .args(["mask", "--env", "SHORT_ONE"])
        .write_stdin("abc stays\n")
        .output()
        .expect("run");
    assert_eq!(stdout_of(&out), "abc stays\n");
    let err = stderr_of(&out);
    assert!(
        err.contains("--env SHORT_ONE") && err.contains("shorter than"),
        "{err}"
    );
    assert!(!err.contains("abc"), "{err}");
}

#[test]
fn run_exits_with_the_command_status() {
    let out = pipeguard()
        .args(["run", "--", "sh", "-c", "echo out; exit 7"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(stdout_of(&out), "out\n");
    let out = pipeguard()
        .args(["run", "--", "sh", "-c", "kill -KILL $$"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(128 + 9));
    let out = pipeguard()
        .args(["run", "--", "no-such-command-pipeguard-test"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(127));
    assert!(stderr_of(&out).contains("cannot run `no-such-command-pipeguard-test`"));
}

/// Starts `pipeguard run -- sh -c SCRIPT`, waits for its `ready` line, sends
/// it `signal` with kill(1), and returns its status and the rest of stdout.
fn signal_run(script: &str, signal: &str) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipeguard"))
        .args(["run", "--", "sh", "-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read");
    assert_eq!(line, "ready\n");
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("read");
    (child.wait().expect("wait").code(), rest)
}

#[test]
fn run_forwards_sigterm_and_sighup_to_the_command() {
    let (code, rest) = signal_run(
        "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done",
        "-TERM",
    );
    assert_eq!(code, Some(42));
    assert_eq!(rest, "got-term\n");
    let (code, rest) = signal_run(
        "trap 'echo got-hup; exit 5' HUP; echo ready; while :; do sleep 0.05; done",
        "-HUP",
    );
    assert_eq!((code, rest.as_str()), (Some(5), "got-hup\n"));
    // A command that does not handle the signal dies of it: 128 + 15.
    let (code, _) = signal_run("echo ready; exec sleep 30", "-TERM");
    assert_eq!(code, Some(128 + 15));
}

#[test]
fn file_secrets_are_private_files_removed_afterwards() {
    let t = tempfile::tempdir().expect("tempdir");
    let secret = tricky_secret();
    std::fs::write(
        t.path().join("pipeguard.toml"),
        "[[run.secret]]\nname = \"KUBECONFIG\"\nfrom = \"env:CI_KUBECONFIG\"\nfile = true\n",
    )
    .expect("write");
    let script = r#"
import os, stat
p = os.environ["KUBECONFIG"]
print("path", p)
print("file", oct(stat.S_IMODE(os.stat(p).st_mode)))
print("dir", oct(stat.S_IMODE(os.stat(os.path.dirname(p)).st_mode)))
print("content", open(p).read())
print("same", open(p).read() == os.environ["EXPECT"])
"#;
    for how in ["exit", "killed"] {
        let mut cmd = pipeguard();
        cmd.current_dir(t.path())
            .env("CI_KUBECONFIG", &secret)
            .env("EXPECT", &secret);
        let full = if how == "exit" {
            script.to_string()
        } else {
            format!("{script}\nimport signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
        };
        let out = cmd
            .args(["run", "--", "python3", "-c", &full])
            .output()
            .expect("run");
        let stdout = stdout_of(&out);
        assert_eq!(
            out.status.code(),
            Some(if how == "exit" { 0 } else { 137 }),
            "{stdout}{}",
            stderr_of(&out)
        );
        assert!(stdout.contains("file 0o600\n"), "{stdout}");
        assert!(stdout.contains("dir 0o700\n"), "{stdout}");
        assert!(stdout.contains("content ***\n"), "{stdout}");
        assert!(stdout.contains("same True\n"), "{stdout}");
        let path = stdout
            .lines()
            .find_map(|l| l.strip_prefix("path "))
            .expect("path line");
        assert!(!Path::new(path).exists(), "{path} left behind ({how})");
        assert!(!Path::new(path).parent().expect("dir").exists());
    }
}

/// age-keygen into `dir/name`, returning the public key.
fn age_keygen(dir: &Path, name: &str) -> String {
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(dir.join(name))
        .output()
        .expect("age-keygen is needed (apt-get install age)");
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.join(name)).expect("key");
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("public key")
        .to_string()
}

fn age_encrypt(recipient: &str, plain: &str, out: &Path, armor: bool) {
    let mut cmd = Command::new("age");
    if armor {
        cmd.arg("-a");
    }
    let mut child = cmd
        .args(["-r", recipient, "-o"])
        .arg(out)
        .stdin(Stdio::piped())
        .spawn()
        .expect("age is needed (apt-get install age)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(plain.as_bytes())
        .expect("write");
    assert!(child.wait().expect("age").success());
}

#[test]
fn age_files_made_with_the_age_cli_are_decrypted() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    let public = age_keygen(d, "key.txt");
    let secret = tricky_secret();
    // Double quotes with dotenv escapes: the value has `"`, `$` and `'`.
    let escaped = secret
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$");
    let dotenv = format!("# database\nexport DB_USER=app\nDB_PASSWORD=\"{escaped}\" # prod\n");
    let db_password = secret.clone();
    age_encrypt(&public, &dotenv, &d.join("secrets.env.age"), false);
    let yaml = format!("API_TOKEN: \"{}\"\n", "tok-Hq5vN8rW2zL7pX4k");
    age_encrypt(&public, &yaml, &d.join("more.yaml.age"), true);
    std::fs::write(
        d.join("pipeguard.toml"),
        "[[run.secret]]\nname = \"DB_PASSWORD\"\nfrom = \"age:secrets.env.age#DB_PASSWORD\"\n\n[[run.secret]]\nname = \"API_TOKEN\"\nfrom = \"age:more.yaml.age#API_TOKEN\"\n",
    )
    .expect("write");
    let script = r#"
import os
print("db", os.environ["DB_PASSWORD"], os.environ["DB_PASSWORD"] == os.environ["WANT_DB"])
print("api", os.environ["API_TOKEN"], os.environ["API_TOKEN"] == "tok-" + "Hq5vN8rW2zL7pX4k")
"#;
    // The identity three ways: --identity, the file variable, the key variable.
    let key_text = std::fs::read_to_string(d.join("key.txt")).expect("key");
    let key_line = key_text
        .lines()
        .find(|l| l.starts_with("AGE-"))
        .expect("key line")
        .to_string();
    for way in ["flag", "file-env", "key-env"] {
        let mut cmd = pipeguard();
        cmd.current_dir(d)
            .env("WANT_DB", &db_password)
            .env_remove("PIPEGUARD_AGE_IDENTITY_FILE")
            .env_remove("PIPEGUARD_AGE_KEY");
        match way {
            "flag" => {
                cmd.args(["run", "--identity", "key.txt"]);
            }
            "file-env" => {
                cmd.env("PIPEGUARD_AGE_IDENTITY_FILE", d.join("key.txt"))
                    .arg("run");
            }
            _ => {
                cmd.env("PIPEGUARD_AGE_KEY", &key_line).arg("run");
            }
        }
        let out = cmd
            .args(["--", "python3", "-c", script])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{way}: {}", stderr_of(&out));
        assert_eq!(stdout_of(&out), "db *** True\napi *** True\n", "{way}");
    }
}

#[test]
fn a_wrong_identity_or_missing_key_is_a_clean_error_without_the_value() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    let public = age_keygen(d, "key.txt");
    age_keygen(d, "other.txt");
    let secret = tricky_secret().replace('\'', "");
    age_encrypt(
        &public,
        &format!("DB_PASSWORD='{secret}'\n"),
        &d.join("secrets.env.age"),
        false,
    );
    let marker = d.join("ran");
    let run = |identity: &str, spec: &str| {
        pipeguard()
            .current_dir(d)
            .env_remove("PIPEGUARD_AGE_IDENTITY_FILE")
            .env_remove("PIPEGUARD_AGE_KEY")
            .args([
                "run",
                "--identity",
                identity,
                "--secret",
                spec,
                "--",
                "touch",
            ])
            .arg(&marker)
            .output()
            .expect("run")
    };
    let out = run("other.txt", "DB_PASSWORD=age:secrets.env.age#DB_PASSWORD");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("secret DB_PASSWORD: age:secrets.env.age:"),
        "{err}"
    );
    assert!(err.contains("wrong identity"), "{err}");
    assert!(
        !err.contains(&secret) && stdout_of(&out).is_empty(),
        "{err}"
    );
    assert!(
        !marker.exists(),
        "the command must not run without its secrets"
    );

    let out = run("key.txt", "DB_PASSWORD=age:secrets.env.age#DB_PASSWROD");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("no key `DB_PASSWROD` (it has: DB_PASSWORD)"),
        "{err}"
    );
    assert!(!err.contains(&secret), "{err}");

    // A tampered file.
    let mut bytes = std::fs::read(d.join("secrets.env.age")).expect("read");
    let n = bytes.len();
    bytes[n - 3] ^= 0x55;
    std::fs::write(d.join("secrets.env.age"), bytes).expect("write");
    let out = run("key.txt", "DB_PASSWORD=age:secrets.env.age#DB_PASSWORD");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("age:secrets.env.age: corrupted or tampered"),
        "{err}"
    );
    assert!(!marker.exists());

    // An identity file that is not one: the error names its line, not its text.
    std::fs::write(d.join("bad.txt"), format!("{secret}\n")).expect("write");
    let out = run("bad.txt", "DB_PASSWORD=age:secrets.env.age#DB_PASSWORD");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("bad.txt") && err.contains("line 1"), "{err}");
    assert!(!err.contains(&secret), "{err}");
}

#[test]
fn aws_sm_without_the_cloud_feature_is_a_clear_error() {
    if cfg!(feature = "cloud") {
        return;
    }
    let out = pipeguard()
        .args([
            "run",
            "--secret",
            "DB=aws-sm:prod/db#password",
            "--",
            "true",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("aws-sm sources need a pipeguard built with the `cloud` feature"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn file_secret_directory_is_not_readable_by_others_while_running() {
    // The directory is created 0700 before the command starts.
    let t = tempfile::tempdir().expect("tempdir");
    let out = pipeguard()
        .current_dir(t.path())
        .env("CI_VALUE", "value-for-a-file-secret")
        .args([
            "run",
            "--secret-file",
            "TOKEN_FILE=env:CI_VALUE",
            "--",
            "sh",
            "-c",
            "stat -c '%a' \"$(dirname \"$TOKEN_FILE\")\"; cat \"$TOKEN_FILE\"; echo",
        ])
        .output()
        .expect("run");
    assert_eq!(stdout_of(&out), "700\n***\n");
}
