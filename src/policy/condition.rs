//! A rule's CEL condition, evaluated over one call. The expression sees:
//! `args` (the call's arguments, `{}` when absent), `name` (the exposed name or URI),
//! `server`, `method`, and `identity` (`sub`, `roles`, `scopes`, `claims`).

use super::Target;
use crate::call::Identity;
use crate::config::Condition;
use serde_json::{json, Value};
use std::sync::Arc;

/// Whether the condition holds; an expression that does not evaluate (a missing argument, a
/// wrong type) or yields something other than a boolean is an error, which denies.
/// Only the variables the expression reads are converted for it.
pub fn holds(
    env: &Arc<cel::Env>,
    when: &Condition,
    id: &Identity,
    t: &Target<'_>,
) -> Result<bool, String> {
    let mut ctx = cel::Context::with_env(env.clone());
    let value = |v: &Value| cel::to_value(v).map_err(|e| e.to_string());
    if when.uses_args {
        let args: Value = match t.arguments {
            Some(raw) => serde_json::from_str(raw).map_err(|e| format!("arguments: {e}"))?,
            None => json!({}),
        };
        ctx.add_variable_from_value("args", value(&args)?);
    }
    if when.uses_identity {
        let identity = json!({
            "sub": &*id.subject,
            "roles": id.roles,
            "scopes": id.scopes,
            "claims": id.claims,
        });
        ctx.add_variable_from_value("identity", value(&identity)?);
    }
    ctx.add_variable_from_value("name", t.name.to_string());
    ctx.add_variable_from_value("server", t.server.to_string());
    ctx.add_variable_from_value("method", t.method.to_string());
    match when.program.execute(&ctx) {
        Ok(cel::Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("it gave {other:?}, not a boolean")),
        Err(e) => Err(e.to_string()),
    }
}
