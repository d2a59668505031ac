//! Port-0 helpers: let the OS pick a free port and hand the bound listener to the server, so
//! parallel tests never race for a port (binding first and passing the port number would).

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::task::JoinHandle;

/// A std listener on 127.0.0.1 with an OS-chosen port, and its address.
pub fn free_std_listener() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("local address of a bound listener");
    (listener, addr)
}

/// A tokio listener on 127.0.0.1 with an OS-chosen port, and its address.
pub async fn free_listener() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("local address of a bound listener");
    (listener, addr)
}

/// Binds a free port and spawns `serve(listener)` on the current runtime. The address is
/// connectable as soon as this returns, because the socket is bound (and listening) before the
/// server task even starts.
pub async fn spawn_on_port_zero<F, Fut>(serve: F) -> (SocketAddr, JoinHandle<Fut::Output>)
where
    F: FnOnce(tokio::net::TcpListener) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let (listener, addr) = free_listener().await;
    (addr, tokio::spawn(serve(listener)))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_spawned_server_answers_on_its_port() {
        let (addr, server) = spawn_on_port_zero(|listener| async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            socket.write_all(b"hello").await.unwrap();
        })
        .await;
        assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
        assert_ne!(addr.port(), 0);
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "hello");
        server.await.unwrap();
    }

    #[test]
    fn two_std_listeners_get_different_ports() {
        let (_a, a) = free_std_listener();
        let (_b, b) = free_std_listener();
        assert_ne!(a.port(), b.port());
    }
}
