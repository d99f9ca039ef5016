//! What the loopback tests share: a real server on 127.0.0.1.

use std::net::SocketAddr;

/// Serves `app` on 127.0.0.1 from a thread and runtime of its own (real clock), so a test's
/// paused clock never fires the server's timers. Returns the address it listens on.
pub fn serve(app: axum::Router) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}
