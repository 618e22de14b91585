//! Helpers for the layers' unit tests: requests that go nowhere.

use crate::call::Call;
use std::sync::Arc;

/// A request for `method` from client `client`.
pub fn call(method: &'static str, client: &str) -> Call<()> {
    Call::new((), method, "{}".into(), Arc::from(client))
}
