//! Who may call over HTTP: the bearer tokens of `PIPETTE_TOKEN`, `PIPETTE_TOKEN_FILE` and `PIPETTE_TOKENS_FILE`,
//! each one a named principal, compared in constant time.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};

use super::Authenticated;
use crate::ServerArgs;

/// The principal of the single token (`PIPETTE_TOKEN` or `PIPETTE_TOKEN_FILE`).
const SINGLE: &str = "token";

struct Principal {
    name: Arc<str>,
    token: Box<[u8]>,
    operator: bool,
}

/// Every token the server accepts. Empty: HTTP needs no token.
pub(crate) struct Principals(Vec<Principal>);

impl Principals {
    /// Reads the tokens the flags name. A file that cannot be read, an empty token file or a malformed line of
    /// the tokens file is an error that names the file (and the line), never the token.
    pub(crate) fn from_args(args: &ServerArgs) -> anyhow::Result<Principals> {
        let mut all = Vec::new();
        if let Some(token) = args.token.as_deref().filter(|t| !t.is_empty()) {
            all.push(Principal { name: SINGLE.into(), token: token.as_bytes().into(), operator: false });
        }
        if let Some(path) = &args.token_file {
            let text = read(path, "PIPETTE_TOKEN_FILE (--token-file)")?;
            let token = text.trim();
            if token.is_empty() {
                bail!(
                    "PIPETTE_TOKEN_FILE (--token-file) {} is empty: expected the bearer token",
                    path.display()
                );
            }
            all.push(Principal { name: SINGLE.into(), token: token.as_bytes().into(), operator: false });
        }
        if let Some(path) = &args.tokens_file {
            let text = read(path, "PIPETTE_TOKENS_FILE (--tokens-file)")?;
            let named = parse_tokens(&text)
                .with_context(|| format!("PIPETTE_TOKENS_FILE (--tokens-file) {}", path.display()))?;
            if named.is_empty() {
                bail!(
                    "PIPETTE_TOKENS_FILE (--tokens-file) {} holds no token: expected lines `NAME TOKEN` or \
                     `NAME TOKEN operator`",
                    path.display()
                );
            }
            all.extend(named);
        }
        Ok(Principals(all))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The principal whose token is `presented`. Every token is compared, in constant time for its length,
    /// whatever matched before.
    pub(crate) fn authenticate(&self, presented: &[u8]) -> Option<Authenticated> {
        let mut found = None;
        for p in &self.0 {
            if constant_time_eq(presented, &p.token) && found.is_none() {
                found = Some(Authenticated { principal: p.name.clone(), operator: p.operator });
            }
        }
        found
    }
}

fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{what}: reading {}", path.display()))
}

/// One principal per line: `NAME TOKEN` or `NAME TOKEN operator`; `#` comments and blank lines are skipped.
fn parse_tokens(text: &str) -> anyhow::Result<Vec<Principal>> {
    let mut out: Vec<Principal> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let operator = match words.as_slice() {
            [_, _] => false,
            [_, _, "operator"] => true,
            [_, _, _] => bail!("line {n}: the third word may only be `operator`"),
            _ => bail!("line {n}: expected `NAME TOKEN` or `NAME TOKEN operator` ({} words)", words.len()),
        };
        let (name, token) = (words[0], words[1]);
        if out.iter().any(|p| constant_time_eq(&p.token, token.as_bytes())) {
            bail!("line {n}: this token is already given to another line (each token is one principal)");
        }
        out.push(Principal { name: name.into(), token: token.as_bytes().into(), operator });
    }
    Ok(out)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(p: &Principals, token: &str) -> Option<(String, bool)> {
        p.authenticate(token.as_bytes()).map(|a| (a.principal.to_string(), a.operator))
    }

    #[test]
    fn named_tokens_are_principals() {
        let text = "# team\n\nalice  a-secret\n  bob b-secret operator  \n";
        let p = Principals(parse_tokens(text).unwrap());
        assert_eq!(who(&p, "a-secret"), Some(("alice".into(), false)));
        assert_eq!(who(&p, "b-secret"), Some(("bob".into(), true)));
        assert_eq!(who(&p, "a-secre"), None);
        assert_eq!(who(&p, ""), None);
    }

    #[test]
    fn malformed_lines_name_their_number_and_never_the_token() {
        for (text, line) in [
            ("alice\n", "line 1"),
            ("# c\nalice s3cr3t admin\n", "line 2"),
            ("a t1\nb t2 operator extra\n", "line 2"),
            ("a s3cr3t\n\nb s3cr3t\n", "line 3"),
        ] {
            let err = parse_tokens(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(line), "{text:?}: {err}");
            assert!(!err.contains("s3cr3t") && !err.contains("t2"), "{text:?} echoed a token: {err}");
        }
    }
}
