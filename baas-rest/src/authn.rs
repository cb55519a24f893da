//! Who is calling: the seam through which an authenticator (`baas-auth`)
//! turns a request's credentials into a [`Principal`], once, in the
//! service, for every route family and every framework.

use baas_engine::Principal;

use crate::RestError;

pub use baas_engine::ADMIN_ROLE;

/// Turns a request's credentials into the caller.
///
/// # Contract
/// - `tenant` is the tenant the request is for (`None` on routes outside a
///   tenant, such as `/_admin`);
/// - no credential at all is a caller too (anonymous): return its
///   principal, not an error;
/// - a credential that does not verify is an error (401), never a silent
///   downgrade to anonymous, so a client learns its token expired;
/// - answer from memory: this runs on every request.
#[async_trait::async_trait]
pub trait Authenticate: Send + Sync {
    /// The caller of a request for `tenant` with these headers.
    async fn principal(
        &self,
        tenant: Option<&str>,
        headers: &[(String, String)],
    ) -> Result<Principal, RestError>;
}
