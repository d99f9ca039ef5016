//! `#[circuit_breaker]` on methods: `&self`, `&mut self`, `self: Arc<Self>`, an associated
//! function, and a generic method. Each gets its own breaker, named after `Type::method`.
//!
//! ```text
//! cargo run --example macro_methods
//! ```

use breaker_runtime::{circuit_breaker, registry, BreakerError};
use std::sync::Arc;

#[derive(Debug)]
#[allow(dead_code)] // the fields are shown through `Debug`
enum DbError {
    Timeout,
    Breaker(BreakerError),
}

impl From<BreakerError> for DbError {
    fn from(e: BreakerError) -> Self {
        DbError::Breaker(e)
    }
}

struct Db {
    healthy: bool,
    queries: u32,
}

impl Db {
    /// `Self` in the signature tells the attribute it is inside an impl, so the breaker is
    /// named `…::Db::connect` (with `Result<Db, _>` it would be `…::connect`).
    #[circuit_breaker(failure_threshold = 2)]
    fn connect(healthy: bool) -> Result<Self, DbError> {
        Ok(Db {
            healthy,
            queries: 0,
        })
    }

    #[circuit_breaker(failure_threshold = 2)]
    async fn get(&self, key: &str) -> Result<String, DbError> {
        if self.healthy {
            Ok(format!("value of {key}"))
        } else {
            Err(DbError::Timeout)
        }
    }

    #[circuit_breaker(failure_threshold = 2)]
    async fn put(&mut self, key: &str) -> Result<u32, DbError> {
        self.queries += 1;
        if self.healthy {
            Ok(self.queries)
        } else {
            let _ = key;
            Err(DbError::Timeout)
        }
    }

    #[circuit_breaker(failure_threshold = 2)]
    async fn shared_len(self: Arc<Self>) -> Result<usize, DbError> {
        Ok(Arc::strong_count(&self))
    }

    #[circuit_breaker(failure_threshold = 2)]
    async fn get_many<K>(&self, keys: &[K]) -> Result<Vec<String>, DbError>
    where
        K: AsRef<str>,
    {
        let mut values = Vec::new();
        for key in keys {
            values.push(self.get(key.as_ref()).await?);
        }
        Ok(values)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut db = Db::connect(false).expect("connect");
    for _ in 0..3 {
        println!("get = {:?}", db.get("a").await);
    }
    for _ in 0..3 {
        println!(
            "put = {:?} (queries run: {})",
            db.put("a").await,
            db.queries
        );
    }
    let healthy = Arc::new(Db::connect(true).expect("connect"));
    println!("shared_len = {:?}", healthy.clone().shared_len().await);
    println!("get_many = {:?}", healthy.get_many(&["x", "y"]).await);

    println!("\nbreakers:");
    let mut names = registry().names();
    names.sort();
    for name in names {
        let breaker = registry().get(&name).expect("listed");
        println!("  {name}: {:?}", breaker.state());
    }
}
