//! Three instances as three real OS processes, and a probe holder killed for real.
//!
//! The other fleet tests run their instances in one process, so an instance that "dies" is a
//! fleet shut down politely. Here each instance is a process of its own, and the probe holder
//! dies of SIGKILL while its probe hangs: no code of its own runs any more (no drop, no
//! shutdown, no verdict), its lease stays in Redis under a dead owner, and only the lease
//! running out (`half_open_timeout`) lets another instance probe.
//!
//! The test binary runs itself again for each instance: `current_exe()` with the arguments
//! that select the one hidden test [`child_instance`], and the instance's settings in the
//! environment. A child answers simple line commands on its stdin, one line each on stdout:
//!
//! - `fail N`: N calls that fail;
//! - `ok`: one call that succeeds (if the breaker lets it through);
//! - `probe-hang`: a call whose future never ends (a probe that hangs), answered once the call
//!   reached the dependency or was rejected;
//! - `state?`: nothing but the answer;
//!
//! and every answer is `fleet-child <State> <calls that reached the dependency> <connected>`.

use crate::server::Redis;
use crate::{one_probe, Instance, SYNC};
use breaker_runtime::{CircuitBreaker, State};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The hidden test a child runs, and the variables that make it an instance.
const CHILD_TEST: &str = "processes::child_instance";
const ENV_ID: &str = "FLEET_CHILD_ID";
const ENV_URL: &str = "FLEET_CHILD_URL";
const ENV_NAMESPACE: &str = "FLEET_CHILD_NAMESPACE";
const ENV_RESET_MS: &str = "FLEET_CHILD_RESET_MS";
const ENV_LEASE_MS: &str = "FLEET_CHILD_LEASE_MS";
/// Marks the lines of the protocol among libtest's own on the child's stdout.
const ANSWER: &str = "fleet-child";

/// The breaker every instance shares, and how many instances' opens open the fleet.
const NAME: &str = "db";
const MIN_INSTANCES: u32 = 2;

#[test]
fn three_processes_trip_together_and_a_killed_probe_holder_hands_over_when_its_lease_ends() {
    let Some(redis) = Redis::start() else { return };
    let (reset, lease) = (Duration::from_secs(1), Duration::from_secs(1));
    let mut children: Vec<Proc> = ["a", "b", "c"]
        .iter()
        .map(|id| Proc::spawn(id, &redis.url(), reset, lease))
        .collect();
    wait_for("every instance connects", Duration::from_secs(10), || {
        children.iter_mut().all(|c| c.ask("state?").connected)
    });

    // Trip together: two instances see the dependency fail (min_instances = 2), all open.
    children[0].ask("fail 2");
    let start = Instant::now();
    children[1].ask("fail 2");
    wait_for("all three open", Duration::from_secs(10), || {
        children.iter_mut().all(|c| c.ask("state?").is(State::Open))
    });
    let took = start.elapsed();
    eprintln!("all three open {took:?} after the second instance's open");
    // The contract: within two sync intervals (200 ms); a wide margin for a loaded machine.
    assert!(took <= Duration::from_secs(2), "took {took:?}");

    // After the open period, every instance tries a probe that hangs; exactly one gets it.
    let before: Vec<u64> = children
        .iter_mut()
        .map(|c| c.ask("state?").reached)
        .collect();
    let mut holder = None;
    wait_for("one instance probes", Duration::from_secs(10), || {
        holder = (0..3).find(|&k| children[k].ask("probe-hang").reached > before[k]);
        holder.is_some()
    });
    let holder = holder.unwrap();
    let probed_at = Instant::now();
    let others: Vec<usize> = (0..3).filter(|&k| k != holder).collect();
    for &k in &others {
        let now = children[k].ask("probe-hang");
        let id = &children[k].id;
        assert_eq!(
            now.reached, before[k],
            "instance {id} let a call through while another probes"
        );
        assert!(
            now.is(State::Open),
            "instance {id} waits for the fleet's probe"
        );
    }
    assert_eq!(
        children[holder].ask("state?").reached,
        before[holder] + 1,
        "one probe"
    );

    // The holder dies mid-probe, for real: its lease stays in Redis under a dead owner.
    children[holder].kill();

    // Only once the lease runs out does one of the two others probe; its success closes both.
    let mut prober = None;
    wait_for("another instance probes", Duration::from_secs(10), || {
        prober = others
            .iter()
            .copied()
            .find(|&k| children[k].ask("ok").reached > before[k]);
        prober.is_some()
    });
    let since_probe = probed_at.elapsed();
    eprintln!("the next probe came {since_probe:?} after the killed holder's");
    // Not before the lease runs out (it began a little before the probe), and not long after:
    // an instance takes it at its next sync (100 ms), with a wide margin for a loaded machine.
    assert!(
        since_probe >= lease / 2 && since_probe <= lease + Duration::from_secs(2),
        "the lease handed over {since_probe:?} after the probe; it lasts {lease:?}"
    );
    let prober = prober.unwrap();
    for &k in &others {
        let reached = children[k].ask("state?").reached - before[k];
        let id = &children[k].id;
        assert_eq!(
            reached,
            u64::from(k == prober),
            "instance {id}: one probe after the kill"
        );
    }
    wait_for(
        "the probe's success closes both",
        Duration::from_secs(5),
        || {
            others
                .iter()
                .all(|&k| children[k].ask("state?").is(State::Closed))
        },
    );
}

/// One instance in a process of its own, run by the test above through the test binary.
///
/// It is `#[ignore]`d and returns at once without [`ENV_ID`]: a plain `cargo test` skips it,
/// and `--ignored` or `--include-ignored` run it as a no-op; only a parent that sets the
/// variables turns it into an instance. It ends when its stdin closes (the parent is gone).
#[test]
#[ignore = "a child process of the test above; does nothing when run by hand"]
fn child_instance() {
    let Ok(id) = std::env::var(ENV_ID) else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"));
    let ms = |name: &str| Duration::from_millis(var(name).parse().expect("milliseconds"));
    let config = one_probe(ms(ENV_RESET_MS), ms(ENV_LEASE_MS));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let instance = rt.block_on(Instance::start_with(
        &var(ENV_URL),
        &var(ENV_NAMESPACE),
        &id,
        NAME,
        config,
        MIN_INSTANCES,
        SYNC,
    ));
    let breaker = instance.breaker.clone();
    // Calls that reached the dependency.
    let reached = Arc::new(AtomicU64::new(0));
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin reads");
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["fail", n] => {
                for _ in 0..n.parse::<u32>().expect("a count") {
                    let _ = rt.block_on(call(&breaker, &reached, Err("down")));
                }
            }
            ["ok"] => {
                let _ = rt.block_on(call(&breaker, &reached, Ok(())));
            }
            ["probe-hang"] => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let (b, reached) = (breaker.clone(), reached.clone());
                rt.spawn(async move {
                    let _ = b
                        .call(|| async move {
                            reached.fetch_add(1, SeqCst);
                            let _ = tx.send(());
                            std::future::pending::<Result<(), &str>>().await
                        })
                        .await;
                });
                // Sent: the call reached the dependency; dropped unsent: it was rejected.
                let _ = rt.block_on(rx);
            }
            ["state?"] => {}
            _ => panic!("unknown command {line:?}"),
        }
        let connected = instance.fleet().status().connected;
        let answer = format!(
            "{ANSWER} {:?} {} {connected}",
            breaker.state(),
            reached.load(SeqCst)
        );
        // Straight to stdout: libtest's output capture cannot swallow it.
        let mut out = std::io::stdout().lock();
        writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .expect("stdout writes");
    }
}

/// A call through `breaker` that reaches the dependency and ends with `result`.
async fn call(
    breaker: &CircuitBreaker,
    reached: &AtomicU64,
    result: Result<(), &'static str>,
) -> Result<(), breaker_runtime::CallError<&'static str>> {
    breaker
        .call(|| async {
            reached.fetch_add(1, SeqCst);
            result
        })
        .await
}

/// A child's answer.
struct Answer {
    state: String,
    reached: u64,
    connected: bool,
}

impl Answer {
    fn is(&self, state: State) -> bool {
        self.state == format!("{state:?}")
    }
}

/// A child process running one instance; killed (SIGKILL) when dropped, so that a failing
/// test leaves no process behind.
struct Proc {
    id: String,
    child: Child,
    stdin: ChildStdin,
    /// The protocol's lines from the child's stdout, read by a thread of their own so that
    /// a wait for an answer has a bound.
    answers: mpsc::Receiver<String>,
}

impl Proc {
    fn spawn(id: &str, url: &str, reset: Duration, lease: Duration) -> Proc {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut child = Command::new(exe)
            .args(["--exact", CHILD_TEST, "--ignored", "--nocapture"])
            .env(ENV_ID, id)
            .env(ENV_URL, url)
            .env(ENV_NAMESPACE, "processes")
            .env(ENV_RESET_MS, reset.as_millis().to_string())
            .env(ENV_LEASE_MS, lease.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the test binary runs again");
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if line.starts_with(ANSWER) && tx.send(line).is_err() {
                    return;
                }
            }
        });
        Proc {
            id: id.to_owned(),
            child,
            stdin,
            answers,
        }
    }

    /// Sends `command` and waits (10 s at most) for the answer.
    fn ask(&mut self, command: &str) -> Answer {
        let id = &self.id;
        writeln!(self.stdin, "{command}")
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("instance {id} takes {command:?}: {e}"));
        let line = self
            .answers
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("instance {id} answers {command:?}: {e}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, state, reached, connected] = words.as_slice() else {
            panic!("instance {id}: a bad answer {line:?}");
        };
        Answer {
            state: (*state).to_owned(),
            reached: reached.parse().expect("a count"),
            connected: *connected == "true",
        }
    }

    /// SIGKILL, and waits for the process to be gone.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `cond` holds, checking every 10 ms; how long it took, or a panic naming
/// `what` after `bound`.
fn wait_for(what: &str, bound: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if cond() {
            return start.elapsed();
        }
        assert!(start.elapsed() < bound, "not within {bound:?}: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
