//! Who makes a call: jobs (and the tasks, resources and subscriptions over them) belong to the principal
//! that started them, and a principal sees only its own unless it is an operator.

use std::sync::Arc;

/// The caller behind a call.
///
/// - `local`: stdio sessions and the CLI, i.e. the local user (every process on one data dir).
/// - a named token (`PIPETTE_TOKEN` is `token`; `PIPETTE_TOKENS_FILE` names each), possibly an operator.
/// - `session-…`: an HTTP session without a token, one principal per session.
/// - `anonymous`: an HTTP request without a token and without a session (2026-07-28 stateless requests);
///   it may follow a job by its (unguessable) id but never lists or prunes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    name: Arc<str>,
    operator: bool,
}

impl Default for Principal {
    fn default() -> Self {
        Principal::local()
    }
}

impl Principal {
    /// The name of the local user's principal.
    pub const LOCAL: &'static str = "local";
    /// The name of the principal of stateless requests without a token.
    pub const ANONYMOUS: &'static str = "anonymous";

    /// The local user: stdio sessions and the CLI.
    pub fn local() -> Principal {
        Principal { name: Arc::from(Self::LOCAL), operator: false }
    }

    /// A stateless request without a token.
    pub fn anonymous() -> Principal {
        Principal { name: Arc::from(Self::ANONYMOUS), operator: false }
    }

    /// A named principal (a token's name, or a session's); an operator sees every principal's jobs.
    pub fn named(name: impl Into<Arc<str>>, operator: bool) -> Principal {
        Principal { name: name.into(), operator }
    }

    /// Its name, as recorded as the owner of its jobs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it sees every principal's jobs.
    pub fn is_operator(&self) -> bool {
        self.operator
    }

    /// Whether it may read or cancel something owned by `owner`.
    pub fn may_access(&self, owner: &str) -> bool {
        self.operator || *self.name == *owner
    }

    /// Whether it may list (and prune) what it owns; anonymous callers have nothing to list.
    pub fn may_list(&self) -> bool {
        self.operator || *self.name != *Self::ANONYMOUS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_see_their_own_and_operators_see_all() {
        let a = Principal::named("alice", false);
        assert!(a.may_access("alice"));
        assert!(!a.may_access("bob"));
        assert!(!a.may_access(Principal::LOCAL));
        let op = Principal::named("ops", true);
        assert!(op.may_access("alice") && op.may_access(Principal::LOCAL));
        assert!(!Principal::anonymous().may_list());
        assert!(Principal::local().may_list());
        assert_eq!(Principal::default(), Principal::local());
    }
}
