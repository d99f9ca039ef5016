//! `#[circuit_breaker]` on trait impl methods: an `#[async_trait]` impl (the attribute sees
//! async-trait's expansion and wraps the body inside its boxed future) and a native
//! `async fn` in a trait.
//!
//! ```text
//! cargo run --example macro_traits
//! ```

use async_trait::async_trait;
use breaker_runtime::{circuit_breaker, registry, BreakerError};

#[derive(Debug)]
#[allow(dead_code)] // the fields are shown through `Debug`
enum Error {
    Down,
    Breaker(BreakerError),
}

impl From<BreakerError> for Error {
    fn from(e: BreakerError) -> Self {
        Error::Breaker(e)
    }
}

/// A trait used as `dyn Weather`, so it goes through `#[async_trait]`.
#[async_trait]
trait Weather: Send + Sync {
    async fn forecast(&self, city: String) -> Result<String, Error>;
}

struct RemoteWeather {
    up: bool,
}

#[async_trait]
impl Weather for RemoteWeather {
    #[circuit_breaker(name = "weather", failure_threshold = 2)]
    async fn forecast(&self, city: String) -> Result<String, Error> {
        println!("    (asking the weather service about {city})");
        if self.up {
            Ok(format!("sunny in {city}"))
        } else {
            Err(Error::Down)
        }
    }
}

/// A trait with a native `async fn`.
trait Geo {
    async fn locate(&self, ip: &str) -> Result<&'static str, Error>;
}

struct GeoIp;

impl Geo for GeoIp {
    #[circuit_breaker(failure_threshold = 1)]
    async fn locate(&self, ip: &str) -> Result<&'static str, Error> {
        if ip.starts_with("10.") {
            Ok("office")
        } else {
            Err(Error::Down)
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let weather: Box<dyn Weather> = Box::new(RemoteWeather { up: false });
    for _ in 0..3 {
        println!("forecast = {:?}", weather.forecast("Oslo".into()).await);
    }
    println!(
        "state of `weather`: {:?}",
        registry().get("weather").map(|b| b.state())
    );

    println!("locate = {:?}", GeoIp.locate("10.0.0.1").await);
    println!("locate = {:?}", GeoIp.locate("192.0.2.1").await);
    println!("locate = {:?}", GeoIp.locate("10.0.0.2").await);
    let name = "<macro_traits::GeoIp as macro_traits::Geo>::locate";
    println!(
        "state of `{name}`: {:?}",
        registry().get(name).map(|b| b.state())
    );
}
