//! The function family: `/{tenant}/rpc/{function}` ([`crate::rpc`]).

use baas_engine::{Principal, Tenant};

use super::{Service, core_error};
use crate::rpc::{overload, parse_rpc, rpc_response};
use crate::{RestError, RestRequest, RestResponse};

impl Service {
    pub(super) async fn rpc(
        &self,
        tenant: &Tenant,
        function: &str,
        req: &RestRequest,
        principal: &Principal,
    ) -> Result<RestResponse, RestError> {
        let schema = tenant.schema();
        let method = req.method.to_ascii_uppercase();
        if !matches!(method.as_str(), "GET" | "HEAD" | "POST") {
            schema.function(function).map_err(RestError::from)?;
            // PostgREST's code for a method a function call does not take.
            return Err(RestError::new(
                405,
                "PGRST101",
                format!("a function is called with GET, HEAD or POST, not {method}"),
            ));
        }
        let f = match overload(schema, function, req) {
            Ok(f) => f,
            // The signatures in the hint (and, for an ambiguous call, the
            // message) are for callers who may call the function, as
            // discovery lists it for them only.
            Err(mut e) if e.hint.is_some() || e.code == crate::error::codes::AMBIGUOUS_FUNCTION => {
                let mut callable = false;
                for g in schema.functions.iter().filter(|g| g.name == function) {
                    callable |= self.baas.may_execute(principal, tenant, g).await;
                }
                if !callable {
                    e.hint = None;
                    if e.code == crate::error::codes::AMBIGUOUS_FUNCTION {
                        e.message = format!(
                            "Could not choose the best candidate function between the overloads of {function}"
                        );
                    }
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        // A function that may write answers `GET`/`HEAD` in a read-only
        // transaction (PostgreSQL, as PostgREST): a write in it is a 405.
        let read_only = method != "POST" && !f.volatility.is_read_only();
        if read_only && !tenant.capabilities().request_settings {
            return Err(RestError::new(
                405,
                "PGRST101",
                format!("`{}` is volatile (it may write): call it with POST", f.name),
            )
            .with_hint("on this engine only stable and immutable functions answer GET and HEAD"));
        }
        let result = f.result_entity(schema).map_err(core_error)?;
        let mut call = parse_rpc(schema, f, &result, req, &self.limits)?;
        super::entities::aggregates_allowed(tenant, &call.read)?;
        if let crate::Media::Plan { text, options, .. } = call.read.media {
            super::entities::plans_seen_by(principal)?;
            let explain = baas_core::Explain {
                format: super::entities::plan_format(text),
                options,
            };
            let aggregate = call.read.aggregate.take().map(|a| *a);
            let query = std::mem::replace(
                &mut call.read.query,
                baas_core::ir::Query::new(f.name.clone()),
            );
            let plan = self
                .baas
                .explain_call(
                    principal, tenant, function, &call.args, query, aggregate, explain, read_only,
                )
                .await;
            return super::entities::plan_response(tenant, plan, call.read.media);
        }
        self.prepare_answer(principal, tenant, &mut call.read.aliases)
            .await?;
        if let Some(aggregate) = call.read.aggregate.take() {
            // Aggregates of a call that may write run in a read-only
            // transaction on `GET`/`HEAD` too.
            let embeds = std::mem::take(&mut call.read.query.select.embeds);
            let rows = self
                .baas
                .call_aggregate(
                    principal,
                    tenant,
                    function,
                    &call.args,
                    *aggregate,
                    embeds,
                    baas_engine::CallOptions {
                        rollback: call.rollback,
                        max_affected: None,
                        read_only,
                    },
                )
                .await
                .map_err(core_error)?;
            return Ok(rpc_response(
                f,
                &call.read,
                baas_core::ir::Rows {
                    rows,
                    ..Default::default()
                },
                tenant.config().limits.max_response_bytes,
            ));
        }
        // The query moves into the engine; the response only needs its page.
        let shell = baas_core::ir::Query {
            page: call.read.query.page.clone(),
            ..baas_core::ir::Query::new(f.name.clone())
        };
        let query = std::mem::replace(&mut call.read.query, shell);
        let options = baas_engine::CallOptions {
            rollback: call.rollback,
            max_affected: call.max_affected,
            read_only,
        };
        let rows = self
            .baas
            .call_with(principal, tenant, function, &call.args, query, options)
            .await
            .map_err(core_error)?;
        let mut rows = rows;
        let asked = rows.response.take();
        let resp = rpc_response(
            f,
            &call.read,
            rows,
            tenant.config().limits.max_response_bytes,
        );
        Ok(super::as_functions_asked(resp, asked))
    }
}
