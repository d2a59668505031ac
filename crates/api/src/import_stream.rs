//! `ImportFindingsStream`: scans larger than one gRPC message (4 MiB), sent in pieces — by a
//! gRPC client, or as the body of `POST /v1/findings/import-stream` (the HTTP route cuts the
//! body into pieces and runs this same code).
//!
//! The whole upload is received and checked before anything is written, so a bad finding
//! anywhere means nothing is imported. A JSON or SARIF document is held until complete; NDJSON
//! is parsed line by line as it arrives ([`crate::import_ndjson`]), holding only the findings. The findings are then written in chunks of
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
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use crate::import;
use crate::import_ndjson::Lines;

/// The largest document accepted. Parsing holds it in memory a few times over.
pub const MAX_IMPORT_BYTES: usize = 256 << 20;
/// The largest piece of a document in one message (well under gRPC's 4 MiB).
pub const MAX_PIECE_BYTES: usize = 1 << 20;
/// Findings per upsert statement and progress message.
pub const CHUNK_FINDINGS: usize = 1_000;

pub type ProgressStream = ReceiverStream<Result<pb::ImportProgress, Status>>;

/// What the pieces are gathered into: a document (JSON, SARIF) parsed when it is complete, or
/// NDJSON lines parsed as they arrive.
enum Upload {
    Document {
        format: i32,
        scanner: String,
        content: Vec<u8>,
    },
    Lines(Lines),
}

impl Upload {
    fn new(piece: &pb::ImportFindingsPiece) -> Self {
        if piece.format == pb::ImportFormat::Ndjson as i32 {
            Upload::Lines(Lines::new(&piece.scanner, OffsetDateTime::now_utc()))
        } else {
            Upload::Document {
                format: piece.format,
                scanner: piece.scanner.clone(),
                content: Vec::new(),
            }
        }
    }

    fn add(&mut self, bytes: &[u8]) {
        match self {
            Upload::Document { content, .. } => content.extend_from_slice(bytes),
            Upload::Lines(lines) => lines.feed(bytes),
        }
    }

    fn findings(self) -> Result<Vec<NewFinding>, Status> {
        match self {
            Upload::Document {
                format,
                scanner,
                content,
            } => parse(format, &content, &scanner),
            Upload::Lines(lines) => lines.finish().map_err(nothing_imported),
        }
    }
}

/// Reads every piece and checks the findings; nothing is written yet. Any stream of pieces: the
/// gRPC method's, or the HTTP route's request body cut into pieces.
async fn receive<S>(mut pieces: S) -> Result<Vec<NewFinding>, Status>
where
    S: Stream<Item = Result<pb::ImportFindingsPiece, Status>> + Unpin,
{
    let mut upload: Option<Upload> = None;
    let mut received = 0usize;
    while let Some(piece) = pieces.next().await.transpose()? {
        if piece.content.len() > MAX_PIECE_BYTES {
            return Err(Status::invalid_argument(format!(
                "a piece holds {} bytes; send at most {MAX_PIECE_BYTES} bytes a piece",
                piece.content.len()
            )));
        }
        received += piece.content.len();
        if received > MAX_IMPORT_BYTES {
            return Err(Status::invalid_argument(format!(
                "the document is larger than {} MiB; split the scan into several imports \
                 (re-importing a finding updates it, never duplicates it)",
                MAX_IMPORT_BYTES >> 20
            )));
        }
        upload
            .get_or_insert_with(|| Upload::new(&piece))
            .add(&piece.content);
    }
    upload
        .ok_or_else(|| {
            Status::invalid_argument("the stream held no document; send at least one piece")
        })?
        .findings()
}

fn nothing_imported(e: crate::import::ImportError) -> Status {
    Status::invalid_argument(format!("nothing was imported: {e}"))
}

/// Every finding of a whole document, or INVALID_ARGUMENT listing the problems (nothing written).
pub fn parse(format: i32, content: &[u8], scanner: &str) -> Result<Vec<NewFinding>, Status> {
    let now = OffsetDateTime::now_utc();
    let parsed = match pb::ImportFormat::try_from(format) {
        Ok(pb::ImportFormat::Json) => import::parse_json(content, scanner, now),
        Ok(pb::ImportFormat::Sarif) => import::parse_sarif(content, scanner, now),
        Ok(pb::ImportFormat::Ndjson) => {
            let mut lines = Lines::new(scanner, now);
            lines.feed(content);
            lines.finish()
        }
        _ => {
            return Err(Status::invalid_argument(
                "format is required: IMPORT_FORMAT_JSON, IMPORT_FORMAT_SARIF or \
                 IMPORT_FORMAT_NDJSON",
            ));
        }
    };
    parsed.map_err(nothing_imported)
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
pub async fn start<S>(store: Store, caller: Caller, pieces: S) -> Result<ProgressStream, Status>
where
    S: Stream<Item = Result<pb::ImportFindingsPiece, Status>> + Unpin,
{
    let findings = receive(pieces).await?;
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
