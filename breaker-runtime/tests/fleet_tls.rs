//! Fleet mode over TLS (feature `rustls`): two instances reach a real `redis-server` that
//! listens on TLS only (`rediss://`), verify its certificate against a CA of the test's own
//! (given as `SSL_CERT_FILE`, which the system's trust store honours), and trip together.
//!
//! One test alone in its binary: it sets `SSL_CERT_FILE` before any thread starts.

#[path = "../../tests/common/real_tool.rs"]
mod real_tool;

use breaker_runtime::fleet::Fleet;
use breaker_runtime::{BreakerConfig, Registry, State};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Stops the server by its process id, however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CA, and a certificate for `localhost` it signed: (CA PEM, certificate PEM, key PEM).
fn certificates() -> (String, String, String) {
    let ca_key = KeyPair::generate().expect("a key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).expect("a CA");
    let key = KeyPair::generate().expect("a key");
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("a certificate");
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

#[test]
fn two_instances_trip_together_over_tls() {
    let Some(program) = real_tool::find_tool(&["redis-server"], "redis-server") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("breaker-fleet-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let (ca, cert, key) = certificates();
    for (file, pem) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
        std::fs::write(dir.join(file), pem).expect("written");
    }
    // Before any thread: the trust store reads it when the first TLS connection is made.
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));

    let port = real_tool::free_port();
    let path = |file: &str| dir.join(file).display().to_string();
    let _server = Server(
        Command::new(program)
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--tls-cert-file", &path("cert.pem")])
            .args(["--tls-key-file", &path("key.pem")])
            .args(["--tls-ca-cert-file", &path("ca.pem")])
            .args(["--tls-auth-clients", "no", "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts"),
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        // `localhost`, the name the certificate is for, which resolves to 127.0.0.1 (where the
        // server is bound).
        let url = format!("rediss://localhost:{port}/");
        let config = BreakerConfig::builder().failure_threshold(1).build();
        let mut instances = Vec::new();
        for id in ["a", "b"] {
            let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
            let breaker = registry.get_or_create("db", config.clone());
            let fleet = Fleet::builder(&url)
                .namespace("tls")
                .instance_id(id)
                .sync_interval(Duration::from_millis(100))
                .share(["db"])
                .start(registry)
                .await
                .expect("a good URL");
            instances.push((fleet, breaker));
        }
        until("both connect over TLS", || {
            instances.iter().all(|(fleet, _)| fleet.status().connected)
        })
        .await;
        let _ = instances[0].1.call(|| async { Err::<(), _>("down") }).await;
        until("the other instance opens too", || {
            instances[1].1.state() == State::Open
        })
        .await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits until `cond` holds, with a bound generous for a loaded machine (the server starts,
/// then each fleet reconnects on its own schedule).
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not within 20 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
