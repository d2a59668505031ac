//! Binding and serving HTTP. Tests and `lockstep up` start many servers on port 0, so binding
//! is separate from serving and reports the address the OS actually chose.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::{Error, Shutdown};

/// Binds a listener; port 0 picks a free port. Returns the actual local address.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), Error> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    Ok((listener, local))
}

/// Serves `router` until `shutdown` fires, then stops accepting and waits for in-flight
/// requests to finish (the caller bounds that wait, e.g. with the pod's grace period).
pub async fn serve(listener: TcpListener, router: Router, shutdown: Shutdown) -> Result<(), Error> {
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.signal())
        .await
        .map_err(|source| Error::Serve { addr, source })
}

/// Binds and serves in a background task; returns the bound address and the task handle.
pub async fn spawn_server(
    addr: SocketAddr,
    router: Router,
    shutdown: Shutdown,
) -> Result<(SocketAddr, JoinHandle<Result<(), Error>>), Error> {
    let (listener, local) = bind(addr).await?;
    let task = tokio::spawn(serve(listener, router, shutdown));
    Ok((local, task))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    async fn http_get(addr: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn port_zero_serves_and_shutdown_lets_in_flight_requests_finish() {
        let shutdown = Shutdown::new();
        let router = Router::new().route("/hello", get(|| async { "hi" })).route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        );
        let (addr, task) = spawn_server(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            router,
            shutdown.clone(),
        )
        .await
        .unwrap();
        assert_ne!(addr.port(), 0);

        let response = http_get(addr, "/hello").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("hi"), "{response}");

        let in_flight = tokio::spawn(http_get(addr, "/slow"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        shutdown.trigger();
        let response = in_flight.await.unwrap();
        assert!(
            response.ends_with("done"),
            "in-flight request was cut off: {response}"
        );
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("server did not stop after shutdown")
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn binding_a_taken_port_names_the_address() {
        let (_held, addr) = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let err = bind(addr).await.unwrap_err();
        assert!(matches!(err, Error::Bind { addr: a, .. } if a == addr));
        assert!(err.to_string().contains(&addr.to_string()));
    }
}
