//! The document family: `/{tenant}/discovery` and `/{tenant}/openapi.json`
//! (also at `/{tenant}/rest/v1/`, PostgREST's place for it), `GET` and
//! `HEAD` only.

use baas_engine::{Principal, Tenant};

use super::{Service, json_response};
use crate::http::header;
use crate::route::{DATA_FAMILY, FAMILY_VERSION, Route};
use crate::{Body, RestError, RestRequest, RestResponse};

impl Service {
    /// The discovery or OpenAPI document of `tenant`; `alias`: asked for
    /// through `/rest/v1/`, whose OpenAPI `servers` entry then names that
    /// prefix.
    pub(super) async fn document(
        &self,
        tenant: &Tenant,
        route: &Route,
        alias: bool,
        req: &RestRequest,
        principal: &Principal,
    ) -> Result<RestResponse, RestError> {
        let method = req.method.to_ascii_uppercase();
        if method != "GET" && method != "HEAD" {
            return Err(RestError::method_not_allowed(&method));
        }
        // Each caller sees only what it may use.
        let schema = self
            .baas
            .visible_schema(principal, tenant)
            .await
            .map_err(super::core_error)?;
        let mut doc = if matches!(route, Route::Discovery { .. }) {
            crate::discovery::discovery_document_with_limits(
                tenant.id(),
                &schema,
                tenant.capabilities(),
                &self.limits,
            )
        } else {
            let forwarded = header(&req.headers, "x-forwarded-prefix");
            // `..` resolves against the document's own URL
            // (`…/{tenant}/openapi.json`), so the server entry is right
            // under any mount prefix. Under `/rest/v1/` (with or without a
            // trailing `/`) no relative path is right for both: the mount
            // the integration gave is used instead.
            let server = match forwarded {
                Some(f) => f,
                None if alias => req.mount.as_str(),
                None => "..",
            };
            let mut doc = crate::openapi::openapi_document(
                tenant.id(),
                &schema,
                tenant.capabilities(),
                Some(server),
            );
            if alias
                && let Some(url) = doc
                    .pointer_mut("/servers/0/url")
                    .and_then(|u| u.as_str().map(str::to_string))
            {
                doc["servers"][0]["url"] = format!("{url}/{DATA_FAMILY}/{FAMILY_VERSION}").into();
            }
            doc
        };
        if let Some(info) = doc.get_mut("info").and_then(|i| i.as_object_mut()) {
            // The API changes with the metadata: its version is the metadata version.
            info.insert("version".into(), tenant.version().to_string().into());
        }
        let mut resp = json_response(200, &doc);
        if method == "HEAD" {
            resp.body = Body::empty();
        }
        Ok(resp)
    }
}
