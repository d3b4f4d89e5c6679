//! The team stack in `deploy/`: the Prometheus alerting rules pass `promtool check rules` and their unit tests
//! (`promtool test rules`), and every metric a rule or a Grafana panel names is one pipette exports, used the way
//! it is exported (summaries by `quantile`, `_sum` or `_count`; never `_bucket`). Every panel's query is valid
//! PromQL (promtool checks them as recording rules).
//!
//! promtool comes from the Debian package `prometheus` (`.ci/run` installs it); without it these tests fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn promtool(args: &[&str], dir: &Path) -> String {
    #[allow(clippy::disallowed_methods)] // the test runs the real promtool
    let out = Command::new("promtool").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("cannot run promtool ({e}): install the Debian package `prometheus` (.ci/run does)")
    });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool {} failed:\n{text}", args.join(" "));
    text
}

/// Names pipette exports, with how: counter, gauge or summary.
fn exported() -> BTreeMap<&'static str, &'static str> {
    mcp_tools::exported_metrics().collect()
}

/// Every `pipette_*` metric an expression names, checked against what pipette exports.
fn check_names(
    expr: &str,
    exported: &BTreeMap<&str, &str>,
    wrong: &mut Vec<String>,
    used: &mut BTreeSet<String>,
) {
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("pipette_") {
        let start = i + at;
        let boundary = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = expr[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(expr.len(), |n| start + n);
        i = end;
        if !boundary {
            continue;
        }
        let name = &expr[start..end];
        let base = ["_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|b| exported.get(b) == Some(&"summary")))
            .unwrap_or(name);
        match exported.get(base) {
            None => wrong.push(format!("`{name}` is not a metric pipette exports (in `{expr}`)")),
            Some(kind) => {
                used.insert(base.to_owned());
                let selector = &expr[end..];
                let labels = selector.strip_prefix('{').and_then(|s| s.split('}').next()).unwrap_or("");
                if *kind == "summary" && base == name && !labels.contains("quantile=") {
                    wrong.push(format!("summary `{name}` read without a quantile (in `{expr}`)"));
                }
                if *kind == "gauge" && expr[..start].trim_end().ends_with("rate(") {
                    wrong.push(format!("gauge `{name}` under rate() (in `{expr}`)"));
                }
            }
        }
    }
    for q in expr.split("quantile=\"").skip(1) {
        let q = q.split('"').next().unwrap_or("");
        if !["0.5", "0.95", "0.99"].contains(&q) {
            wrong.push(format!("quantile {q} is not exported (0.5, 0.95, 0.99) (in `{expr}`)"));
        }
    }
}

/// The `expr:` values of a rules file (block scalars `|` included).
fn rule_exprs(yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = yaml.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((indent, rest)) = line.split_once("expr:") else { continue };
        if !indent.trim().is_empty() {
            continue;
        }
        let rest = rest.trim();
        if rest == "|" || rest == ">-" || rest == "|-" {
            let mut expr = String::new();
            while let Some(next) = lines.peek() {
                if next.len() - next.trim_start().len() <= indent.len() && !next.trim().is_empty() {
                    break;
                }
                expr.push_str(next.trim());
                expr.push(' ');
                lines.next();
            }
            out.push(expr.trim().to_owned());
        } else {
            out.push(rest.to_owned());
        }
    }
    out
}

#[test]
fn prometheus_rules_pass_promtool_check_and_their_unit_tests() {
    let dir = deploy().join("prometheus");
    let checked = promtool(&["check", "rules", "alerts.yml"], &dir);
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool(&["test", "rules", "alerts.test.yml"], &dir);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

#[test]
fn prometheus_rules_name_only_exported_metrics() {
    let yaml = std::fs::read_to_string(deploy().join("prometheus/alerts.yml"))
        .expect("deploy/prometheus/alerts.yml");
    let exprs = rule_exprs(&yaml);
    assert!(exprs.len() >= 8, "expected the alert rules, found {} expressions", exprs.len());
    let exported = exported();
    let (mut wrong, mut used) = (Vec::new(), BTreeSet::new());
    for expr in &exprs {
        check_names(expr, &exported, &mut wrong, &mut used);
    }
    assert!(wrong.is_empty(), "alerts.yml:\n{}", wrong.join("\n"));
    let names: BTreeSet<&str> = yaml.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).collect();
    for name in [
        "PipetteToolErrorRate",
        "PipetteToolLatencyBudget",
        "PipetteUpstreamErrorRate",
        "PipetteCircuitOpen",
        "PipetteUpstreamThrottled",
        "PipetteRateLimitSaturated",
        "PipetteJobsFailing",
        "PipetteDiskFilling",
    ] {
        assert!(names.contains(name), "alerts.yml lacks {name}: {names:?}");
    }
}

#[test]
fn grafana_dashboard_panels_name_exported_metrics_and_valid_promql() {
    let text =
        std::fs::read_to_string(deploy().join("grafana/pipette.json")).expect("deploy/grafana/pipette.json");
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert_eq!(dash["uid"], "pipette-overview");
    let panels = dash["panels"].as_array().expect("panels");
    let exported = exported();
    let (mut wrong, mut used) = (Vec::new(), BTreeSet::new());
    let mut ids = BTreeSet::new();
    let mut exprs = Vec::new();
    for panel in panels {
        let id = panel["id"].as_u64().expect("every panel has a numeric id");
        assert!(ids.insert(id), "panel id {id} used twice");
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap_or(99), grid["w"].as_u64().unwrap_or(99));
        assert!(x + w <= 24, "panel {} sticks out of the 24-column grid", panel["title"]);
        if panel["type"] == "row" {
            continue;
        }
        assert!(panel["title"].as_str().is_some_and(|t| !t.is_empty()), "panel {id} has no title");
        let targets = panel["targets"].as_array().filter(|t| !t.is_empty());
        let targets = targets.unwrap_or_else(|| panic!("panel {} has no queries", panel["title"]));
        for target in targets {
            let expr = target["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("a query of {} has no expr", panel["title"]));
            check_names(expr, &exported, &mut wrong, &mut used);
            exprs.push(expr.to_owned());
        }
    }
    assert!(wrong.is_empty(), "pipette.json:\n{}", wrong.join("\n"));
    // The panels the /status page has: tools, upstreams, cache, jobs, indexes.
    for needed in [
        "pipette_tool_calls_total",
        "pipette_tool_errors_total",
        "pipette_tool_duration_seconds",
        "pipette_upstream_circuit_state",
        "pipette_upstream_requests_total",
        "pipette_upstream_rate_limit_wait_seconds",
        "pipette_cache_lookups_total",
        "pipette_jobs_finished_total",
        "pipette_index_query_seconds",
    ] {
        assert!(used.contains(needed), "no panel shows {needed}");
    }

    // Every query is valid PromQL: promtool checks them as recording rules, with Grafana's variables filled in.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, expr) in exprs.iter().enumerate() {
        let expr = expr.replace("$__rate_interval", "5m").replace("$instance", ".*");
        rules.push_str(&format!(
            "      - record: pipette:dashboard_query_{i}\n        expr: {}\n",
            serde_json::json!(expr)
        ));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("dashboard.yml"), rules).expect("write");
    let checked = promtool(&["check", "rules", "dashboard.yml"], dir.path());
    assert!(checked.contains(&format!("SUCCESS: {} rules found", exprs.len())), "{checked}");
}
