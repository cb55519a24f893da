//! Password hashing (argon2id, the crate's default parameters: 19 MiB, 2
//! passes) on a few threads of its own, so that hashing never blocks the
//! async runtime and at most that many hashes (and their memory) are in
//! flight; the others wait their turn asynchronously, up to
//! [`MAX_PENDING`] at once (beyond, 429: a flood from many addresses cannot
//! pile up requests, and their bodies, without bound).
//!
//! A sign-in for an account that does not exist verifies the password
//! against a dummy hash made with the same parameters, so that it takes as
//! long as a wrong password.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::{Semaphore, oneshot};

use super::error::AuthError;

/// Longest password accepted, in bytes.
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;
/// Hashes waiting or running at most.
pub(crate) const MAX_PENDING: usize = 512;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads.
pub(crate) struct Passwords {
    jobs: Mutex<mpsc::Sender<Job>>,
    slots: Arc<Semaphore>,
    pending: Arc<AtomicUsize>,
    dummy: String,
}

/// One pending hash, counted until dropped (done or abandoned).
struct Pending(Arc<AtomicUsize>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("pending", &self.pending.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// Start `threads` hashing threads (at least one) and make the dummy
    /// hash. The threads end when this is dropped.
    pub async fn start(threads: usize) -> Result<Self, AuthError> {
        let threads = threads.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("baas-auth-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                })
                .map_err(AuthError::internal)?;
        }
        let mut this = Self {
            jobs: Mutex::new(tx),
            slots: Arc::new(Semaphore::new(threads)),
            pending: Arc::new(AtomicUsize::new(0)),
            dummy: String::new(),
        };
        let filler = super::tokens::random::<32>()?;
        this.dummy = this.hash(filler.to_vec()).await?;
        Ok(this)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let pending = Pending(self.pending.clone());
        if self.pending.fetch_add(1, Ordering::AcqRel) >= MAX_PENDING {
            return Err(AuthError::rate_limited(Duration::from_secs(1)));
        }
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(AuthError::internal)?;
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
            drop(permit);
            drop(pending);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| AuthError::internal("the password hashing threads are gone"))?;
        rx.await
            .map_err(|_| AuthError::internal("a password hashing job failed"))
    }

    /// The argon2id PHC string of `password`.
    pub async fn hash(&self, password: Vec<u8>) -> Result<String, AuthError> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_slice())
                .map(|h| h.to_string())
        })
        .await?
        .map_err(AuthError::internal)
    }

    /// Whether `password` matches `hash`; without a hash, the dummy one is
    /// checked (and the answer is `false`). A hash that is not argon2's
    /// never matches.
    pub async fn verify(&self, password: Vec<u8>, hash: Option<String>) -> Result<bool, AuthError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.clone());
        let ok = self
            .run(move || {
                Argon2::default()
                    .verify_password(password.as_slice(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(ok && known)
    }
}

/// Why a password is too weak (GoTrue's `weak_password` error), if it is.
pub(crate) fn weakness(password: &str, min_length: usize) -> Option<AuthError> {
    if password.chars().count() < min_length {
        let mut e = AuthError::unprocessable(
            "weak_password",
            format!("Password should be at least {min_length} characters."),
        );
        e.reasons = vec!["length"];
        return Some(e);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Some(AuthError::validation(format!(
            "Password cannot be longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let p = Passwords::start(2).await.unwrap();
        let h = p.hash(b"correct horse".to_vec()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            p.verify(b"correct horse".to_vec(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!p.verify(b"wrong".to_vec(), Some(h)).await.unwrap());
        assert!(!p.verify(b"x".to_vec(), None).await.unwrap());
        assert!(
            !p.verify(b"x".to_vec(), Some("not a hash".into()))
                .await
                .unwrap()
        );
        assert!(weakness("12345", 6).is_some());
        assert!(weakness("123456", 6).is_none());
        assert_eq!(
            weakness(&"x".repeat(2000), 6).unwrap().code,
            "validation_failed"
        );
    }
}
