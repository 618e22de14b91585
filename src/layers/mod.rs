//! Tower layers wrapped around each upstream, one folder per layer (outermost first in the stack):
//! circuit breaker -> connector.

pub mod breaker;
mod connector;

pub use connector::{Call, Connector};

/// Errors between layers (each layer's own error, or the upstream's, boxed).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
