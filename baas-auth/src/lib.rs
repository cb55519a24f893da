//! Who is calling and what they may do, spoken the way supabase-js speaks
//! it.
//!
//! - [`keys`]: each tenant's API keys and token keys, derived from the
//!   server's secret key (HS256 API keys, ES256 access tokens with a JWKS,
//!   opaque `sb_publishable_…` / `sb_secret_…` keys, rotation);
//! - [`principal`]: the caller's [`Principal`](baas_engine::Principal) from
//!   the `apikey` and `Authorization` headers, once, in the service;
//! - [`external`]: tokens of external identity providers a tenant trusts
//!   (their JWKS fetched and cached);
//! - [`rules`]: permission rules (metadata) compiled into the engine's
//!   grants, identically on every engine;
//! - [`gotrue`]: users and sessions at `/{tenant}/auth/v1/…`, with GoTrue's
//!   shapes ([`AuthRoutes`]);
//! - [`mail`]: the [`Mailer`] confirmation e-mails go through, and
//!   [`SmtpMailer`];
//! - [`ratelimit`]: in-memory rate limits with bounded memory.

pub mod external;
pub mod gotrue;
pub mod keys;
pub mod mail;
pub mod principal;
pub mod ratelimit;
pub mod rules;

pub use gotrue::{AuthRateLimits, AuthRoutes, AuthSettings};
pub use keys::{Claims, KeyRole, TenantKeys, TokenError};
pub use mail::{Mail, MailError, Mailer, Secret, SmtpMailer, SmtpSettings, SmtpTls};
pub use principal::{ANON_ROLE, AUTHENTICATED_ROLE, Authenticator, KeyRing, SERVICE_ROLE};
pub use rules::RulesPolicy;
