//! What every service of the API shares.

use lockstep_bus::Bus;
use lockstep_connectors::Connectors;
use lockstep_service_kit::{Access, Authenticator, Caller};
use lockstep_store::Store;
use tonic::{Request, Status};

#[derive(Clone)]
pub(crate) struct Ctx {
    pub store: Store,
    pub bus: Bus,
    pub auth: Authenticator,
    pub connectors: Connectors,
    /// `[webhooks] public_base_url`: where vendors reach ingest-webhook (webhook auto-setup).
    pub webhook_base_url: Option<String>,
}

impl Ctx {
    /// Authenticates the request and checks its role for `action`.
    pub async fn caller<T>(
        &self,
        request: &Request<T>,
        access: Access,
        action: &str,
    ) -> Result<Caller, Status> {
        let caller = self.auth.authenticate(request).await?;
        caller.require(access, action)?;
        Ok(caller)
    }
}

/// An offset page token (`o<offset>`) for lists the store returns whole (integrations, presets:
/// a handful of rows per tenant).
pub(crate) fn offset_page<T: Clone>(
    items: &[T],
    page_size: u32,
    token: &str,
) -> Result<(Vec<T>, String), Status> {
    let token = token.trim();
    let start = if token.is_empty() {
        0
    } else {
        token
            .strip_prefix('o')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                Status::invalid_argument(format!(
                    "page_token {token:?} is not one this server issued; start without a token"
                ))
            })?
    };
    let end = (start + page_size as usize).min(items.len());
    let page = items.get(start..end).unwrap_or_default().to_vec();
    let next = if end < items.len() {
        format!("o{end}")
    } else {
        String::new()
    };
    Ok((page, next))
}

/// A deterministic id for an idempotent create (AIP-155): the same tenant, method and
/// `request_id` always give the same id, so a retried create finds what the first one made.
pub(crate) fn id_for_request(
    tenant: lockstep_domain::TenantId,
    method: &str,
    request_id: &str,
) -> Result<Option<uuid::Uuid>, Status> {
    let request_id = request_id.trim();
    if request_id.is_empty() {
        return Ok(None);
    }
    if request_id.len() > 36 || !request_id.is_ascii() {
        return Err(Status::invalid_argument(
            "request_id must be at most 36 ASCII characters; use a UUID",
        ));
    }
    let input = format!("{}\n{method}\n{request_id}", tenant.as_uuid());
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    Ok(Some(uuid::Builder::from_custom_bytes(bytes).into_uuid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_pages_walk_the_list() {
        let items: Vec<u32> = (0..5).collect();
        let (p1, t1) = offset_page(&items, 2, "").unwrap();
        assert_eq!((p1, t1.as_str()), (vec![0, 1], "o2"));
        let (p3, t3) = offset_page(&items, 2, "o4").unwrap();
        assert_eq!((p3, t3.as_str()), (vec![4], ""));
        assert!(offset_page(&items, 2, "zz").is_err());
    }

    #[test]
    fn request_ids_give_stable_per_tenant_ids() {
        let t = lockstep_domain::TenantId::new();
        let a = id_for_request(t, "m", "r1").unwrap().unwrap();
        assert_eq!(a, id_for_request(t, "m", "r1").unwrap().unwrap());
        assert_ne!(a, id_for_request(t, "m", "r2").unwrap().unwrap());
        let other = lockstep_domain::TenantId::new();
        assert_ne!(a, id_for_request(other, "m", "r1").unwrap().unwrap());
        assert!(id_for_request(t, "m", "").unwrap().is_none());
        assert!(id_for_request(t, "m", &"x".repeat(37)).is_err());
    }
}
