//! A hostile review of fleet mode: each test states what README.md ("## Fleet mode") and
//! CONTRACT.md ("Fleet mode") promise, then tries an interleaving that could break it.
//!
//! Expectations come from the documents, not the code. A test that found a bug and is not
//! fixed yet is `#[ignore = "BUG: …"]`, so the suite stays green and the bug stays visible.

use crate::server::Redis;
use crate::*;
use breaker_runtime::fleet::Fleet;
use breaker_runtime::{BreakerConfig, Registry, State};
use redis::Commands;
use std::time::{Duration, Instant};

/// The fleet's state of `name` under `namespace`, as Redis keeps it.
fn fleet_state(redis: &Redis, namespace: &str, name: &str) -> Option<String> {
    redis
        .client()
        .hget(format!("{{{namespace}:{name}}}:state"), "state")
        .expect("HGET")
}

/// Whether the probe lease of `name` is held by anybody.
fn lease_held(redis: &Redis, namespace: &str, name: &str) -> bool {
    redis
        .client()
        .exists(format!("{{{namespace}:{name}}}:lease"))
        .expect("EXISTS")
}

/// Waits until `instance` synced (successfully) twice after now: whatever it was told
/// before has been applied.
async fn two_syncs(instance: &Instance) {
    for _ in 0..2 {
        synced_since(instance, Instant::now(), Duration::from_secs(10)).await;
    }
}

fn half_open(fleet: &[Instance]) -> Vec<usize> {
    (0..fleet.len())
        .filter(|&k| fleet[k].state() == State::HalfOpen)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Probe once. "In half-open, one probe at a time runs for the whole fleet." / "one instance
// takes a probe lease (lasting half_open_timeout) and half-opens; the others keep
// rejecting until its verdict". An instance whose lease ran out (it had no traffic to
// probe with) and was taken by another must not go on letting probes in.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_lease_holder_stops_probing_once_another_instance_holds_the_lease() {
    let Some(redis) = Redis::start() else { return };
    let cfg = one_probe(Duration::from_millis(400), Duration::from_millis(700));
    let fleet = three(&redis.url(), "rv-idle-holder", "db", &cfg, 1).await;
    tripped_by_the_first(&fleet).await;
    // Nobody calls: the holder half-opens and idles until its lease runs out.
    until("one instance half-opens", Duration::from_secs(10), || {
        !half_open(&fleet).is_empty()
    })
    .await;
    let first = half_open(&fleet)[0];
    until(
        "the lease passes to another instance",
        Duration::from_secs(10),
        || half_open(&fleet).iter().any(|&k| k != first),
    )
    .await;
    // One sync interval of overlap is tolerable; staying half-open is two probers.
    until(
        "at most one instance lets probes in",
        Duration::from_secs(2),
        || half_open(&fleet).len() <= 1,
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Probe once: "its probes close the breaker everywhere". A holder whose lease ran out with
// nobody else waiting (a fleet of one, here) still probes; its verdict must still decide
// the fleet's state, or the fleet stays open in Redis for ever (the TTL is refreshed on
// every sync), and any instance that joins opens with no failure at all.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_after_the_lease_ran_out_still_closes_the_fleet() {
    let Some(redis) = Redis::start() else { return };
    let ns = "rv-late-verdict";
    let cfg = one_probe(Duration::from_millis(300), Duration::from_millis(500));
    let a = Instance::start(&redis.url(), ns, "a", "db", cfg.clone(), 1).await;
    connected(std::slice::from_ref(&a)).await;
    for _ in 0..2 {
        let _ = fail(&a.breaker).await;
    }
    until("the fleet opens", Duration::from_secs(10), || {
        fleet_state(&redis, ns, "db").as_deref() == Some("open")
    })
    .await;
    until(
        "a holds the lease and half-opens",
        Duration::from_secs(10),
        || a.state() == State::HalfOpen && lease_held(&redis, ns, "db"),
    )
    .await;
    until("the lease runs out", Duration::from_secs(10), || {
        !lease_held(&redis, ns, "db")
    })
    .await;
    // Traffic comes back; the dependency is healthy. A holder whose lease ran out hands its
    // turn back and waits (README: "a holder still alive gives its half-open up"), then, alone
    // in the fleet, takes the lease again: a call gets through as its probe, now or at that
    // next turn, and closes it.
    closed_by_healthy_traffic("a probe gets through and closes a", [&a]).await;
    until(
        "the verdict closes the fleet",
        Duration::from_secs(3),
        || fleet_state(&redis, ns, "db").as_deref() == Some("closed"),
    )
    .await;

    // A new instance of the healthy service: its breaker has seen no failure.
    let b = Instance::start(&redis.url(), ns, "b", "db", cfg, 1).await;
    connected(std::slice::from_ref(&b)).await;
    two_syncs(&b).await;
    assert_eq!(
        b.state(),
        State::Closed,
        "no failure anywhere, yet it opened"
    );
}

// ---------------------------------------------------------------------------------------
// "Redis's own guarantees ... a failover that loses writes loses at most the last syncs,
// which the next ones redo." A Redis restarted empty while the fleet is open must not close
// every instance at once without a probe (a thundering herd on a dependency still down).
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_does_not_close_open_breakers_without_a_probe() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let ns = "rv-empty";
    let cfg = one_probe(Duration::from_secs(30), Duration::from_secs(30));
    let fleet = three(&redis.url(), ns, "db", &cfg, 1).await;
    tripped_by_the_first(&fleet).await;

    redis.kill();
    until("every link is lost", Duration::from_secs(5), || {
        fleet.iter().all(|i| !i.fleet().status().connected)
    })
    .await;
    redis.restart();
    until("every link is back", Duration::from_secs(10), || {
        fleet.iter().all(|i| i.fleet().status().connected)
    })
    .await;
    for i in &fleet {
        two_syncs(i).await;
    }
    // 30 s reset timeout, no probe ran: every instance must still reject.
    let states: Vec<State> = fleet.iter().map(Instance::state).collect();
    assert!(
        states.iter().all(|&s| s == State::Open),
        "closed without a probe after Redis lost its keys: {states:?}"
    );
    // "which the next ones redo": the fleet's open is back in Redis.
    until("the fleet's open is redone", Duration::from_secs(5), || {
        fleet_state(&redis, ns, "db").as_deref() == Some("open")
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// "namespace: keeps this service's breakers apart from other services' in the same Redis".
// Breaker names with a `:` are common ("payments:eu"); so are namespaces with one.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_and_names_with_a_colon_do_not_collide() {
    let Some(redis) = Redis::start() else { return };
    let cfg = BreakerConfig::builder().failure_threshold(5).build();
    // Either the namespace `shop:pay` is refused at start, or it stays apart.
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let eu = registry.get_or_create("eu", cfg.clone());
    let started = Fleet::builder(redis.url())
        .namespace("shop:pay")
        .instance_id("a")
        .sync_interval(SYNC)
        .share(["eu"])
        .start(registry)
        .await;
    let shop = match started {
        Err(breaker_runtime::fleet::FleetError::Invalid(why)) => {
            assert!(why.contains("namespace"), "{why}");
            return;
        }
        Err(e) => panic!("{e}"),
        Ok(fleet) => Instance {
            registry,
            fleet: Some(fleet),
            breaker: eu,
        },
    };
    let other = Instance::start(&redis.url(), "shop", "b", "pay:eu", cfg, 1).await;
    until("both connect", Duration::from_secs(10), || {
        shop.fleet().status().connected && other.fleet().status().connected
    })
    .await;
    shop.fleet().force_open("eu");
    assert_eq!(shop.state(), State::ForcedOpen);
    two_syncs(&shop).await;
    two_syncs(&other).await;
    assert_eq!(
        other.state(),
        State::Closed,
        "another service's breaker was forced open by namespace `shop:pay`"
    );
}

// ---------------------------------------------------------------------------------------
// Hash tags, unicode: names with `{`, `}` or non-ASCII still share (and stay apart).
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_braces_and_unicode_are_shared_and_kept_apart() {
    let Some(redis) = Redis::start() else { return };
    let ns = "rv-{odd}";
    let cfg = BreakerConfig::builder().failure_threshold(2).build();
    let names = ["a}b", "a}c", "{x}", "zahlung-ü-支付"];
    let mut instances = Vec::new();
    for id in ["a", "b"] {
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        for n in names {
            registry.get_or_create(n, cfg.clone());
        }
        let fleet = Fleet::builder(redis.url())
            .namespace(ns)
            .instance_id(id)
            .sync_interval(SYNC)
            .share(names)
            .start(registry)
            .await
            .unwrap();
        instances.push((registry, fleet));
    }
    until("both connect", Duration::from_secs(10), || {
        instances.iter().all(|(_, f)| f.status().connected)
    })
    .await;
    for (k, n) in names.iter().enumerate() {
        let here = instances[0].0.get(n).unwrap();
        for _ in 0..2 {
            let _ = fail(&here).await;
        }
        let there = instances[1].0.get(n).unwrap();
        until(&format!("{n} opens on b"), Duration::from_secs(5), || {
            there.state() == State::Open
        })
        .await;
        // The names not failed yet stay closed on b.
        for m in &names[k + 1..] {
            let st = instances[1].0.get(m).unwrap().state();
            assert_eq!(st, State::Closed, "{m} moved with {n}");
        }
    }
    for (_, f) in instances {
        assert_eq!(f.status().errors, 0, "a sync failed");
        f.shutdown().await;
    }
}

// ---------------------------------------------------------------------------------------
// The script forgotten by Redis (SCRIPT FLUSH: NOSCRIPT on every EVALSHA): the link must
// reload it, and the fleet keep working.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_script_is_loaded_again() {
    let Some(redis) = Redis::start() else { return };
    let cfg = BreakerConfig::builder().failure_threshold(2).build();
    let fleet = three(&redis.url(), "rv-flush", "db", &cfg, 1).await;
    connected(&fleet).await;
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query(&mut redis.client())
        .unwrap();
    for _ in 0..2 {
        let _ = fail(&fleet[0].breaker).await;
    }
    until(
        "all three open after SCRIPT FLUSH",
        Duration::from_secs(5),
        || fleet.iter().all(|i| i.state() == State::Open),
    )
    .await;
    until("every link is up", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.fleet().status().connected)
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Controls: "act here at once and on every other instance at its next sync". One asked
// while Redis is down must not be lost, and must be applied once: a later control wins.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_asked_while_redis_is_down_arrives_once_it_is_back() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let cfg = BreakerConfig::builder().failure_threshold(5).build();
    let fleet = three(&redis.url(), "rv-ctl-down", "db", &cfg, 1).await;
    connected(&fleet).await;
    redis.kill();
    until("every link is lost", Duration::from_secs(5), || {
        fleet.iter().all(|i| !i.fleet().status().connected)
    })
    .await;
    fleet[0].fleet().force_open("db");
    assert_eq!(fleet[0].state(), State::ForcedOpen, "here at once");
    assert_eq!(fleet[1].state(), State::Closed);
    redis.restart();
    until("forced open everywhere", Duration::from_secs(10), || {
        fleet.iter().all(|i| i.state() == State::ForcedOpen)
    })
    .await;
    fleet[1].fleet().close("db");
    until("closed everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::Closed)
    })
    .await;
    for i in &fleet {
        two_syncs(i).await;
    }
    assert!(
        fleet.iter().all(|i| i.state() == State::Closed),
        "the old force came back"
    );
}

// ---------------------------------------------------------------------------------------
// A control racing an automatic open: a fleet-wide close asked while instances open.
// Whatever the order, the fleet must end in one state on every instance.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_racing_an_open_leaves_every_instance_agreeing() {
    let Some(redis) = Redis::start() else { return };
    let ns = "rv-race";
    let cfg = one_probe(Duration::from_secs(30), Duration::from_secs(30));
    let fleet = three(&redis.url(), ns, "db", &cfg, 1).await;
    connected(&fleet).await;
    for round in 0..5 {
        for _ in 0..2 {
            let _ = fail(&fleet[round % 3].breaker).await;
        }
        fleet[(round + 1) % 3].fleet().close("db");
        for i in &fleet {
            two_syncs(i).await;
        }
        for i in &fleet {
            two_syncs(i).await;
        }
        let want = match fleet_state(&redis, ns, "db").as_deref() {
            Some("open") => State::Open,
            _ => State::Closed,
        };
        let states: Vec<State> = fleet.iter().map(Instance::state).collect();
        assert!(
            states.iter().all(|&s| s == want),
            "round {round}: fleet {want:?}, instances {states:?}"
        );
        fleet[0].fleet().close("db");
        until("closed everywhere", Duration::from_secs(5), || {
            fleet.iter().all(|i| i.state() == State::Closed)
        })
        .await;
    }
}

// ---------------------------------------------------------------------------------------
// Durations at their extremes: a year (the most a setting takes) must not break the script
// (TTL four times the longest, deadlines in ms) for this breaker or the fleet's others.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn year_long_timeouts_still_sync() {
    let Some(redis) = Redis::start() else { return };
    let year = Duration::from_secs(365 * 86_400);
    let cfg = BreakerConfig::builder()
        .reset_timeout(year)
        .half_open_timeout(year)
        .window(year)
        .failure_rate(0.5)
        .minimum_calls(4)
        .build();
    let fleet = three(&redis.url(), "rv-year", "db", &cfg, 1).await;
    connected(&fleet).await;
    for i in &fleet[..2] {
        let _ = fail(&i.breaker).await;
        let _ = ok(&i.breaker).await;
    }
    until(
        "the pooled window opens all three",
        Duration::from_secs(5),
        || fleet.iter().all(|i| i.state() == State::Open),
    )
    .await;
    assert!(fleet.iter().all(|i| i.fleet().status().errors == 0));
    fleet[2].fleet().close("db");
    until("closed everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::Closed)
    })
    .await;
    let ttl: i64 = redis.client().pttl("{rv-year:db}:state").unwrap();
    assert!(ttl > 0, "{ttl}");
}

/// Zero reset timeout (allowed: probes at once): the fleet still closes on a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_reset_timeout_never_wedges() {
    let Some(redis) = Redis::start() else { return };
    let cfg = one_probe(Duration::ZERO, Duration::from_millis(500));
    let fleet = three(&redis.url(), "rv-zero", "db", &cfg, 1).await;
    connected(&fleet).await;
    for _ in 0..2 {
        let _ = fail(&fleet[0].breaker).await;
    }
    // Traffic everywhere, dependency healthy: every instance closes, whatever the fleet did.
    closed_by_healthy_traffic("all three closed", &fleet).await;
    for i in &fleet {
        two_syncs(i).await;
    }
    assert!(fleet.iter().all(|i| i.state() == State::Closed));
}

// ---------------------------------------------------------------------------------------
// sync_interval at its minimum (10 ms): accepted, so it must work.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shortest_sync_interval_trips_together() {
    let Some(redis) = Redis::start() else { return };
    let cfg = one_probe(Duration::from_secs(30), Duration::from_secs(30));
    let mut fleet = Vec::new();
    for id in ["a", "b", "c"] {
        fleet.push(
            Instance::start_with(
                &redis.url(),
                "rv-10ms",
                id,
                "db",
                cfg.clone(),
                1,
                Duration::from_millis(10),
            )
            .await,
        );
    }
    connected(&fleet).await;
    for _ in 0..2 {
        let _ = fail(&fleet[0].breaker).await;
    }
    until("all three open", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::Open)
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// A breaker removed and made again under its name while shared: the new one follows the
// fleet (it is a breaker of the registry), and a lease the old one held does not wedge.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaker_made_again_while_shared_follows_the_fleet() {
    let Some(redis) = Redis::start() else { return };
    let cfg = one_probe(Duration::from_millis(400), Duration::from_secs(30));
    let mut fleet = three(&redis.url(), "rv-remade", "db", &cfg, 1).await;
    tripped_by_the_first(&fleet).await;
    until("one instance half-opens", Duration::from_secs(10), || {
        !half_open(&fleet).is_empty()
    })
    .await;
    // The holder's breaker is replaced mid-probe (an operator's remove, a reload).
    let holder = half_open(&fleet)[0];
    fleet[holder].registry.remove("db");
    fleet[holder].breaker = fleet[holder].registry.get_or_create("db", cfg.clone());
    assert_eq!(fleet[holder].state(), State::Closed);
    // The new breaker follows the fleet's open, and the fleet's probe still comes.
    until(
        "a probe is let in somewhere",
        Duration::from_secs(10),
        || fleet.iter().any(|i| i.state() == State::HalfOpen),
    )
    .await;
    closed_by_healthy_traffic("healthy traffic closes the whole fleet", &fleet).await;
}

// ---------------------------------------------------------------------------------------
// min_instances above the fleet's size: the fleet never opens, and every instance goes on
// alone, "exactly as without fleet mode" (opens, probes, closes) — no wedge.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_instances_above_the_fleet_size_leaves_each_instance_alone() {
    let Some(redis) = Redis::start() else { return };
    let ns = "rv-min5";
    let cfg = one_probe(Duration::from_millis(300), Duration::from_secs(30));
    let fleet = three(&redis.url(), ns, "db", &cfg, 5).await;
    connected(&fleet).await;
    for i in &fleet[..2] {
        for _ in 0..2 {
            let _ = fail(&i.breaker).await;
        }
    }
    for i in &fleet {
        two_syncs(i).await;
    }
    assert_eq!(fleet[2].state(), State::Closed, "two opens of five needed");
    assert_eq!(fleet_state(&redis, ns, "db").as_deref(), Some("closed"));
    closed_by_healthy_traffic("each recovers alone", &fleet).await;
}

// ---------------------------------------------------------------------------------------
// The lease holder's breaker is forced open here mid-probe (an operator on that instance):
// the fleet's probe must pass to another instance, and its verdict close the others.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_forced_open_locally_mid_probe_hands_the_probe_over() {
    let Some(redis) = Redis::start() else { return };
    let cfg = one_probe(Duration::from_millis(300), Duration::from_millis(600));
    let fleet = three(&redis.url(), "rv-forced-holder", "db", &cfg, 1).await;
    tripped_by_the_first(&fleet).await;
    until("one instance half-opens", Duration::from_secs(10), || {
        !half_open(&fleet).is_empty()
    })
    .await;
    let holder = half_open(&fleet)[0];
    fleet[holder].breaker.force_open();
    let others: Vec<usize> = (0..3).filter(|&k| k != holder).collect();
    closed_by_healthy_traffic(
        "the others close on healthy traffic",
        others.iter().map(|&k| &fleet[k]),
    )
    .await;
    assert_eq!(
        fleet[holder].state(),
        State::ForcedOpen,
        "a manual state stays"
    );
}

// ---------------------------------------------------------------------------------------
// The lease holder's breaker closed by hand on its own instance (CircuitBreaker::close, not
// fleet.close) is that instance's business: the fleet's other instances keep rejecting
// until a probe's verdict ("others keep rejecting until its verdict").
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_closed_by_hand_does_not_close_the_fleet_without_a_probe() {
    let Some(redis) = Redis::start() else { return };
    let cfg = one_probe(Duration::from_millis(300), Duration::from_millis(1500));
    let fleet = three(&redis.url(), "rv-closed-holder", "db", &cfg, 1).await;
    tripped_by_the_first(&fleet).await;
    until("one instance half-opens", Duration::from_secs(10), || {
        !half_open(&fleet).is_empty()
    })
    .await;
    let holder = half_open(&fleet)[0];
    fleet[holder].breaker.close();
    for i in &fleet {
        two_syncs(i).await;
    }
    let others: Vec<State> = (0..3)
        .filter(|&k| k != holder)
        .map(|k| fleet[k].state())
        .collect();
    assert!(
        others.iter().all(|&s| s == State::Open),
        "one instance's manual close closed the fleet: {others:?}"
    );
    // The probe still comes: once the lease runs out another instance probes, and its
    // verdict closes the fleet.
    let others: Vec<usize> = (0..3).filter(|&k| k != holder).collect();
    closed_by_healthy_traffic(
        "another instance probes and closes the fleet",
        others.iter().map(|&k| &fleet[k]),
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// share_all with a Family: "per-key breakers (Family) included".
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_all_shares_family_members_made_after_start() {
    let Some(redis) = Redis::start() else { return };
    let cfg = BreakerConfig::builder().failure_threshold(2).build();
    let mut regs = Vec::new();
    for id in ["a", "b"] {
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        let fleet = Fleet::builder(redis.url())
            .namespace("rv-family")
            .instance_id(id)
            .sync_interval(SYNC)
            .share_all()
            .start(registry)
            .await
            .unwrap();
        regs.push((registry, fleet));
    }
    let a = regs[0].0.family("tenants", cfg.clone()).get("acme:eu");
    let b = regs[1].0.family("tenants", cfg.clone()).get("acme:eu");
    let b_other = regs[1].0.family("tenants", cfg).get("globex");
    until("both connect", Duration::from_secs(10), || {
        regs.iter().all(|(_, f)| f.status().connected)
    })
    .await;
    for _ in 0..2 {
        let _ = fail(&a).await;
    }
    until("the member opens on b", Duration::from_secs(5), || {
        b.state() == State::Open
    })
    .await;
    assert_eq!(b_other.state(), State::Closed);
}

// ---------------------------------------------------------------------------------------
// "No call waits on Redis": while the lease holder probes and Redis freezes, calls on every
// instance still answer at once (rejections included).
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_stay_fast_while_redis_is_paused_mid_probe() {
    let Some(redis) = Redis::start() else { return };
    let cfg = one_probe(Duration::from_millis(300), Duration::from_secs(30));
    let fleet = three(&redis.url(), "rv-paused", "db", &cfg, 1).await;
    connected(&fleet).await;
    for _ in 0..2 {
        let _ = fail(&fleet[0].breaker).await;
    }
    until("one instance half-opens", Duration::from_secs(10), || {
        !half_open(&fleet).is_empty()
    })
    .await;
    redis.signal("-STOP");
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) {
        for i in &fleet {
            let (_, took) = timed(ok(&i.breaker)).await;
            assert!(took < Duration::from_millis(50), "a call took {took:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    redis.signal("-CONT");
}

// ---------------------------------------------------------------------------------------
// Controls: "act here at once and on every other instance at its next sync". A fleet-wide
// close followed, before a slow instance's next sync, by an automatic open (the dependency
// is still down): the slow instance never sees the close's generation, only the open's.
// It must not stay forced open for ever.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_superseded_before_a_slow_instance_syncs_still_ends_its_forced_open() {
    let Some(redis) = Redis::start() else { return };
    let ns = "rv-superseded";
    let cfg = one_probe(Duration::from_secs(30), Duration::from_secs(30));
    let slow = Instance::start_with(
        &redis.url(),
        ns,
        "slow",
        "db",
        cfg.clone(),
        1,
        Duration::from_secs(4),
    )
    .await;
    let b = Instance::start(&redis.url(), ns, "b", "db", cfg.clone(), 1).await;
    let c = Instance::start(&redis.url(), ns, "c", "db", cfg, 1).await;
    until("every fleet connects", Duration::from_secs(10), || {
        [&slow, &b, &c].iter().all(|i| i.fleet().status().connected)
    })
    .await;
    b.fleet().force_open("db");
    until("forced open everywhere", Duration::from_secs(10), || {
        [&slow, &b, &c]
            .iter()
            .all(|i| i.state() == State::ForcedOpen)
    })
    .await;
    // Right after the slow instance's sync: close, then c re-opens on its own failures.
    synced_since(&slow, Instant::now(), Duration::from_secs(10)).await;
    b.fleet().close("db");
    until("c closes", Duration::from_secs(5), || {
        c.state() == State::Closed
    })
    .await;
    for _ in 0..2 {
        let _ = fail(&c.breaker).await;
    }
    until("the fleet opens", Duration::from_secs(5), || {
        fleet_state(&redis, ns, "db").as_deref() == Some("open")
    })
    .await;
    // It takes the fleet's state whole: open, as c is.
    until(
        "the slow instance leaves the fleet's old forced open for its open",
        Duration::from_secs(15),
        || slow.state() == State::Open,
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// `fleet.status()` "shows the link": a fleet with nothing to share yet (share_all over a
// registry whose breakers come later, or a name not made yet) still has a link to Redis.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_with_no_breaker_yet_shows_its_link() {
    let Some(redis) = Redis::start() else { return };
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let fleet = Fleet::builder(redis.url())
        .namespace("rv-empty-share")
        .sync_interval(SYNC)
        .share_all()
        .start(registry)
        .await
        .unwrap();
    until("the link shows as up", Duration::from_secs(5), || {
        fleet.status().connected && fleet.status().last_sync.is_some()
    })
    .await;
    fleet.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// min_instances counts "distinct instances". One process that starts two fleets on its
// registry (a library and the application each start one, default instance ids) is one
// instance: its one open must not pass for two.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_with_two_fleets_is_not_two_instances() {
    let Some(redis) = Redis::start() else { return };
    let ns = "rv-twice";
    let cfg = one_probe(Duration::from_secs(30), Duration::from_secs(30));
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let breaker = registry.get_or_create("db", cfg.clone());
    let mut fleets = Vec::new();
    for _ in 0..2 {
        let started = Fleet::builder(redis.url())
            .namespace(ns)
            .sync_interval(SYNC)
            .min_instances(2)
            .share(["db"])
            .start(registry)
            .await;
        match started {
            Ok(f) => fleets.push(f),
            // Refusing the second fleet keeps the promise too.
            Err(breaker_runtime::fleet::FleetError::Invalid(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    until("the fleets connect", Duration::from_secs(10), || {
        fleets.iter().all(|f| f.status().connected)
    })
    .await;
    let other = Instance::start(&redis.url(), ns, "other", "db", cfg, 2).await;
    connected(std::slice::from_ref(&other)).await;
    for _ in 0..2 {
        let _ = fail(&breaker).await;
    }
    assert_eq!(breaker.state(), State::Open);
    two_syncs(&other).await;
    two_syncs(&other).await;
    assert_eq!(
        (fleet_state(&redis, ns, "db").as_deref(), other.state()),
        (Some("closed"), State::Closed),
        "one process's open passed for two instances"
    );
    // Once stopped, a fleet leaves its place to a new one.
    for f in fleets {
        f.shutdown().await;
    }
    let again = Fleet::builder(redis.url())
        .namespace(ns)
        .sync_interval(SYNC)
        .share(["db"])
        .start(registry)
        .await;
    assert!(again.is_ok(), "{again:?}");
}

// ---------------------------------------------------------------------------------------
// "a failover that loses writes loses at most the last syncs, which the next ones redo",
// and "a forced open is a state": a fleet-wide force outlives a Redis restarted empty, so
// an instance started afterwards joins it, as it would have before.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_force_outlives_a_redis_restarted_empty() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let ns = "rv-force-empty";
    let cfg = one_probe(Duration::from_secs(30), Duration::from_secs(30));
    let fleet = three(&redis.url(), ns, "db", &cfg, 1).await;
    connected(&fleet).await;
    fleet[0].fleet().force_open("db");
    until("forced open everywhere", Duration::from_secs(5), || {
        fleet.iter().all(|i| i.state() == State::ForcedOpen)
    })
    .await;
    redis.kill();
    until("every link is lost", Duration::from_secs(5), || {
        fleet.iter().all(|i| !i.fleet().status().connected)
    })
    .await;
    redis.restart();
    until(
        "the fleet's force is redone",
        Duration::from_secs(5),
        || fleet_state(&redis, ns, "db").as_deref() == Some("forced"),
    )
    .await;
    let late = Instance::start(&redis.url(), ns, "late", "db", cfg, 1).await;
    until(
        "the newcomer joins the force",
        Duration::from_secs(5),
        || late.state() == State::ForcedOpen,
    )
    .await;
    assert!(fleet.iter().all(|i| i.state() == State::ForcedOpen));
}

/// The script alone: a `reforce` (an instance repeating a force Redis lost) is fenced like a
/// report, so a stale one never undoes a control made since.
#[test]
fn a_stale_reforce_moves_nothing() {
    let Some(redis) = Redis::start() else { return };
    let mut con = redis.client();
    let run = |con: &mut redis::Connection, seen: u64, event: &str| -> (u64, String) {
        let keys = ["state", "window", "opens", "lease"].map(|k| format!("{{rv-reforce:db}}:{k}"));
        let r: (u64, String, u64, u64, u64, String) =
            redis::Script::new(include_str!("../../src/fleet/sync.lua"))
                .key(keys.as_slice())
                .arg("a")
                .arg(seen)
                .arg(event)
                .arg(0)
                .arg([0, 0, 0].as_slice())
                .arg(10)
                .arg(-1)
                .arg(-1)
                .arg(0)
                .arg(1)
                .arg(1)
                .arg(60_000)
                .arg(1_000)
                .arg(60_000)
                .arg(60_000)
                .arg("0")
                .arg("breaker-fleet:rv-reforce")
                .invoke(con)
                .expect("the script runs");
        (r.0, r.1)
    };
    let (g, state) = run(&mut con, 0, "");
    assert_eq!(state, "closed");
    // Someone closed since the state was fresh: a reforce decided on g is stale.
    let (g1, _) = run(&mut con, g, "close");
    assert_eq!(run(&mut con, g, "reforce"), (g1, "closed".to_owned()));
    // On the current generation it forces.
    assert_eq!(run(&mut con, g1, "reforce"), (g1 + 1, "forced".to_owned()));
}

// ---------------------------------------------------------------------------------------
// One breaker's script failing (a key of the wrong type: another program wrote it, an
// operator's mistake) must not unshare the fleet's other breakers: each breaker is synced
// by its own script.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_breakers_failing_script_leaves_the_others_shared() {
    let Some(redis) = Redis::start() else { return };
    let ns = "rv-poison";
    let cfg = BreakerConfig::builder().failure_threshold(2).build();
    let _: () = redis
        .client()
        .set(format!("{{{ns}:bad}}:state"), "not a hash")
        .unwrap();
    let mut regs = Vec::new();
    for id in ["a", "b"] {
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        registry.get_or_create("good", cfg.clone());
        registry.get_or_create("bad", cfg.clone());
        let fleet = Fleet::builder(redis.url())
            .namespace(ns)
            .instance_id(id)
            .sync_interval(SYNC)
            .share(["good", "bad"])
            .start(registry)
            .await
            .unwrap();
        regs.push((registry, fleet));
    }
    let here = regs[0].0.get("good").unwrap();
    let there = regs[1].0.get("good").unwrap();
    // Wait for both fleets to have tried a sync (connected or not).
    until("both fleets tried a sync", Duration::from_secs(10), || {
        regs.iter()
            .all(|(_, f)| f.status().connected || f.status().errors > 0)
    })
    .await;
    for _ in 0..2 {
        let _ = fail(&here).await;
    }
    until(
        "`good` opens on b despite `bad`",
        Duration::from_secs(5),
        || there.state() == State::Open,
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Shutdown with Redis frozen (SIGSTOP): "fleet.shutdown().await" must not hang on it, and
// the breakers go on alone.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_on_a_frozen_redis() {
    let Some(redis) = Redis::start() else { return };
    let mut i = Instance::start_with(
        &redis.url(),
        "rv-frozen-stop",
        "a",
        "db",
        one_probe(Duration::from_secs(30), Duration::from_secs(30)),
        1,
        Duration::from_millis(250),
    )
    .await;
    connected(std::slice::from_ref(&i)).await;
    redis.signal("-STOP");
    let ((), took) = timed(i.fleet.take().unwrap().shutdown()).await;
    redis.signal("-CONT");
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    assert!(ok(&i.breaker).await.is_ok());
}

// ---------------------------------------------------------------------------------------
// The admin router: a fleet dropped (not shut down) shares nothing any more, so the
// snapshot carries no "fleet" and controls act on this instance only.
// ---------------------------------------------------------------------------------------

#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_fleet_leaves_the_admin_router() {
    use axum::body::Body;
    use axum::http::{Method, Request};
    use tower::ServiceExt;
    let Some(redis) = Redis::start() else { return };
    let cfg = BreakerConfig::builder().failure_threshold(5).build();
    let [mut a, b, _c] = three(&redis.url(), "rv-admin-drop", "db", &cfg, 1).await;
    connected(std::slice::from_ref(&a)).await;
    let router = breaker_runtime::admin::AdminRouter::new(a.registry).into_router();
    let ask = |method: Method, path: &str| {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&body).unwrap()
        }
    };
    let detail = ask(Method::GET, "/breakers/db").await;
    assert_eq!(detail["fleet"]["namespace"], "rv-admin-drop", "{detail}");
    drop(a.fleet.take());
    let detail = ask(Method::GET, "/breakers/db").await;
    assert!(detail.get("fleet").is_none(), "{detail}");
    ask(Method::POST, "/breakers/db/open").await;
    assert_eq!(a.state(), State::ForcedOpen);
    two_syncs(&b).await;
    two_syncs(&b).await;
    assert_eq!(
        b.state(),
        State::Closed,
        "a dropped fleet still sent a control"
    );
}

// ---------------------------------------------------------------------------------------
// Settings reloaded while shared (a config file reload on one instance shortens its reset
// timeout): "Holding open": a breaker following the fleet's open stays open, renewed each
// sync, "never past its reset timeout", so that the fleet's probe comes first.
// ---------------------------------------------------------------------------------------

#[cfg(feature = "config")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_shortening_the_reset_timeout_keeps_following_the_fleet() {
    let Some(redis) = Redis::start() else { return };
    let cfg = one_probe(Duration::from_secs(30), Duration::from_secs(30));
    let fleet = three(&redis.url(), "rv-reload", "db", &cfg, 1).await;
    tripped_by_the_first(&fleet).await;
    breaker_runtime::config::load_str_into(
        fleet[2].registry,
        "[breakers.db]\nreset_timeout = \"1s\"\n",
    )
    .expect("a valid reload");
    assert_eq!(
        fleet[2].breaker.settings().reset_timeout,
        Duration::from_secs(1)
    );
    // Three of its reset timeouts: it never probes on its own while the fleet holds open.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        two_syncs(&fleet[2]).await;
        assert_eq!(fleet[2].state(), State::Open, "probed on its own");
    }
}
