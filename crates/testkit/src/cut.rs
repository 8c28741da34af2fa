//! A TCP relay on 127.0.0.1 that a test can cut and restore: what a
//! service stopped and started again looks like to a client, without
//! stopping a service other tests use. Cut, it ends every relayed
//! connection and closes each new one at once; restored, it relays again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A relay to one target.
#[derive(Debug)]
pub struct Cuttable {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    /// Bumped at each cut: relayed connections end when it changes.
    generation: watch::Sender<u64>,
    accept: tokio::task::JoinHandle<()>,
}

impl Cuttable {
    /// Relays 127.0.0.1:port (a free port) to `target`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding a relay: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("relay address: {e}"));
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0_u64);
        let accept = tokio::spawn(relay(
            listener,
            target,
            Arc::clone(&cut),
            generation.clone(),
        ));
        Self {
            addr,
            cut,
            generation,
            accept,
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Ends every relayed connection and refuses new ones until restored.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Release);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Relays new connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::Release);
    }
}

impl Drop for Cuttable {
    fn drop(&mut self) {
        self.accept.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

async fn relay(
    listener: TcpListener,
    target: SocketAddr,
    cut: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
) {
    while let Ok((mut client, _)) = listener.accept().await {
        if cut.load(Ordering::Acquire) {
            drop(client);
            continue;
        }
        let mut ended = generation.subscribe();
        ended.mark_unchanged();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(target).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = ended.changed() => {}
            }
        });
    }
}
