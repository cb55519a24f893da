//! Sending e-mail: the [`Mailer`] trait the auth routes send their mails
//! through (confirmation links, see [`crate::gotrue`]), and [`SmtpMailer`],
//! which speaks SMTP (plain, STARTTLS or implicit TLS, rustls with the
//! webpki roots) with optional credentials.
//!
//! A mailer is given to the routes with
//! [`AuthRoutes::open_with_mailer`](crate::AuthRoutes::open_with_mailer) or
//! [`AuthRoutes::with_mailer`](crate::AuthRoutes::with_mailer), or built by
//! [`AuthRoutes::open`](crate::AuthRoutes::open) from
//! [`AuthSettings::smtp`](crate::AuthSettings::smtp) ([`SmtpSettings`], the
//! `[auth.smtp]` table of a configuration file).
//!
//! The SMTP password is a [`Secret`]: it is never logged and its `Debug`
//! shows `[redacted]`.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An HTML body, sent as an alternative to the text when present.
    pub html: Option<String>,
}

/// Why a mail could not be sent (or a mailer not be built). Its message
/// never holds a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The mailer's settings are unusable (a bad sender address, a password
    /// file that cannot be read, credentials without TLS…).
    Config(String),
    /// The recipient's address is not one SMTP accepts.
    Address(String),
    /// The server could not be reached, refused the mail, or did not answer
    /// in time.
    Transport(String),
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(m) => write!(f, "mailer configuration: {m}"),
            Self::Address(m) => write!(f, "recipient address: {m}"),
            Self::Transport(m) => write!(f, "sending mail: {m}"),
        }
    }
}

impl std::error::Error for MailError {}

/// Something that sends e-mail (SMTP, a provider's HTTP API, a test
/// recorder…).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Send `message`; `Ok` once the server accepted it.
    async fn send(&self, message: Mail) -> Result<(), MailError>;
}

/// A secret string (a password): kept out of `Debug` and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a local relay, a test sink). Credentials are refused.
    None,
    /// Plain text upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS", port 465).
    Tls,
}

impl SmtpTls {
    /// The port used when none is given: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::Starttls => 587,
            Self::Tls => 465,
        }
    }
}

/// The SMTP server confirmation mails go through: the `[auth.smtp]` table
/// of a configuration file.
///
/// ```toml
/// [auth.smtp]
/// host = "smtp.example.com"
/// port = 587                 # default by `tls`: 25, 587, 465
/// tls = "starttls"           # "none" | "starttls" (default) | "tls"
/// user = "mailer"            # optional
/// password_file = "/run/secrets/smtp_password"  # needed with `user`
/// from = "Example <no-reply@example.com>"
/// timeout_secs = 30
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The server's host name (also the name its TLS certificate must
    /// carry).
    pub host: String,
    /// The server's port; default [`SmtpTls::default_port`].
    #[serde(default)]
    pub port: Option<u16>,
    /// How the connection is protected; default STARTTLS.
    #[serde(default)]
    pub tls: SmtpTls,
    /// The user to authenticate as (PLAIN / LOGIN), if the server wants
    /// one. Needs `password_file` and a TLS mode other than `none`.
    #[serde(default)]
    pub user: Option<String>,
    /// A file holding the password (trailing newlines are ignored), read
    /// once when the mailer is built. The password itself is never part of
    /// the settings, so it is neither serialised nor logged.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The sender, `no-reply@example.com` or `Name <no-reply@example.com>`.
    pub from: String,
    /// Seconds a connection and each SMTP command may take. Default 30.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    30
}

impl SmtpSettings {
    /// Settings for `host` with the defaults (STARTTLS on 587, no
    /// credentials, 30 s), sending as `from`.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: None,
            tls: SmtpTls::default(),
            user: None,
            password_file: None,
            from: from.into(),
            timeout_secs: default_timeout(),
        }
    }

    /// The password read from `password_file`, if one is named.
    pub fn read_password(&self) -> Result<Option<Secret>, MailError> {
        let Some(path) = &self.password_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            MailError::Config(format!(
                "cannot read the SMTP password file {}: {e}",
                path.display()
            ))
        })?;
        Ok(Some(Secret::new(text.trim_end_matches(['\r', '\n']))))
    }
}

/// A [`Mailer`] speaking SMTP to one server (a new connection per mail).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    tls: SmtpTls,
    user: Option<String>,
    password: Option<Secret>,
    timeout: Duration,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SmtpMailer {
    /// A mailer for `settings`, authenticating with `password` (ignoring
    /// `settings.password_file`). Checks the sender address and that
    /// credentials only travel over TLS; connects only when sending.
    pub fn new(settings: &SmtpSettings, password: Option<Secret>) -> Result<Self, MailError> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            MailError::Config(format!(
                "the sender address {:?} is invalid: {e}",
                settings.from
            ))
        })?;
        if settings.host.trim().is_empty() {
            return Err(MailError::Config("the SMTP host is empty".into()));
        }
        let port = settings.port.unwrap_or(settings.tls.default_port());
        let credentials = match (&settings.user, &password) {
            (Some(user), Some(password)) => {
                if settings.tls == SmtpTls::None {
                    return Err(MailError::Config(
                        "SMTP credentials are only sent over TLS: set tls to \"starttls\" or \"tls\""
                            .into(),
                    ));
                }
                Some(Credentials::new(
                    user.clone(),
                    password.expose().to_string(),
                ))
            }
            (Some(_), None) => {
                return Err(MailError::Config(
                    "an SMTP user needs a password (password_file)".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(MailError::Config("an SMTP password needs a user".into()));
            }
            (None, None) => None,
        };
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls | SmtpTls::Tls => {
                let params = TlsParameters::new(settings.host.clone())
                    .map_err(|e| MailError::Config(format!("TLS for {}: {e}", settings.host)))?;
                if settings.tls == SmtpTls::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
                .port(port)
                .tls(tls)
                .timeout(Some(timeout));
        if let Some(c) = credentials {
            builder = builder.credentials(c);
        }
        Ok(Self {
            transport: builder.build(),
            from,
            host: settings.host.clone(),
            port,
            tls: settings.tls,
            user: settings.user.clone(),
            password,
            timeout,
        })
    }

    /// A mailer for `settings`, its password read from `password_file`.
    pub fn from_settings(settings: &SmtpSettings) -> Result<Self, MailError> {
        let password = settings.read_password()?;
        Self::new(settings, password)
    }

    /// Connect, greet and authenticate, without sending anything: whether
    /// the server is usable (for a check at start-up).
    pub async fn test_connection(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Transport(format!(
                "{}:{} did not accept a connection",
                self.host, self.port
            ))),
            Err(e) => Err(MailError::Transport(format!(
                "{}:{}: {e}",
                self.host, self.port
            ))),
        }
    }

    /// The message `mail` becomes.
    fn message(&self, mail: Mail) -> Result<Message, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| MailError::Address(format!("{e}")))?;
        let domain = self.from.email.domain().to_string();
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(format!("<{}@{domain}>", uuid::Uuid::new_v4())));
        let built = match mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.text, html)),
            None => builder.singlepart(SinglePart::plain(mail.text)),
        };
        built.map_err(|e| MailError::Address(format!("{e}")))
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = self.message(mail)?;
        // lettre bounds each command; this bounds the whole exchange.
        let sent = tokio::time::timeout(self.timeout * 4, self.transport.send(message)).await;
        match sent {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(MailError::Transport(format!(
                "{}:{}: {e}",
                self.host, self.port
            ))),
            Err(_) => Err(MailError::Transport(format!(
                "{}:{}: no answer within {:?}",
                self.host,
                self.port,
                self.timeout * 4
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let mut s = SmtpSettings::new("smtp.example.com", "Example <no-reply@example.com>");
        s.user = Some("mailer".into());
        let m = SmtpMailer::new(&s, Some(Secret::new("hunter2-very-secret"))).unwrap();
        let d = format!("{m:?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(d.contains("[redacted]") && d.contains("mailer") && d.contains("587"));
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
    }

    #[test]
    fn settings_are_checked() {
        let s = SmtpSettings::new("smtp.example.com", "not an address");
        assert!(matches!(
            SmtpMailer::new(&s, None),
            Err(MailError::Config(_))
        ));
        let mut s = SmtpSettings::new("127.0.0.1", "a@example.com");
        s.tls = SmtpTls::None;
        s.user = Some("u".into());
        let e = SmtpMailer::new(&s, Some(Secret::new("p"))).unwrap_err();
        assert!(matches!(e, MailError::Config(_)));
        s.tls = SmtpTls::Tls;
        assert!(matches!(
            SmtpMailer::new(&s, None),
            Err(MailError::Config(_))
        ));
        assert_eq!(
            SmtpMailer::new(&s, Some(Secret::new("p"))).unwrap().port,
            465
        );
        let parsed: SmtpSettings = serde_json::from_value(serde_json::json!({
            "host": "localhost", "tls": "none", "from": "a@example.com"
        }))
        .unwrap();
        assert_eq!(parsed.port, None);
        assert_eq!(parsed.tls, SmtpTls::None);
        assert_eq!(parsed.timeout_secs, 30);
        assert!(
            serde_json::from_value::<SmtpSettings>(serde_json::json!({
                "host": "h", "from": "a@example.com", "password": "x"
            }))
            .is_err()
        );
    }

    #[test]
    fn messages_carry_both_bodies() {
        let mut s = SmtpSettings::new("127.0.0.1", "Example <no-reply@example.com>");
        s.tls = SmtpTls::None;
        let m = SmtpMailer::new(&s, None).unwrap();
        let msg = m
            .message(Mail {
                to: "ann@example.org".into(),
                subject: "Hello".into(),
                text: "plain".into(),
                html: Some("<p>html</p>".into()),
            })
            .unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        assert!(raw.contains("To: ann@example.org"), "{raw}");
        assert!(raw.contains("multipart/alternative") && raw.contains("<p>html</p>"));
        assert!(raw.contains("@example.com>"));
        assert!(matches!(
            m.message(Mail {
                to: "not an address".into(),
                subject: "x".into(),
                text: "x".into(),
                html: None,
            }),
            Err(MailError::Address(_))
        ));
    }
}
