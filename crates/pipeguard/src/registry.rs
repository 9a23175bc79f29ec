//! The rule registry: every analyzer crate's `rules()` in one list, read by
//! `pipeguard rules`, SARIF's `tool.driver.rules` and the generated
//! `docs/rules.md`.

use std::path::Path;

use pipeguard_core::RuleDoc;

use crate::analyze;

/// Every rule of every analyzer: the registry.
pub fn all(scanner: &pipeguard_secrets::Scanner) -> anyhow::Result<Vec<RuleDoc>> {
    let mut v = pipeguard_secrets::rule_docs(scanner.engine().rules());
    v.extend(pipeguard_deps::rules());
    v.extend(pipeguard_ci::rules());
    v.extend(pipeguard_container::dockerfile_rules());
    v.extend(pipeguard_container::image_rules());
    v.extend(pipeguard_sast::rules());
    Ok(v)
}

/// The registry entries of the rules `findings` name (SARIF describes each
/// rule it reports), the policy's secret rule files included.
pub fn used_by(
    findings: &[pipeguard_core::Finding],
    policy: &pipeguard_core::Policy,
) -> anyhow::Result<Vec<RuleDoc>> {
    let ids: std::collections::HashSet<&str> =
        findings.iter().map(|f| f.rule_id.as_str()).collect();
    let scanner = analyze::scanner(policy, Path::new("."))?;
    Ok(all(&scanner)?
        .into_iter()
        .filter(|r| ids.contains(r.id.as_str()))
        .collect())
}
