//! An admin server on 127.0.0.1 that the test can kill (every connection cut, as when the
//! process dies) and start again on the same port.

use axum::Router;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;

pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves `app` on `addr` (port 0: a free one) from a thread and runtime of its own.
    pub fn start(app: Router, addr: SocketAddr) -> Server {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = bind(addr).await;
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime drops every connection's task, closing its socket.
            drop(rt);
        });
        let addr = ready_rx.recv().expect("the server binds");
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops serving and cuts every open connection.
    pub fn kill(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Binds `addr`; a port just released may be briefly refused, so a few tries.
async fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot bind {addr}");
}
