//! Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256 of
//! `{webhook-id}.{webhook-timestamp}.{body}` under the secret's bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use twinsync_core::secret::Secret;

/// A `whsec_` secret that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// It does not start with `whsec_`.
    #[error("a webhook secret starts with `whsec_` (make one with `twinsync notify secret`)")]
    Prefix,
    /// What follows `whsec_` is not base64.
    #[error("a webhook secret is `whsec_` and base64 (make one with `twinsync notify secret`)")]
    Base64,
    /// It is too short to sign with.
    #[error("a webhook secret holds at least 24 bytes (make one with `twinsync notify secret`)")]
    Short,
}

/// The key bytes of a `whsec_` secret; never printed.
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

impl SigningKey {
    /// Reads a `whsec_...` secret.
    pub fn from_secret(secret: &Secret) -> Result<SigningKey, SigningError> {
        let b64 = secret.expose().trim().strip_prefix("whsec_").ok_or(SigningError::Prefix)?;
        let bytes = STANDARD.decode(b64).map_err(|_| SigningError::Base64)?;
        if bytes.len() < 24 {
            return Err(SigningError::Short);
        }
        Ok(SigningKey(bytes))
    }
}

/// The `webhook-signature` header value for a message.
pub fn sign(key: &SigningKey, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// A fresh `whsec_` secret: 32 random bytes from the operating system.
pub fn new_secret() -> Secret {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system gives random bytes");
    Secret::new(format!("whsec_{}", STANDARD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification (webhook-signature section).
        let key = SigningKey::from_secret(&Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn bad_secrets_are_refused_without_echoing_them() {
        for (s, e) in [
            ("MfKQ9r8G", SigningError::Prefix),
            ("whsec_!!!", SigningError::Base64),
            ("whsec_YWJj", SigningError::Short),
        ] {
            let err = SigningKey::from_secret(&Secret::new(s)).unwrap_err();
            assert_eq!(err, e);
            assert!(!err.to_string().contains(s), "{err}");
        }
        let fresh = new_secret();
        assert!(SigningKey::from_secret(&fresh).is_ok());
        assert_ne!(fresh.expose(), new_secret().expose());
        assert!(!format!("{:?}", SigningKey::from_secret(&fresh).unwrap()).contains(&fresh.expose()[6..]));
    }
}
