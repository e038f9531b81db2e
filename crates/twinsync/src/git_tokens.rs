//! Where a side's token comes from: the seam between a pair naming a credential
//! (`left_credential = "DOCS"`) and the token sent to its repository.
//!
//! The project answers through [`TokenSource`]: first the encrypted credential store
//! (`twinsync credentials add DOCS --provider documentation --secret-env VAR`, read with
//! `Project::credential_secret`, which refuses revoked and expired credentials), then,
//! for a name the store does not hold, the environment variable
//! `TWINSYNC_GIT_TOKEN_<NAME>` ([`EnvTokens`]: the name uppercased, other characters
//! than letters and digits as `_`), kept for hosts that inject secrets as variables
//! (CI). A token travels as a [`Secret`] and is never in the config, a log, an error or
//! a printed URL.

use twinsync_core::secret::Secret;

use crate::error::{Error, Result};
use crate::project::Project;

/// The prefix of the environment variable holding a named credential's token.
pub const TOKEN_ENV_PREFIX: &str = "TWINSYNC_GIT_TOKEN_";

/// Resolves a named credential to its token.
pub trait TokenSource {
    /// The token of credential `name`, or `None` when there is none of that name.
    fn token_for(&self, name: &str) -> Result<Option<Secret>>;
}

/// The interim [`TokenSource`]: environment variables `TWINSYNC_GIT_TOKEN_<NAME>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvTokens;

impl EnvTokens {
    /// The variable that holds credential `name`'s token.
    pub fn variable(name: &str) -> String {
        let upper: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        format!("{TOKEN_ENV_PREFIX}{upper}")
    }
}

impl TokenSource for EnvTokens {
    fn token_for(&self, name: &str) -> Result<Option<Secret>> {
        let var = EnvTokens::variable(name);
        match std::env::var(&var) {
            Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(Error::Core(twinsync_core::Error::InvalidInput(format!("{var} is not valid UTF-8"))))
            }
        }
    }
}

impl TokenSource for Project {
    fn token_for(&self, name: &str) -> Result<Option<Secret>> {
        match self.credential_secret(name) {
            Ok(token) => Ok(Some(token)),
            Err(Error::NoCredential { .. }) => EnvTokens.token_for(name),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_name_maps_to_one_variable_and_the_token_never_prints() {
        assert_eq!(EnvTokens::variable("docs-repo"), "TWINSYNC_GIT_TOKEN_DOCS_REPO");
        // A variable of this test's own: no other test reads or writes it.
        std::env::set_var("TWINSYNC_GIT_TOKEN_UNIT_TEST_CRED", "ghp_unit_secret");
        let t = EnvTokens.token_for("unit_test_cred").unwrap().unwrap();
        assert_eq!(t.expose(), "ghp_unit_secret");
        assert!(!format!("{t:?} {t}").contains("ghp_unit_secret"));
        assert!(EnvTokens.token_for("no_such_credential_here").unwrap().is_none());
    }
}
