//! One mechanism puts the edge's refusals on record: a handler (or an extractor's caller)
//! answers a `Problem` marked `on_record`, and this layer appends the refusal to the audit log
//! before the answer leaves. If the log cannot take it, the caller is told the audit log is
//! unavailable instead: no refusal goes out unrecorded.

use super::problem::{Problem, Refusal};
use crate::app::AppState;
use crate::gate::Caller;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn record_refusals(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let caller = request.extensions().get::<Caller>().cloned();
    let mut response = next.run(request).await;
    let refusal = response.extensions_mut().remove::<Refusal>();
    if let (Some(Refusal { action, reason }), Some(caller)) = (refusal, caller)
        && let Err(error) = state.gate.refuse(&caller, action, reason).await
    {
        return Problem::from(error).into_response();
    }
    response
}
