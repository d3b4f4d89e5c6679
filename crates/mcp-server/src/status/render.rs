//! The status page's HTML: the shell once, and the live part (alerts, jobs, tools with inline-SVG charts,
//! upstreams, cache, indexes) for the page and for each refresh. Every value from outside is escaped.

use std::fmt::Write as _;

use mcp_tools::{Board, Point};

/// `s` safe inside HTML text and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn ms(v: f64) -> String {
    if v <= 0.0 {
        "–".to_owned()
    } else if v < 10.0 {
        format!("{v:.1} ms")
    } else if v < 10_000.0 {
        format!("{v:.0} ms")
    } else {
        format!("{:.1} s", v / 1000.0)
    }
}

fn count(v: f64) -> String {
    // An empty sum is -0.0.
    format!("{:.0}", v + 0.0)
}

fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{b} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// The time of day of an RFC 3339 stamp (`HH:MM:SS`), in a `<time>` element.
fn time(stamp: &str) -> String {
    let shown = stamp.get(11..19).unwrap_or(stamp);
    format!("<time datetime=\"{}\">{}</time>", esc(stamp), esc(shown))
}

/// The whole page: the shell around [`live`].
pub(super) fn page(board: &Board, refresh_ms: u64) -> String {
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pipette status</title>
<link rel="stylesheet" href="status/app.css">
</head>
<body>
<a class="skip" href="#live">Skip to the status</a>
<header class="top">
<h1>pipette status</h1>
<p class="controls"><button id="pause" type="button" aria-pressed="false">Pause updates</button>
<span id="connection" role="status" aria-live="polite"></span></p>
</header>
<main id="live" tabindex="-1" data-refresh-ms="{refresh_ms}">
{live}
</main>
<script src="status/app.js"></script>
</body>
</html>
"##,
        live = live(board)
    )
}

/// The live part: what the script swaps in at each refresh.
pub(super) fn live(b: &Board) -> String {
    let mut h = String::new();
    let critical = b.alerts.iter().filter(|a| a.severity == mcp_tools::Severity::Critical).count();
    let summary = match (b.alerts.len(), critical) {
        (0, _) => "All clear: no active alerts".to_owned(),
        (n, 0) => format!("{n} active alert{}", if n == 1 { "" } else { "s" }),
        (n, c) => format!("{n} active alert{}, {c} critical", if n == 1 { "" } else { "s" }),
    };
    let state = if critical > 0 {
        "critical"
    } else if b.alerts.is_empty() {
        "ok"
    } else {
        "warning"
    };
    let _ = write!(
        h,
        "<p class=\"summary {state}\" id=\"summary\" data-generated=\"{}\">{} · read at {} UTC · charts: the last {}</p>",
        esc(&b.generated_at),
        esc(&summary),
        time(&b.generated_at),
        span(b.history_seconds)
    );

    h.push_str("<section id=\"alerts\" aria-labelledby=\"alerts-h\"><h2 id=\"alerts-h\">Alerts</h2>");
    if b.alerts.is_empty() {
        h.push_str("<p class=\"empty\">No active alerts.</p>");
    } else {
        h.push_str("<ul class=\"alerts\">");
        for a in &b.alerts {
            let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = write!(
                h,
                "<li class=\"alert {sev}\" data-alert=\"{name}\" data-labels=\"{labels}\"><p><span class=\"badge {sev}\">{sev}</span> \
                 <strong>{name}</strong>{on} <span class=\"since\">since {since}</span></p><p class=\"cause\">{cause}</p>\
                 <p class=\"hint\">Hint: {hint}</p></li>",
                sev = a.severity.as_str(),
                name = esc(&a.name),
                labels = esc(&labels.join(",")),
                on = if labels.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", esc(&labels.join(", ")))
                },
                since = time(&a.started_at),
                cause = esc(&a.cause),
                hint = esc(&a.hint),
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");

    h.push_str("<section id=\"jobs\" aria-labelledby=\"jobs-h\"><h2 id=\"jobs-h\">Jobs</h2>");
    if b.jobs.is_empty() {
        h.push_str("<p class=\"empty\">No jobs yet.</p>");
    } else {
        table_start(&mut h, "Jobs, running first", &["Job", "Tool", "Status", "Progress", "Started"]);
        for j in &b.jobs {
            let progress = match (j.current, j.total) {
                (Some(c), Some(t)) if t > 0 => format!(
                    "<progress value=\"{c}\" max=\"{t}\" aria-label=\"{c} of {t}\">{c} of {t}</progress> <span class=\"num\">{c}/{t}</span>"
                ),
                (Some(c), _) => format!("<span class=\"num\">{c}</span>"),
                _ if j.status == "running" || j.status == "queued" => {
                    "<progress aria-label=\"working\"></progress>".to_owned()
                }
                _ => "–".to_owned(),
            };
            let message = j
                .message
                .as_deref()
                .map(|m| format!(" <span class=\"msg\">{}</span>", esc(m)))
                .unwrap_or_default();
            let _ = write!(
                h,
                "<tr data-job-id=\"{id}\" data-status=\"{status}\"><th scope=\"row\"><code class=\"id\">{id}</code></th><td>{tool}</td>\
                 <td><span class=\"badge {status}\">{status}</span></td><td class=\"progress\">{progress}{message}</td><td>{started}</td></tr>",
                id = esc(&j.job_id),
                tool = esc(&j.tool),
                status = esc(&j.status),
                started = time(&j.started_at),
            );
        }
        h.push_str("</tbody></table></div>");
    }
    h.push_str("</section>");

    h.push_str("<section id=\"tools\" aria-labelledby=\"tools-h\"><h2 id=\"tools-h\">Tools</h2>");
    if b.tools.is_empty() {
        h.push_str("<p class=\"empty\">No tool calls yet.</p>");
    } else {
        table_start(
            &mut h,
            "Tools: calls, errors and latency",
            &["Tool", "Calls", "Errors", "p50", "p99", "Calls, last hour", "p99, last hour"],
        );
        for t in &b.tools {
            let _ = write!(
                h,
                "<tr data-tool=\"{name}\"><th scope=\"row\">{name}</th><td class=\"num\" data-field=\"calls\">{calls}</td>\
                 <td class=\"num{err}\" data-field=\"errors\">{errors}</td><td class=\"num\">{p50}</td><td class=\"num\">{p99}</td>\
                 <td>{calls_chart}</td><td>{p99_chart}</td></tr>",
                name = esc(&t.tool),
                calls = count(t.calls),
                err = if t.errors > 0.0 { " bad" } else { "" },
                errors = count(t.errors),
                p50 = ms(t.p50_ms),
                p99 = ms(t.p99_ms),
                calls_chart =
                    sparkline(&t.history, |p| p.calls, Some(|p: &Point| p.errors), "calls", &t.tool),
                p99_chart = sparkline(&t.history, |p| p.p99_ms, None::<fn(&Point) -> f64>, "p99 ms", &t.tool),
            );
        }
        h.push_str("</tbody></table></div>");
    }
    h.push_str("</section>");

    h.push_str("<div class=\"grid\">");
    h.push_str(
        "<section id=\"upstreams\" aria-labelledby=\"upstreams-h\"><h2 id=\"upstreams-h\">Upstreams</h2>",
    );
    table_start(
        &mut h,
        "Upstreams: circuits, rate limits, errors",
        &["Service", "Circuit", "Requests", "Errors", "Rate-limit waits", "Last error"],
    );
    for u in &b.upstreams {
        let last = u
            .last_error
            .as_ref()
            .map(|e| format!("{} at {}", esc(&e.status), time(&e.at)))
            .unwrap_or_else(|| "–".to_owned());
        let failures = if u.consecutive_failures > 0 {
            format!(" <span class=\"msg\">{} failed in a row</span>", u.consecutive_failures)
        } else {
            String::new()
        };
        let waits = if u.rate_limited > 0.0 {
            format!("{} (p50 {})", count(u.rate_limited), ms(u.rate_limit_wait_p50_ms))
        } else {
            "–".to_owned()
        };
        let _ = write!(
            h,
            "<tr data-upstream=\"{s}\"><th scope=\"row\">{s}</th><td><span class=\"badge circuit-{c}\" data-field=\"circuit\">{circuit}</span>{failures}</td>\
             <td class=\"num\">{req} <span class=\"msg\">({recent} recent)</span></td><td class=\"num{bad}\" data-field=\"errors\">{err}</td>\
             <td class=\"num\">{waits}</td><td data-field=\"last-error\">{last}</td></tr>",
            s = esc(&u.service),
            c = esc(&u.circuit),
            circuit = esc(&u.circuit.replace('_', "-")),
            req = count(u.requests),
            recent = count(u.recent_requests),
            bad = if u.errors > 0.0 { " bad" } else { "" },
            err = count(u.errors),
        );
    }
    h.push_str("</tbody></table></div></section>");

    h.push_str("<section id=\"cache\" aria-labelledby=\"cache-h\"><h2 id=\"cache-h\">Cache</h2>");
    if b.cache.is_empty() {
        h.push_str("<p class=\"empty\">No cache lookups yet.</p>");
    } else {
        table_start(&mut h, "Cache hit rate per scope", &["Scope", "Hits", "Misses", "Hit rate"]);
        for c in &b.cache {
            let rate = c
                .hit_rate
                .map(|r| format!("<meter min=\"0\" max=\"1\" value=\"{r:.3}\" aria-label=\"hit rate\"></meter> {:.0} %", r * 100.0))
                .unwrap_or_else(|| "–".to_owned());
            let _ = write!(
                h,
                "<tr data-scope=\"{s}\"><th scope=\"row\">{s}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{rate}</td></tr>",
                count(c.hits),
                count(c.misses),
                s = esc(&c.scope),
            );
        }
        h.push_str("</tbody></table></div>");
    }
    h.push_str("</section>");

    h.push_str("<section id=\"indexes\" aria-labelledby=\"indexes-h\"><h2 id=\"indexes-h\">Indexes</h2>");
    if b.indexes.is_empty() {
        h.push_str("<p class=\"empty\">No indexes.</p>");
    } else {
        table_start(
            &mut h,
            "Indexes: size, documents, query latency",
            &["Index", "Documents", "Size", "Queries", "p50", "p99"],
        );
        for i in &b.indexes {
            let _ = write!(
                h,
                "<tr data-index=\"{id}\"><th scope=\"row\">{id}</th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                i.docs,
                bytes(i.bytes_on_disk),
                count(i.queries),
                ms(i.query_p50_ms),
                ms(i.query_p99_ms),
                id = esc(&i.id),
            );
        }
        h.push_str("</tbody></table></div>");
    }
    h.push_str("</section></div>");
    h
}

fn span(secs: u64) -> String {
    match secs {
        0 => "moment".to_owned(),
        s if s < 120 => format!("{s} s"),
        s => format!("{} min", s / 60),
    }
}

/// A table in a scrollable, keyboard-focusable region (narrow screens scroll it sideways).
fn table_start(h: &mut String, caption: &str, headers: &[&str]) {
    let _ = write!(
        h,
        "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"{}\"><table><caption>{}</caption><thead><tr>",
        esc(caption),
        esc(caption)
    );
    for head in headers {
        let _ = write!(h, "<th scope=\"col\">{}</th>", esc(head));
    }
    h.push_str("</tr></thead><tbody>");
}

/// An inline-SVG sparkline of `value` over the points (and of `bad` in the alarm colour when given).
fn sparkline(
    points: &[Point],
    value: impl Fn(&Point) -> f64,
    bad: Option<impl Fn(&Point) -> f64>,
    what: &str,
    tool: &str,
) -> String {
    const W: f64 = 120.0;
    const H: f64 = 24.0;
    if points.is_empty() {
        return "–".to_owned();
    }
    let max = points.iter().map(|p| value(p).max(bad.as_ref().map_or(0.0, |b| b(p)))).fold(0.0_f64, f64::max);
    let line = |f: &dyn Fn(&Point) -> f64| -> String {
        let n = points.len().max(2) - 1;
        points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let x = if points.len() == 1 { W } else { i as f64 * W / n as f64 };
                let y = if max > 0.0 { H - 1.0 - f(p) / max * (H - 2.0) } else { H - 1.0 };
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let last = points.last().map(&value).unwrap_or(0.0);
    let mut svg = format!(
        "<svg class=\"spark\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{} {what} over the last hour: latest {last:.0}, peak {max:.0}\"><polyline class=\"line\" points=\"{}\"/>",
        esc(tool),
        line(&value)
    );
    if let Some(b) = bad.as_ref().filter(|b| points.iter().any(|p| b(p) > 0.0)) {
        let _ = write!(svg, "<polyline class=\"bad\" points=\"{}\"/>", line(b));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_outside_are_escaped() {
        assert_eq!(
            esc("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(time("2026-12-03T18:04:05Z"), "<time datetime=\"2026-12-03T18:04:05Z\">18:04:05</time>");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(ms(0.0), "–");
        assert_eq!(count(Vec::<f64>::new().into_iter().sum()), "0");
    }
}
