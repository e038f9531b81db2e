//! `GET /projects/:id/coverage[?pair=NAME]`: story coverage of a design pair, what `twinsync
//! design coverage --json` prints and its HTML report shows: totals, each component worst
//! first (covered and missing variants, missing test kinds, warnings), stories that match
//! no variant and stories of no known component. Without `?pair` it is the project's one
//! design pair.
//!
//! The facade computes it from the pair's files (`Project::design_coverage_of`); the route
//! only picks the pair. A GET writes nothing: `twinsync design coverage` and the MCP tool
//! `design.coverageReport` are the runs that go into the coverage history.
//!
//! 404 for no such project or pair; 400 when the pair is not a design pair or its code
//! side has no Storybook index or a file of it is missing or unreadable (the message
//! names the file).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::routes::on_project;
use crate::AppState;

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CoverageQuery {
    /// The design pair; the project's one design pair when left out.
    pair: Option<String>,
}

/// The answer: the pair and its coverage report.
#[derive(Serialize, JsonSchema)]
pub(crate) struct CoverageAnswer {
    /// The design pair the report is of.
    pair: String,
    /// `twinsync design coverage --json`'s report: `totals`, `components` (worst first),
    /// `warnings`, `unmatched_stories`, `orphan_stories`.
    #[serde(flatten)]
    report: twinsync::design::DesignCoverage,
}

pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<CoverageQuery>,
) -> Result<Response, ApiError> {
    let answer = on_project(&state, &id, None, move |p| {
        let pair = match q.pair {
            Some(n) => n,
            None => p.default_design_pair()?,
        };
        let report = p.design_coverage_of(&pair)?;
        Ok(CoverageAnswer { pair, report })
    })
    .await?;
    Ok(Json(answer).into_response())
}
