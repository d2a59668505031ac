//! `lockstep findings import` over `ImportFindingsStream`: a scan of any size goes up in 1 MiB
//! pieces, with progress on stderr (upload, then one line per chunk the server has written);
//! the result is printed only once the server has committed the whole import.

use lockstep_proto::v1 as pb;
use lockstep_proto::v1::finding_service_client::FindingServiceClient;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use crate::client::req;
use crate::{Cli, Failure, Result};

/// Bytes per message; the server takes at most 1 MiB a piece.
const PIECE_BYTES: usize = 1 << 20;

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// Sends `content` and follows the server's progress; the totals and every imported finding.
pub async fn import(
    cli: &Cli,
    client: &mut FindingServiceClient<Channel>,
    format: pb::ImportFormat,
    content: Vec<u8>,
    scanner: &str,
) -> Result<pb::ImportFindingsResponse> {
    let total = content.len();
    let pieces: Vec<pb::ImportFindingsPiece> = content
        .chunks(PIECE_BYTES)
        .map(|piece| pb::ImportFindingsPiece {
            format: format as i32,
            scanner: scanner.to_owned(),
            content: piece.to_vec(),
        })
        .collect();
    drop(content);
    let count = pieces.len();
    // Progress as the transport takes each piece: every tenth of the way, and the end.
    let mut sent = 0usize;
    let mut shown = 0usize;
    let upload = tokio_stream::iter(pieces).map(move |piece| {
        sent += piece.content.len();
        let tenth = sent * 10 / total.max(1);
        if tenth > shown || sent == total {
            shown = tenth;
            eprintln!("uploaded {} of {}", mib(sent), mib(total));
        }
        piece
    });
    if count > 1 {
        eprintln!("sending {} in {count} pieces", mib(total));
    }
    let mut progress = client
        .import_findings_stream(req(cli, upload)?)
        .await?
        .into_inner();
    let mut findings = Vec::new();
    while let Some(message) = progress.message().await? {
        match message.event {
            Some(pb::import_progress::Event::Chunk(chunk)) => {
                eprintln!(
                    "chunk {}/{}: findings {}–{} written ({} new, {} updated; committed when all are in)",
                    chunk.chunk,
                    chunk.chunks,
                    chunk.first_index,
                    chunk.first_index + chunk.count - 1,
                    chunk.created,
                    chunk.updated
                );
                findings.extend(chunk.findings);
            }
            Some(pb::import_progress::Event::Committed(mut totals)) => {
                eprintln!("committed: the whole scan is imported");
                totals.findings = findings;
                return Ok(totals);
            }
            None => {}
        }
    }
    Err(Failure {
        code: 6,
        message: "the server ended the import without confirming its commit, so it may not be \
                  in: run it again (re-importing a finding updates it, never duplicates it)"
            .into(),
    })
}
