//! Metrics export: the Prometheus recorder the binaries install, and a JSON view of what it holds.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

/// The installed exporter. Cheap to clone.
#[derive(Clone)]
pub struct MetricsExporter {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for MetricsExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsExporter")
    }
}

static INSTALLED: OnceLock<Result<MetricsExporter, String>> = OnceLock::new();

/// One series: its labels and value, or for a summary its count, sum and quantiles.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Series {
    /// The labels.
    pub labels: BTreeMap<String, String>,
    /// Counter or gauge value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Observations (summaries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
    /// Sum of observations (summaries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    /// Quantiles by name (`p50`, `p95`, `p99`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub quantiles: BTreeMap<String, f64>,
}

impl MetricsExporter {
    /// Installs the process-wide Prometheus recorder once; later calls return the same exporter.
    pub fn install() -> Result<MetricsExporter, String> {
        INSTALLED
            .get_or_init(|| {
                PrometheusBuilder::new()
                    .set_quantiles(&[0.5, 0.95, 0.99])
                    .map_err(|e| e.to_string())?
                    .install_recorder()
                    .map(|handle| {
                        // Histograms keep their samples until upkeep drains them: without it memory grows
                        // with every call (install_recorder leaves upkeep to the caller).
                        let upkeep = handle.clone();
                        let spawned =
                            std::thread::Builder::new().name("pipette-metrics-upkeep".into()).spawn(
                                move || loop {
                                    std::thread::sleep(std::time::Duration::from_secs(5));
                                    upkeep.run_upkeep();
                                },
                            );
                        if let Err(e) = spawned {
                            tracing::warn!(error = %e, "cannot start the metrics upkeep thread");
                        }
                        MetricsExporter { handle }
                    })
                    .map_err(|e| format!("cannot install the metrics recorder: {e}"))
            })
            .clone()
    }

    /// The Prometheus text exposition.
    pub fn prometheus_text(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// The same metrics as JSON: metric name → series.
    pub fn json(&self) -> BTreeMap<String, Vec<Series>> {
        parse_exposition(&self.prometheus_text())
    }
}

/// Reads the exporter's text exposition back into series (summary lines are folded into one series).
fn parse_exposition(text: &str) -> BTreeMap<String, Vec<Series>> {
    let mut out: BTreeMap<String, BTreeMap<String, Series>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let Some((head, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        let (name, label_text) = match head.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (head, ""),
        };
        let mut labels = BTreeMap::new();
        for pair in split_labels(label_text) {
            if let Some((k, v)) = pair.split_once('=') {
                labels.insert(k.to_owned(), v.trim_matches('"').replace("\\\"", "\"").replace("\\\\", "\\"));
            }
        }
        let quantile = labels.remove("quantile");
        let (base, field) = if let Some(b) = name.strip_suffix("_count") {
            (b, "count")
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, "sum")
        } else {
            (name, "value")
        };
        let key = serde_json::to_string(&labels).unwrap_or_default();
        let series = out
            .entry(base.to_owned())
            .or_default()
            .entry(key)
            .or_insert_with(|| Series { labels: labels.clone(), ..Series::default() });
        match (field, quantile) {
            ("count", _) => series.count = Some(value),
            ("sum", _) => series.sum = Some(value),
            (_, Some(q)) => {
                let pct = q.parse::<f64>().map(|q| format!("p{}", (q * 100.0).round())).unwrap_or(q);
                series.quantiles.insert(pct, value);
            }
            _ => series.value = Some(value),
        }
    }
    out.into_iter().map(|(k, v)| (k, v.into_values().collect())).collect()
}

/// Splits `a="x",b="y,z"` on the commas outside quotes.
fn split_labels(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_reads_back_into_series() {
        let text = "# TYPE pipette_tool_calls_total counter\n\
            pipette_tool_calls_total{tool=\"health\",category=\"ops\"} 3\n\
            # TYPE pipette_tool_duration_seconds summary\n\
            pipette_tool_duration_seconds{tool=\"health\",category=\"ops\",quantile=\"0.5\"} 0.001\n\
            pipette_tool_duration_seconds{tool=\"health\",category=\"ops\",quantile=\"0.99\"} 0.004\n\
            pipette_tool_duration_seconds_sum{tool=\"health\",category=\"ops\"} 0.006\n\
            pipette_tool_duration_seconds_count{tool=\"health\",category=\"ops\"} 3\n\
            pipette_plain 7\n";
        let m = parse_exposition(text);
        assert_eq!(m["pipette_tool_calls_total"][0].value, Some(3.0));
        assert_eq!(m["pipette_tool_calls_total"][0].labels["tool"], "health");
        let d = &m["pipette_tool_duration_seconds"][0];
        assert_eq!((d.count, d.sum), (Some(3.0), Some(0.006)));
        assert_eq!(d.quantiles["p50"], 0.001);
        assert_eq!(d.quantiles["p99"], 0.004);
        assert_eq!(m["pipette_plain"][0].value, Some(7.0));
        assert_eq!(split_labels("a=\"x,y\",b=\"z\""), vec!["a=\"x,y\"", "b=\"z\""]);
    }
}
