//! The alert rules' thresholds and the evaluation interval, from `PIPETTE_ALERT_*` (docs/alerts.md).

use std::time::Duration;

use tool_metadata::ToolError;

/// Thresholds and windows of the alert rules. The defaults match `deploy/prometheus/alerts.yml`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertConfig {
    /// How often the rules are evaluated (and the metrics sampled): `PIPETTE_ALERT_INTERVAL_MS`, 15 s.
    pub interval: Duration,
    /// The window of the rate rules: `PIPETTE_ALERT_WINDOW_SECONDS`, 5 min.
    pub window: Duration,
    /// The window of `PipetteJobsFailing`: `PIPETTE_ALERT_JOBS_WINDOW_SECONDS`, 15 min.
    pub jobs_window: Duration,
    /// `PipetteToolErrorRate` warns above this share of failed calls: `PIPETTE_ALERT_TOOL_ERROR_RATIO`, 0.10.
    pub tool_error_ratio: f64,
    /// … and is critical from this share: `PIPETTE_ALERT_TOOL_ERROR_CRITICAL`, 0.50.
    pub tool_error_critical: f64,
    /// … with at least this many calls in the window: `PIPETTE_ALERT_TOOL_MIN_CALLS`, 10.
    pub tool_min_calls: f64,
    /// `PipetteToolLatencyBudget`: a tool's budget is this share of its declared timeout
    /// (`timeout_seconds`): `PIPETTE_ALERT_LATENCY_BUDGET_RATIO`, 0.5.
    pub latency_budget_ratio: f64,
    /// `PipetteUpstreamErrorRate` warns above this share of failed requests: `PIPETTE_ALERT_UPSTREAM_ERROR_RATIO`,
    /// 0.20.
    pub upstream_error_ratio: f64,
    /// … with at least this many requests in the window: `PIPETTE_ALERT_UPSTREAM_MIN_REQUESTS`, 10.
    pub upstream_min_requests: f64,
    /// `PipetteRateLimitSaturated`: the p50 wait for an upstream's rate limit above this many seconds:
    /// `PIPETTE_ALERT_RATE_LIMIT_WAIT_SECONDS`, 1.
    pub rate_limit_wait_seconds: f64,
    /// `PipetteDiskFilling` warns above this share of the data dir's file system used:
    /// `PIPETTE_ALERT_DISK_WARNING`, 0.90.
    pub disk_warning: f64,
    /// … and is critical above this share: `PIPETTE_ALERT_DISK_CRITICAL`, 0.95.
    pub disk_critical: f64,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            interval: Duration::from_secs(15),
            window: Duration::from_secs(300),
            jobs_window: Duration::from_secs(900),
            tool_error_ratio: 0.10,
            tool_error_critical: 0.50,
            tool_min_calls: 10.0,
            latency_budget_ratio: 0.5,
            upstream_error_ratio: 0.20,
            upstream_min_requests: 10.0,
            rate_limit_wait_seconds: 1.0,
            disk_warning: 0.90,
            disk_critical: 0.95,
        }
    }
}

impl AlertConfig {
    /// The defaults with the `PIPETTE_ALERT_*` overrides of the process environment.
    pub fn from_env() -> Result<AlertConfig, ToolError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The defaults with the overrides read through `lookup`; a malformed value is an error naming it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<AlertConfig, ToolError> {
        let mut c = AlertConfig::default();
        let number = |name: &str, min: f64, max: f64| -> Result<Option<f64>, ToolError> {
            let Some(raw) = lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            match raw.parse::<f64>() {
                Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(Some(v)),
                _ => Err(ToolError::invalid_argument(
                    name,
                    format!("expected a number from {min} to {max}, got `{raw}`"),
                )),
            }
        };
        let ms = |name: &str, min: f64, scale: f64| -> Result<Option<Duration>, ToolError> {
            Ok(number(name, min, 86_400_000.0 / scale)?.map(|v| Duration::from_secs_f64(v * scale / 1000.0)))
        };
        if let Some(v) = ms("PIPETTE_ALERT_INTERVAL_MS", 10.0, 1.0)? {
            c.interval = v;
        }
        if let Some(v) = ms("PIPETTE_ALERT_WINDOW_SECONDS", 0.1, 1000.0)? {
            c.window = v;
        }
        if let Some(v) = ms("PIPETTE_ALERT_JOBS_WINDOW_SECONDS", 0.1, 1000.0)? {
            c.jobs_window = v;
        }
        for (name, slot, max) in [
            ("PIPETTE_ALERT_TOOL_ERROR_RATIO", &mut c.tool_error_ratio, 1.0),
            ("PIPETTE_ALERT_TOOL_ERROR_CRITICAL", &mut c.tool_error_critical, 1.0),
            ("PIPETTE_ALERT_TOOL_MIN_CALLS", &mut c.tool_min_calls, 1e9),
            ("PIPETTE_ALERT_LATENCY_BUDGET_RATIO", &mut c.latency_budget_ratio, 1e3),
            ("PIPETTE_ALERT_UPSTREAM_ERROR_RATIO", &mut c.upstream_error_ratio, 1.0),
            ("PIPETTE_ALERT_UPSTREAM_MIN_REQUESTS", &mut c.upstream_min_requests, 1e9),
            ("PIPETTE_ALERT_RATE_LIMIT_WAIT_SECONDS", &mut c.rate_limit_wait_seconds, 86_400.0),
            ("PIPETTE_ALERT_DISK_WARNING", &mut c.disk_warning, 1.0),
            ("PIPETTE_ALERT_DISK_CRITICAL", &mut c.disk_critical, 1.0),
        ] {
            if let Some(v) = number(name, 0.0, max)? {
                *slot = v;
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(env: &[(&str, &str)], expected: Result<AlertConfig, &str>) {
        let got =
            AlertConfig::from_lookup(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned()));
        match (got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(e), Err(needle)) => assert!(e.message.contains(needle), "{}", e.message),
            (got, want) => panic!("got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn thresholds_come_from_the_environment_and_bad_values_name_the_variable() {
        check(&[], Ok(AlertConfig::default()));
        check(
            &[
                ("PIPETTE_ALERT_INTERVAL_MS", "200"),
                ("PIPETTE_ALERT_WINDOW_SECONDS", "3"),
                ("PIPETTE_ALERT_DISK_WARNING", " 0.5 "),
            ],
            Ok(AlertConfig {
                interval: Duration::from_millis(200),
                window: Duration::from_secs(3),
                disk_warning: 0.5,
                ..AlertConfig::default()
            }),
        );
        check(&[("PIPETTE_ALERT_TOOL_ERROR_RATIO", "ten")], Err("PIPETTE_ALERT_TOOL_ERROR_RATIO"));
        check(&[("PIPETTE_ALERT_DISK_CRITICAL", "1.5")], Err("from 0 to 1"));
        check(&[("PIPETTE_ALERT_INTERVAL_MS", "0")], Err("PIPETTE_ALERT_INTERVAL_MS"));
    }
}
