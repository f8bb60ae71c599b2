//! The token controls of a [`SandboxHandle`], typed: the same as `/sandbox/tokens` (see the
//! crate README). A test rotates a client's token with them: accept the old and the new one,
//! wait until [`token_uses`] of the new one grows, then accept only the new one.
//!
//! [`token_uses`]: SandboxHandle::token_uses

use crate::sandbox::SandboxHandle;

impl SandboxHandle {
    /// Accepts exactly these bearer tokens from now on (an empty list turns the check off).
    /// Requests already being served, open watches among them, are left alone.
    pub fn set_tokens(&self, tokens: &[&str]) {
        self.tokens.set(tokens.iter().map(|t| t.to_string()).collect());
    }

    /// The bearer tokens accepted now.
    pub fn tokens(&self) -> Vec<String> {
        self.tokens.accepted()
    }

    /// How many API requests carried `token` and were let through.
    pub fn token_uses(&self, token: &str) -> u64 {
        self.tokens.uses(token)
    }

    /// How many API requests were answered 401 for a missing or wrong token.
    pub fn unauthorized_count(&self) -> u64 {
        self.tokens.rejected()
    }
}
