//! Credentials at rest: the [`Sealer`] encrypts the secrets the metadata
//! store keeps (a tenant's database URL, which may hold a password) with a
//! key that lives outside the store.
//!
//! - Cipher: ChaCha20-Poly1305 (AEAD, via `ring`), a fresh random 96-bit
//!   nonce per value, the tenant id as associated data (a sealed value
//!   copied to another tenant's row does not open).
//! - Stored form: `enc:v1:<base64(nonce ‖ ciphertext ‖ tag)>`.
//! - Key: 32 bytes, given as 64 hex digits or base64 ([`SecretKey::parse`]).
//! - Rotation: a sealer may hold previous keys; values they open are
//!   re-sealed with the current key ([`AdapterStore::open_sealed`]
//!   does that for every tenant at open).
//!
//! [`AdapterStore::open_sealed`]: crate::AdapterStore::open_sealed

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use baas_core::error::{Error, Result};

/// The prefix of every sealed value (`v1`: ChaCha20-Poly1305, random nonce).
pub const SEALED_PREFIX: &str = "enc:v1:";

/// Length of a [`SecretKey`] in bytes.
pub const SECRET_KEY_LEN: usize = 32;

/// A 32-byte key for the [`Sealer`]. Its `Debug` output does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; SECRET_KEY_LEN]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

fn key_error(message: impl Into<String>) -> Error {
    Error::validation("/secret_key", message)
}

impl SecretKey {
    /// A key from its raw bytes.
    pub fn from_bytes(bytes: [u8; SECRET_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; SECRET_KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| key_error("the system random generator failed"))?;
        Ok(Self(bytes))
    }

    /// Read a key written as 64 hex digits or as base64 (standard or
    /// URL-safe, padded or not) of 32 bytes; surrounding whitespace is
    /// ignored. The error never repeats the text.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let bytes = if text.len() == 2 * SECRET_KEY_LEN
            && text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            (0..SECRET_KEY_LEN)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<std::result::Result<Vec<u8>, _>>()
                .map_err(|_| key_error("the secret key is not valid hex"))?
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(text).ok())
                .ok_or_else(|| {
                    key_error(format!(
                        "the secret key must be {SECRET_KEY_LEN} bytes written as 64 hex digits or base64"
                    ))
                })?
        };
        let bytes: [u8; SECRET_KEY_LEN] = bytes.try_into().map_err(|b: Vec<u8>| {
            key_error(format!(
                "the secret key has {} bytes; it must have {SECRET_KEY_LEN}",
                b.len()
            ))
        })?;
        Ok(Self(bytes))
    }

    /// The key as base64 (the form [`parse`](Self::parse) reads back).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// A 32-byte key derived from this one for one purpose (HMAC-SHA256 of
    /// `context`): other subsystems (e.g. token signing) get keys of their
    /// own without the server keeping more secrets, and without learning
    /// this one.
    pub fn derive(&self, context: &[u8]) -> [u8; SECRET_KEY_LEN] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let tag = ring::hmac::sign(&key, context);
        let mut out = [0u8; SECRET_KEY_LEN];
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn aead(&self) -> LessSafeKey {
        // A 32-byte key is always valid for ChaCha20-Poly1305.
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &self.0)
            .unwrap_or_else(|_| unreachable!("ChaCha20-Poly1305 takes 32-byte keys"));
        LessSafeKey::new(unbound)
    }
}

/// A value read back by [`Sealer::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The plaintext.
    pub text: String,
    /// `true` when the stored form is not sealed with the current key (a
    /// plaintext value from before sealing, or one sealed with a previous
    /// key): it should be written again.
    pub stale: bool,
}

/// Seals and opens secrets with a current key and, for rotation, any
/// number of previous keys (tried in order when the current one fails).
pub struct Sealer {
    current: LessSafeKey,
    previous: Vec<LessSafeKey>,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("previous_keys", &self.previous.len())
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer with one key.
    pub fn new(key: &SecretKey) -> Self {
        Self {
            current: key.aead(),
            previous: Vec::new(),
            rng: SystemRandom::new(),
        }
    }

    /// Also open values sealed with `key` (a key being rotated out).
    pub fn with_previous(mut self, key: &SecretKey) -> Self {
        self.previous.push(key.aead());
        self
    }

    /// Whether `stored` is in the sealed form (whatever the key).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }

    /// Seal `plaintext`, bound to `context` (e.g. the tenant id): it only
    /// opens with the same context.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| key_error("the system random generator failed"))?;
        let mut in_out = plaintext.as_bytes().to_vec();
        self.current
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| key_error("sealing failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + in_out.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&in_out);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// Open a stored value. A value without the sealed prefix is plaintext
    /// from before sealing: returned as is, marked stale. `what` names the
    /// value in errors (never its content).
    pub fn open(&self, stored: &str, context: &str, what: &str) -> Result<Opened> {
        let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(Opened {
                text: stored.to_string(),
                stale: true,
            });
        };
        let raw = STANDARD
            .decode(encoded)
            .ok()
            .filter(|r| r.len() > NONCE_LEN)
            .ok_or_else(|| Error::Backend {
                message: format!("the metadata store holds a damaged sealed {what}"),
                source: None,
            })?;
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        for (i, key) in std::iter::once(&self.current)
            .chain(&self.previous)
            .enumerate()
        {
            let mut buf = sealed.to_vec();
            let Ok(nonce) = Nonce::try_assume_unique_for_key(nonce) else {
                break;
            };
            if let Ok(plain) = key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf) {
                let text = String::from_utf8(plain.to_vec()).map_err(|_| Error::Backend {
                    message: format!("the sealed {what} is not UTF-8"),
                    source: None,
                })?;
                return Ok(Opened { text, stale: i > 0 });
            }
        }
        Err(Error::Backend {
            message: format!(
                "the secret key does not open the sealed {what}: it was sealed with another key (give the key it was sealed with, or that key as the previous key to rotate)"
            ),
            source: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SecretKey {
        SecretKey::from_bytes([b; SECRET_KEY_LEN])
    }

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let s = Sealer::new(&key(1));
        let a = s.seal("postgres://u:pw@h/db", "acme").unwrap();
        let b = s.seal("postgres://u:pw@h/db", "acme").unwrap();
        // (Not `!a.contains("pw")`: random base64 holds "pw" about once in
        // eighty seals; the secret must not appear, nor the plaintext.)
        assert!(a.starts_with(SEALED_PREFIX) && !a.contains("u:pw@") && !a.contains("postgres"));
        assert_ne!(a, b, "a random nonce per value");
        let o = s.open(&a, "acme", "URL").unwrap();
        assert_eq!((o.text.as_str(), o.stale), ("postgres://u:pw@h/db", false));
    }

    #[test]
    fn wrong_key_and_wrong_context_fail_clearly() {
        let sealed = Sealer::new(&key(1)).seal("secret", "acme").unwrap();
        let err = Sealer::new(&key(2))
            .open(&sealed, "acme", "URL of tenant `acme`")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not open"), "{err}");
        assert!(Sealer::new(&key(1)).open(&sealed, "other", "URL").is_err());
        let damaged = format!("{SEALED_PREFIX}!!!");
        let err = Sealer::new(&key(1))
            .open(&damaged, "acme", "URL")
            .unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }

    #[test]
    fn previous_keys_open_and_mark_stale() {
        let old = Sealer::new(&key(1)).seal("secret", "t").unwrap();
        let s = Sealer::new(&key(2)).with_previous(&key(1));
        let o = s.open(&old, "t", "URL").unwrap();
        assert_eq!((o.text.as_str(), o.stale), ("secret", true));
        let plain = s.open("sqlite:x.db", "t", "URL").unwrap();
        assert!(plain.stale);
    }

    #[test]
    fn keys_parse_from_hex_and_base64_only_when_32_bytes() {
        let k = SecretKey::generate().unwrap();
        assert_eq!(
            SecretKey::parse(&format!("{}\n", k.to_base64())).unwrap(),
            k
        );
        let hex = "00".repeat(31) + "ff";
        let mut want = [0u8; 32];
        want[31] = 0xff;
        assert_eq!(SecretKey::parse(&hex).unwrap(), SecretKey::from_bytes(want));
        for bad in ["", "short", &"zz".repeat(32), &STANDARD.encode([0u8; 16])] {
            let err = SecretKey::parse(bad).unwrap_err().to_string();
            assert!(!bad.is_empty() || err.contains("32"), "{err}");
        }
        assert_eq!(format!("{k:?}"), "SecretKey(***)");
    }
}
