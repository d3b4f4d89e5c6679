//! Secret-looking values never reach a job's visible record: its `arguments` are kept with every secret
//! replaced, and that is all `job_status`, `job_list`, `tasks/*` and `job://` ever show.
//!
//! A queued or running job must be runnable by another process (a worker claiming it, a dead runner's job
//! claimed again, `job_resume`), so its real arguments are kept beside the record, in the store's
//! `run_args` column, never shown and never logged: written when the job is queued or started, deleted
//! when it completes, fails or is cancelled, kept while it is `interrupted` (so it can be resumed) until it
//! is resumed or pruned. The store file is readable by its owner only (0600).

use serde_json::Value;

/// What a redacted value reads as.
pub(crate) const REDACTED: &str = "[redacted]";

/// Argument names whose values are environments: every value in them is redacted (names stay).
const ENV_KEYS: [&str; 3] = ["env", "environment", "headers"];

/// Whether a field name looks like it holds a secret: `*key*` as a word (`api_key`, `apiKey`, `key`, but not
/// `keywords`), `*token*`, `*secret*`, `*password*`, `passwd`, `authorization`, `credential*`, `cookie`.
pub(crate) fn secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if [
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "credential",
        "cookie",
        "apikey",
        "private_key",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return true;
    }
    // `key` as a word: split on non-alphanumerics and camelCase boundaries.
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, c) in name.char_indices() {
        let boundary = !c.is_ascii_alphanumeric()
            || (c.is_ascii_uppercase()
                && i > 0
                && name[..i].chars().last().is_some_and(|p| p.is_ascii_lowercase()));
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        }
    }
    words.push(word);
    words.iter().any(|w| w == "key" || w == "keys" || w == "pwd")
}

/// Whether a string value looks like a credential whatever its field (`Bearer …`, `Basic …`).
fn secret_value(s: &str) -> bool {
    let t = s.trim_start();
    t.starts_with("Bearer ") || t.starts_with("Basic ") || t.starts_with("bearer ")
}

/// `value` with every secret-looking value replaced by [`REDACTED`].
pub(crate) fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if secret_name(k) {
                        redact_all(v)
                    } else if ENV_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                        match v {
                            Value::Object(env) => Value::Object(
                                env.iter().map(|(name, val)| (name.clone(), redact_all(val))).collect(),
                            ),
                            other => redact_all(other),
                        }
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) if secret_value(s) => Value::String(REDACTED.into()),
        other => other.clone(),
    }
}

/// Every leaf of `value` redacted (null stays null, so "not given" still reads as such).
fn redact_all(value: &Value) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::Array(items) => Value::Array(items.iter().map(redact_all).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), redact_all(v))).collect()),
        _ => Value::String(REDACTED.into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_that_hold_secrets() {
        for name in [
            "api_key",
            "apiKey",
            "key",
            "OPENAI_API_KEY",
            "token",
            "access_token",
            "clientSecret",
            "password",
            "db_passwd",
            "Authorization",
            "credentials",
            "cookie",
            "ssh-key",
            "private_key",
        ] {
            assert!(secret_name(name), "{name} should be secret");
        }
        for name in ["keywords", "query", "max_results", "monkey_count", "path", "gene", "index"] {
            assert!(!secret_name(name), "{name} should not be secret");
        }
    }

    #[test]
    fn env_values_and_secret_fields_are_redacted_everywhere() {
        let args = json!({
            "path": "/p",
            "env": {"OPENAI_API_KEY": "sk-live-A-SECRET", "MODE": "fast"},
            "nested": [{"token": "t0k", "keep": "x", "auth": "Bearer abc"}],
            "headers": {"Authorization": "Basic zzz"},
            "api_key": null,
        });
        let out = redact(&args);
        let text = out.to_string();
        for secret in ["sk-live-A-SECRET", "fast", "t0k", "Bearer abc", "Basic zzz"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(out["path"], "/p");
        assert_eq!(out["env"]["OPENAI_API_KEY"], REDACTED);
        assert_eq!(out["nested"][0]["keep"], "x");
        assert_eq!(out["api_key"], Value::Null);
    }
}
