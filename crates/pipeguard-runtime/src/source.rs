//! Where secret values come from: the environment (what the CI's secret
//! store injected) and age-encrypted dotenv or YAML files in the repository.
//! Errors name the source and the key, never a value.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, anyhow, bail};
use zeroize::Zeroizing;

/// A resolved secret value; wiped from memory when dropped.
pub type Secret = Zeroizing<Vec<u8>>;

/// Where the age identity may come from, in order of precedence.
pub const IDENTITY_FILE_ENV: &str = "PIPEGUARD_AGE_IDENTITY_FILE";
pub const IDENTITY_KEY_ENV: &str = "PIPEGUARD_AGE_KEY";

/// `env:VAR`: the value of a variable of our own environment.
pub fn from_env(var: &str) -> anyhow::Result<Secret> {
    match std::env::var_os(var) {
        None => bail!("env:{var}: not set"),
        Some(v) if v.is_empty() => bail!("env:{var}: set but empty"),
        Some(v) => Ok(Zeroizing::new(std::os::unix::ffi::OsStringExt::into_vec(v))),
    }
}

type Identities = Vec<Box<dyn age::Identity + Send + Sync>>;

/// Decrypted age files, each decrypted once however many keys are read.
pub struct AgeFiles {
    identity_flag: Option<PathBuf>,
    identities: Option<Identities>,
    files: HashMap<PathBuf, HashMap<String, Secret>>,
}

impl AgeFiles {
    /// `identity` is `--identity FILE`; without it the environment decides.
    pub fn new(identity: Option<PathBuf>) -> AgeFiles {
        AgeFiles {
            identity_flag: identity,
            identities: None,
            files: HashMap::new(),
        }
    }

    /// `age:FILE#KEY` (the part after `age:`); `FILE` relative to `base`.
    pub fn get(&mut self, spec: &str, base: &Path) -> anyhow::Result<Secret> {
        let (file, key) = spec
            .rsplit_once('#')
            .filter(|(f, k)| !f.is_empty() && !k.is_empty())
            .ok_or_else(|| anyhow!("age:{spec}: expected age:FILE#KEY"))?;
        let path = base.join(file);
        if !self.files.contains_key(&path) {
            let entries = self.decrypt(&path, file)?;
            self.files.insert(path.clone(), entries);
        }
        let entries = &self.files[&path];
        match entries.get(key) {
            Some(v) if v.is_empty() => bail!("age:{file}: key `{key}` is empty"),
            Some(v) => Ok(v.clone()),
            None => {
                let mut names: Vec<&str> = entries.keys().map(String::as_str).collect();
                names.sort_unstable();
                bail!(
                    "age:{file}: no key `{key}` (it has: {})",
                    if names.is_empty() {
                        "no keys".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            }
        }
    }

    fn identities(&mut self) -> anyhow::Result<&Identities> {
        if self.identities.is_none() {
            self.identities = Some(load_identities(self.identity_flag.as_deref())?);
        }
        self.identities
            .as_ref()
            .ok_or_else(|| anyhow!("no age identity"))
    }

    fn decrypt(&mut self, path: &Path, shown: &str) -> anyhow::Result<HashMap<String, Secret>> {
        let file =
            std::fs::File::open(path).with_context(|| format!("age:{shown}: cannot open"))?;
        let identities = self.identities()?;
        let plain = decrypt(file, identities).map_err(|e| anyhow!("age:{shown}: {e}"))?;
        let text = std::str::from_utf8(&plain)
            .map_err(|_| anyhow!("age:{shown}: the decrypted file is not UTF-8 text"))?;
        let yaml = [".yaml.age", ".yml.age", ".yaml", ".yml"]
            .iter()
            .any(|s| shown.ends_with(s));
        if yaml {
            parse_yaml(text).map_err(|e| anyhow!("age:{shown}: {e}"))
        } else {
            crate::dotenv::parse(text).map_err(|e| anyhow!("age:{shown}: {e}"))
        }
    }
}

/// `--identity FILE`, else `$PIPEGUARD_AGE_IDENTITY_FILE`, else
/// `$PIPEGUARD_AGE_KEY` (an `AGE-SECRET-KEY-1…` string).
pub fn load_identities(flag: Option<&Path>) -> anyhow::Result<Identities> {
    let file = flag
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(IDENTITY_FILE_ENV).map(PathBuf::from));
    if let Some(file) = file {
        let shown = file.display();
        let f = std::fs::File::open(&file)
            .with_context(|| format!("age identity file {shown}: cannot open"))?;
        // age's own message names the line, never its content.
        let ids = age::IdentityFile::from_buffer(BufReader::new(f))
            .map_err(|e| anyhow!("age identity file {shown}: {e}"))?
            .into_identities()
            .map_err(|_| anyhow!("age identity file {shown}: unusable identity"))?;
        if ids.is_empty() {
            bail!(
                "age identity file {shown}: no identity in it (expected AGE-SECRET-KEY-1… lines)"
            );
        }
        return Ok(ids);
    }
    if let Some(key) = std::env::var_os(IDENTITY_KEY_ENV) {
        let key = Zeroizing::new(key.to_string_lossy().trim().to_string());
        let id = age::x25519::Identity::from_str(&key).map_err(|_| {
            anyhow!("${IDENTITY_KEY_ENV} does not hold an age X25519 identity (AGE-SECRET-KEY-1…)")
        })?;
        return Ok(vec![Box::new(id)]);
    }
    bail!(
        "age sources need an identity: --identity FILE, ${IDENTITY_FILE_ENV} or ${IDENTITY_KEY_ENV}"
    )
}

/// Decrypts an age file, armored (`age -a`) or binary.
pub fn decrypt<R: Read>(input: R, identities: &Identities) -> Result<Secret, String> {
    let decryptor =
        age::Decryptor::new(age::armor::ArmoredReader::new(input)).map_err(|e| describe(&e))?;
    if decryptor.is_scrypt() {
        return Err(
            "encrypted with a passphrase; encrypt to an X25519 recipient instead (age -r age1…)"
                .into(),
        );
    }
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| describe(&e))?;
    let mut plain = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plain)
        .map_err(|_| "corrupted or tampered ciphertext (authentication failed)".to_string())?;
    Ok(plain)
}

fn describe(e: &age::DecryptError) -> String {
    use age::DecryptError as E;
    match e {
        E::NoMatchingKeys => "none of the given identities can decrypt it (wrong identity?)".into(),
        E::InvalidHeader | E::UnknownFormat => "not an age-encrypted file".into(),
        E::InvalidMac | E::DecryptionFailed | E::KeyDecryptionFailed => {
            "corrupted or tampered ciphertext (authentication failed)".into()
        }
        E::ExcessiveWork { .. } => "passphrase work factor too high".into(),
        E::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "not an age-encrypted file, or a truncated one".into()
        }
        E::Io(io) => format!("read error: {}", io.kind()),
        _ => "cannot decrypt it".into(),
    }
}

/// A flat YAML mapping of string keys to scalar values.
pub fn parse_yaml(text: &str) -> Result<HashMap<String, Secret>, String> {
    use saphyr::{LoadableYamlNode, Scalar, Yaml};
    let docs = Yaml::load_from_str(text)
        .map_err(|e| format!("line {}: invalid YAML: {}", e.marker().line(), e.info()))?;
    let mut out = HashMap::new();
    let Some(doc) = docs.first() else {
        return Ok(out);
    };
    let Yaml::Mapping(map) = doc else {
        return Err("expected a mapping of names to values at the top level".into());
    };
    for (k, v) in map.iter() {
        let key = match k {
            Yaml::Value(Scalar::String(s)) => s.to_string(),
            Yaml::Value(Scalar::Integer(i)) => i.to_string(),
            _ => return Err("a key is not a string".into()),
        };
        let value = match v {
            Yaml::Value(Scalar::String(s)) => s.as_bytes().to_vec(),
            Yaml::Value(Scalar::Integer(i)) => i.to_string().into_bytes(),
            Yaml::Value(Scalar::FloatingPoint(f)) => f.to_string().into_bytes(),
            Yaml::Value(Scalar::Boolean(b)) => b.to_string().into_bytes(),
            Yaml::Value(Scalar::Null) => Vec::new(),
            _ => {
                return Err(format!(
                    "`{key}`: expected a plain value, not a list or mapping"
                ));
            }
        };
        out.insert(key, Zeroizing::new(value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_flat_mapping() {
        let m =
            parse_yaml("DB_PASSWORD: 's3cr3t: yes'\nPORT: 5432\nTOKEN: \"a\\nb\"\n").expect("yaml");
        assert_eq!(m["DB_PASSWORD"].as_slice(), b"s3cr3t: yes");
        assert_eq!(m["PORT"].as_slice(), b"5432");
        assert_eq!(m["TOKEN"].as_slice(), b"a\nb");
        let err = parse_yaml("A:\n  nested: 1\n").expect_err("nested");
        assert!(err.contains("`A`"), "{err}");
        assert!(parse_yaml("- a\n- b\n").is_err());
    }

    #[test]
    fn env_source_names_the_variable() {
        let err = from_env("PIPEGUARD_TEST_SURELY_UNSET_VAR").expect_err("unset");
        assert_eq!(
            err.to_string(),
            "env:PIPEGUARD_TEST_SURELY_UNSET_VAR: not set"
        );
    }

    #[test]
    fn age_round_trip_and_wrong_identity() {
        let id = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let recipient = id.to_public();
        let plain = b"# comment\nDB_PASSWORD=\"hunter2 hunter2\"\n";
        let enc =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .expect("recipients");
        let mut cipher = Vec::new();
        let mut w = enc.wrap_output(&mut cipher).expect("wrap");
        std::io::Write::write_all(&mut w, plain).expect("write");
        w.finish().expect("finish");
        let ids: Identities = vec![Box::new(id)];
        let out = decrypt(&cipher[..], &ids).expect("decrypt");
        assert_eq!(out.as_slice(), plain);
        let wrong: Identities = vec![Box::new(other)];
        let err = decrypt(&cipher[..], &wrong).expect_err("wrong identity");
        assert!(err.contains("wrong identity"), "{err}");
        let mut bad = cipher.clone();
        let n = bad.len();
        bad[n - 5] ^= 1;
        let err = decrypt(&bad[..], &ids).expect_err("tampered");
        assert!(err.contains("tampered"), "{err}");
        let err = decrypt(&b"DB_PASSWORD=x\n"[..], &ids).expect_err("plain");
        assert!(err.contains("not an age"), "{err}");
    }
}
