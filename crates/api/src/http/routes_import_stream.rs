//! `POST /v1/findings/import-stream`: the HTTP twin of `ImportFindingsStream` for scans larger
//! than the unary route's body cap. The request body (`application/x-ndjson`, one finding a line)
//! is cut into pieces as it arrives — never read whole — and fed to the function the gRPC method
//! runs ([`crate::findings::Findings::import_pieces`]): the same checks before anything is
//! written, the same one transaction, the stream's own size limit (256 MiB) instead of the API's
//! 8 MiB body cap. The answer comes after the commit: a summary, or a problem when nothing was
//! written — a progress stream would have to report a late failure inside a 200.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures::{StreamExt, stream};
use lockstep_proto::v1 as pb;
use lockstep_service_kit::problem::Problem;
use tonic::Status;

use super::HttpState;
use super::dto_admin::ImportStreamResult;
use super::extract::{Credential, Params};
use crate::import_stream::{MAX_PIECE_BYTES, ProgressStream};

/// The media type of the body.
pub const NDJSON: &str = "application/x-ndjson";

fn check_content_type(headers: &HeaderMap) -> Result<(), Problem> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = given.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case(NDJSON) {
        return Ok(());
    }
    Err(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        format!(
            "send the findings as Content-Type: {NDJSON}, one JSON finding a line; \
             POST /v1/findings/import takes a JSON or SARIF document"
        ),
    ))
}

/// A body chunk as pieces of at most [`MAX_PIECE_BYTES`] (slices, not copies, until the piece).
fn pieces(chunk: Bytes, scanner: &str) -> Vec<Result<pb::ImportFindingsPiece, Status>> {
    (0..chunk.len())
        .step_by(MAX_PIECE_BYTES)
        .map(|at| {
            let end = (at + MAX_PIECE_BYTES).min(chunk.len());
            Ok(pb::ImportFindingsPiece {
                format: pb::ImportFormat::Ndjson as i32,
                scanner: scanner.to_owned(),
                content: chunk.slice(at..end).to_vec(),
            })
        })
        .collect()
}

/// Reads the progress to its end: the totals of the commit, or the failure (nothing written).
async fn committed(mut progress: ProgressStream) -> Result<ImportStreamResult, Status> {
    let mut result = ImportStreamResult::default();
    while let Some(message) = progress.next().await {
        match message?.event {
            Some(pb::import_progress::Event::Chunk(chunk)) => result.chunks = chunk.chunks,
            Some(pb::import_progress::Event::Committed(totals)) => {
                result.created = totals.created;
                result.updated = totals.updated;
                result.findings = totals.created + totals.updated;
                return Ok(result);
            }
            None => {}
        }
    }
    Err(Status::internal(
        "the import ended without committing; nothing was imported",
    ))
}

/// Imports a large scan streamed as NDJSON, all or nothing (analyst or admin).
#[utoipa::path(post, path = "/v1/findings/import-stream", tag = "findings",
    params(("scanner" = Option<String>, Query,
        description = "The scanner of lines that carry no \"scanner\" of their own")),
    request_body(content = String, content_type = "application/x-ndjson",
        description = "One Lockstep JSON finding object a line ({\"key\", \"title\", \"severity\", \
            ...}); up to 256 MiB, streamed. Problems name their line; any problem imports nothing."),
    responses((status = 200, body = ImportStreamResult)))]
pub async fn import_stream(
    State(state): State<HttpState>,
    cred: Credential,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportStreamResult>, Problem> {
    check_content_type(&headers)?;
    let scanner = Params::parse(query.as_deref()).one("scanner");
    let chunks = body.into_data_stream().flat_map(move |chunk| {
        stream::iter(match chunk {
            Ok(chunk) => pieces(chunk, &scanner),
            Err(e) => vec![Err(Status::cancelled(format!(
                "the request body broke off ({e}); nothing was imported, send it again"
            )))],
        })
    });
    let progress = state
        .findings
        .import_pieces(cred.request(chunks))
        .await?
        .into_inner();
    Ok(Json(committed(progress).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_chunk_becomes_pieces_within_the_limit() {
        let chunk = Bytes::from(vec![b'x'; MAX_PIECE_BYTES * 2 + 3]);
        let sizes: Vec<usize> = pieces(chunk, "s")
            .into_iter()
            .map(|p| p.unwrap().content.len())
            .collect();
        assert_eq!(sizes, [MAX_PIECE_BYTES, MAX_PIECE_BYTES, 3]);
        assert!(pieces(Bytes::new(), "s").is_empty());
    }

    #[test]
    fn only_ndjson_is_taken() {
        let mut h = HeaderMap::new();
        assert_eq!(check_content_type(&h).unwrap_err().status, 415);
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(check_content_type(&h).is_err());
        h.insert(
            header::CONTENT_TYPE,
            "application/x-ndjson; charset=utf-8".parse().unwrap(),
        );
        assert!(check_content_type(&h).is_ok());
    }
}
