//! Plans: what a tenant on each keeps and sees (docs/configuration.md). Four are built in; the
//! config file may change them or add more (`[plans.NAME]`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::AppError;

/// One plan.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Days events are kept, by `occurred_at`; absent means forever.
    pub retention_days: Option<u32>,
    /// Whether link access logs show IP, location, platform and e-mail (or dates only).
    #[serde(default = "yes")]
    pub link_detail: bool,
    /// Export formats allowed.
    #[serde(default = "all_formats")]
    pub exports: Vec<String>,
    /// Days a link's access events are kept after its `link.expired` / `link.revoked`.
    #[serde(default = "ninety")]
    pub link_log_days_after_end: u32,
}

fn yes() -> bool {
    true
}

fn ninety() -> u32 {
    90
}

fn all_formats() -> Vec<String> {
    ["csv", "xlsx", "pdf", "docx", "ndjson"].map(String::from).to_vec()
}

impl Plan {
    pub fn exports(&self, format: &str) -> bool {
        self.exports.iter().any(|f| f.eq_ignore_ascii_case(format))
    }
}

/// The four plans every Trail knows.
pub fn builtin() -> BTreeMap<String, Plan> {
    let plan = |days: Option<u32>, detail: bool, exports: &[&str]| Plan {
        retention_days: days,
        link_detail: detail,
        exports: exports.iter().map(|s| s.to_string()).collect(),
        link_log_days_after_end: 90,
    };
    BTreeMap::from([
        ("basic".into(), plan(Some(30), false, &["csv"])),
        ("professional".into(), plan(Some(365), true, &["csv", "xlsx", "pdf"])),
        ("business".into(), plan(Some(3 * 365), true, &["csv", "xlsx", "pdf", "docx", "ndjson"])),
        ("enterprise".into(), plan(None, true, &["csv", "xlsx", "pdf", "docx", "ndjson"])),
    ])
}

/// The plans that satisfy `ok`, the most modest first (fewest formats, then shortest
/// retention), for errors that name the plan needed.
pub fn plans_where(plans: &BTreeMap<String, Plan>, ok: impl Fn(&Plan) -> bool) -> Vec<&str> {
    let mut found: Vec<(&str, &Plan)> = plans.iter().filter(|(_, p)| ok(p)).map(|(n, p)| (n.as_str(), p)).collect();
    found.sort_by_key(|(name, p)| (p.exports.len(), p.retention_days.unwrap_or(u32::MAX), *name));
    found.into_iter().map(|(n, _)| n).collect()
}

/// The refusal of a format the tenant's plan does not export: it names the plans that do.
pub fn export_refused(plans: &BTreeMap<String, Plan>, current: &str, format: &str) -> Option<AppError> {
    let plan = plans.get(current)?;
    if plan.exports(format) {
        return None;
    }
    let allowed = plans_where(plans, |p| p.exports(format));
    let needed = match allowed.as_slice() {
        [] => "no plan on this server exports it".to_owned(),
        [one] => format!("it needs plan {one}"),
        [first, rest @ ..] => format!("it needs plan {first} or above ({})", rest.join(", ")),
    };
    Some(AppError::PlanRequired {
        format: format.to_owned(),
        message: format!(
            "this account's plan ({current}) does not export {}: {needed}; it exports {}",
            format.to_uppercase(),
            plan.exports.iter().map(|f| f.to_uppercase()).collect::<Vec<_>>().join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_needed_is_the_most_modest_first() {
        let plans = builtin();
        assert_eq!(plans_where(&plans, |p| p.exports("xlsx")), ["professional", "business", "enterprise"]);
        assert_eq!(plans_where(&plans, |p| p.exports("docx")), ["business", "enterprise"]);
        assert!(!plans["basic"].link_detail && plans["professional"].link_detail);
    }
}
