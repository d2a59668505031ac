//! `ImportFindingsStream`: scans larger than one gRPC message (4 MiB), sent in pieces.
//!
//! The whole document is received and checked before anything is written, so a bad finding
//! anywhere means nothing is imported. The findings are then written in chunks of
//! [`CHUNK_FINDINGS`] inside one transaction, with a progress message per chunk; the last
//! message comes only after the commit. A failure (or the client going away) drops the
//! transaction, so a scan is imported completely or not at all.

use lockstep_domain::TenantId;
use lockstep_proto::v1 as pb;
use lockstep_service_kit::{Caller, status};
use lockstep_store::{ImportOutcome, NewFinding, Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

use crate::import;

/// The largest document accepted. Parsing holds it in memory a few times over.
pub const MAX_IMPORT_BYTES: usize = 256 << 20;
/// The largest piece of a document in one message (well under gRPC's 4 MiB).
pub const MAX_PIECE_BYTES: usize = 1 << 20;
/// Findings per upsert statement and progress message.
pub const CHUNK_FINDINGS: usize = 1_000;

pub type ProgressStream = ReceiverStream<Result<pb::ImportProgress, Status>>;

/// The document the client sent, with the format and scanner of its first piece.
struct Upload {
    format: i32,
    scanner: String,
    content: Vec<u8>,
}

async fn receive(mut pieces: Streaming<pb::ImportFindingsPiece>) -> Result<Upload, Status> {
    let mut upload: Option<Upload> = None;
    while let Some(piece) = pieces.message().await? {
        if piece.content.len() > MAX_PIECE_BYTES {
            return Err(Status::invalid_argument(format!(
                "a piece holds {} bytes; send at most {MAX_PIECE_BYTES} bytes a piece",
                piece.content.len()
            )));
        }
        let upload = upload.get_or_insert_with(|| Upload {
            format: piece.format,
            scanner: piece.scanner.clone(),
            content: Vec::new(),
        });
        if upload.content.len() + piece.content.len() > MAX_IMPORT_BYTES {
            return Err(Status::invalid_argument(format!(
                "the document is larger than {} MiB; split the scan into several imports \
                 (re-importing a finding updates it, never duplicates it)",
                MAX_IMPORT_BYTES >> 20
            )));
        }
        upload.content.extend_from_slice(&piece.content);
    }
    upload.ok_or_else(|| {
        Status::invalid_argument("the stream held no document; send at least one piece")
    })
}

/// Every finding of `upload`, or INVALID_ARGUMENT listing the problems (nothing written).
pub fn parse(format: i32, content: &[u8], scanner: &str) -> Result<Vec<NewFinding>, Status> {
    let now = OffsetDateTime::now_utc();
    let parsed = match pb::ImportFormat::try_from(format) {
        Ok(pb::ImportFormat::Json) => import::parse_json(content, scanner, now),
        Ok(pb::ImportFormat::Sarif) => import::parse_sarif(content, scanner, now),
        _ => {
            return Err(Status::invalid_argument(
                "format is required: IMPORT_FORMAT_JSON or IMPORT_FORMAT_SARIF",
            ));
        }
    };
    parsed.map_err(|e| Status::invalid_argument(format!("nothing was imported: {e}")))
}

pub fn imported(outcome: &ImportOutcome) -> Vec<pb::ImportedFinding> {
    outcome
        .rows
        .iter()
        .map(|r| pb::ImportedFinding {
            id: r.id.to_string(),
            scanner_key: r.scanner_key.as_str().to_owned(),
            created: r.created,
        })
        .collect()
}

/// Receives and checks the document, then writes it in the background, reporting on the
/// returned stream.
pub async fn start(
    store: Store,
    caller: Caller,
    pieces: Streaming<pb::ImportFindingsPiece>,
) -> Result<ProgressStream, Status> {
    let upload = receive(pieces).await?;
    let findings = parse(upload.format, &upload.content, &upload.scanner)?;
    drop(upload);
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let result = write(&store, caller.tenant, &findings, &tx).await;
        let last = match result {
            Ok(totals) => {
                tracing::info!(created = totals.created, updated = totals.updated, by = %caller.name,
                               "findings imported (stream)");
                Ok(pb::ImportProgress {
                    event: Some(pb::import_progress::Event::Committed(totals)),
                })
            }
            Err(WriteError::Store(e)) => Err(rolled_back(status::from_store(e))),
            // The client went away: the transaction is already dropped, nobody to tell.
            Err(WriteError::Gone) => return,
        };
        let _ = tx.send(last).await;
    });
    Ok(ReceiverStream::new(rx))
}

fn rolled_back(status: Status) -> Status {
    Status::new(
        status.code(),
        format!(
            "nothing was imported (the import's transaction rolled back): {}",
            status.message()
        ),
    )
}

enum WriteError {
    Store(StoreError),
    Gone,
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

/// Writes every chunk in one transaction, sending a progress message after each; commits only
/// when all are in. Dropping the transaction on any early return rolls it back.
async fn write(
    store: &Store,
    tenant: TenantId,
    findings: &[NewFinding],
    progress: &mpsc::Sender<Result<pb::ImportProgress, Status>>,
) -> Result<pb::ImportFindingsResponse, WriteError> {
    let chunks = findings.len().div_ceil(CHUNK_FINDINGS);
    let mut totals = pb::ImportFindingsResponse::default();
    let mut tx = store.begin().await?;
    for (i, chunk) in findings.chunks(CHUNK_FINDINGS).enumerate() {
        let outcome = tx.findings().import(tenant, chunk).await?;
        totals.created += outcome.created as i32;
        totals.updated += outcome.updated as i32;
        let result = pb::ImportChunkResult {
            chunk: i as i32 + 1,
            chunks: chunks as i32,
            first_index: (i * CHUNK_FINDINGS) as i32,
            count: chunk.len() as i32,
            created: outcome.created as i32,
            updated: outcome.updated as i32,
            findings: imported(&outcome),
        };
        let message = pb::ImportProgress {
            event: Some(pb::import_progress::Event::Chunk(result)),
        };
        progress
            .send(Ok(message))
            .await
            .map_err(|_| WriteError::Gone)?;
    }
    tx.commit().await?;
    Ok(totals)
}
